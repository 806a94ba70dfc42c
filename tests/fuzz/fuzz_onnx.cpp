// Fuzz target: ONNX import (tinyml/io/onnx_import.hpp) on bytes in memory: protobuf parsing, the
// graph walk, initializers in raw_data or float_data.
//
// A model that imports is also run on two rows, and exported again: export must accept every
// model import builds (the same layers), or refuse it with tinyml::Error.
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_common.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/io/onnx_export.hpp"
#include "tinyml/io/onnx_import.hpp"
#include "tinyml/nn/linear.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<tinyml::nn::Sequential> model;
  if (!tinyml::fuzz::accepts([&] { model = tinyml::io::import_onnx_bytes({data, size}); })) return 0;
  FUZZ_CHECK(model != nullptr);
  int64_t width = 0;
  for (const auto& [name, m] : model->named_children())
    if (const auto* l = dynamic_cast<const tinyml::nn::Linear*>(m.get())) {
      width = l->in_features();
      break;
    }
  // Import needs a Linear, and every weight value is in the file.
  FUZZ_CHECK(width > 0 && static_cast<size_t>(width) <= size);
  tinyml::NoGradGuard no_grad;
  tinyml::Generator gen(0);
  const tinyml::Tensor x = tinyml::Tensor::randn({2, width}, gen);
  if (!tinyml::fuzz::accepts([&] { (void)(*model)(x); })) return 0;
  (void)tinyml::fuzz::accepts([&] { (void)tinyml::io::export_onnx_bytes(*model); });
  return 0;
}
