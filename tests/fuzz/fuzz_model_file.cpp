// Fuzz target: whole-model files (tinyml/io/model_file.hpp): float and quantized layers, the module
// tree in the metadata, qparams, packed int4 weights; on bytes in memory.
//
// A model that loads is also run: two rows through forward() in eval mode, twice, which must give
// bit-identical outputs (a read of uninitialised or freed memory rarely repeats itself exactly).
// forward() may refuse the input with tinyml::Error (a file can chain layers whose widths do not
// match); anything else is a finding.
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace {

// The input width of the first Linear or QuantizedLinear, or 3 for a model without one.
int64_t input_width(tinyml::nn::Sequential& model) {
  for (const auto& [name, m] : model.named_modules()) {
    if (const auto* l = dynamic_cast<const tinyml::nn::Linear*>(m.get())) return l->in_features();
    if (const auto* q = dynamic_cast<const tinyml::quant::QuantizedLinear*>(m.get())) return q->in_features();
  }
  return 3;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<tinyml::nn::Sequential> model;
  std::map<std::string, std::string> metadata;
  if (!tinyml::fuzz::accepts([&] { model = tinyml::io::load_model_bytes({data, size}, &metadata); }))
    return 0;
  FUZZ_CHECK(model != nullptr);
  FUZZ_CHECK(tinyml::io::is_model_file(metadata));

  // Every weight is in the file (int4 packs two per byte), so the width is bounded by its size.
  const int64_t width = input_width(*model);
  FUZZ_CHECK(width > 0 && static_cast<size_t>(width) <= 2 * size);
  model->eval();
  tinyml::NoGradGuard no_grad;
  tinyml::Generator gen(0);
  const tinyml::Tensor x = tinyml::Tensor::randn({2, width}, gen);
  std::vector<float> first;
  if (!tinyml::fuzz::accepts([&] { first = (*model)(x).to_vector(); })) return 0;
  const std::vector<float> second = (*model)(x).to_vector();
  FUZZ_CHECK(first.size() == second.size());
  FUZZ_CHECK(first.empty() || std::memcmp(first.data(), second.data(), first.size() * sizeof(float)) == 0);
  return 0;
}
