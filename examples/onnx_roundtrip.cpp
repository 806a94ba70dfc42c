// ONNX round trip: train a small MLP, export it to ONNX as float and as static int8 (QDQ), and import
// the float graph back; the imported model computes the same outputs.
// Usage: onnx_roundtrip [output folder (default: the system's temporary folder)]
// Run the .onnx files with any ONNX runtime, e.g. ONNX Runtime (docs/interop.md).
#include <cmath>
#include <filesystem>
#include <string>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/io/onnx_export.hpp"
#include "tinyml/io/onnx_import.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/quant/quantize_model.hpp"

using namespace tinyml;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path();
  manual_seed(0);
  data::TensorDataset spirals = data::spirals(/*n_per_class=*/200, /*n_classes=*/3, /*noise=*/0.1f);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(2, 64), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(64, 64),
      std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(64, 3));
  optim::Adam adam(model->parameters(), {.lr = 1e-2});
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    nn::CrossEntropyLoss()((*model)(spirals.data()), spirals.targets()).backward();
    adam.step();
  }
  model->eval();
  NoGradGuard no_grad;

  // 1. Float: one Gemm per Linear; the batch dimension stays symbolic ("N").
  const std::string float_path = (dir / "spirals_fp32.onnx").string();
  io::export_onnx(*model, float_path);
  auto back = io::import_onnx(float_path);
  const Tensor y = (*model)(spirals.data()), y_back = (*back)(spirals.data());
  const float max_diff = (y - y_back).abs().max().item();
  fmt::print("float:  {} ({} bytes), imported back: max |difference| {:.3g}\n", float_path,
             fs::file_size(float_path), max_diff);

  // 2. Static int8 in QDQ form: QuantizeLinear/DequantizeLinear around each Linear's input, the
  // weight per output channel and the int32 bias through DequantizeLinear.
  quant::QuantConfig config;
  config.mode = quant::QuantMode::Static;
  quant::quantize_model(*model, config, {spirals.data()});
  const std::string int8_path = (dir / "spirals_int8_static.onnx").string();
  io::export_onnx(*model, int8_path);
  const float acc = eq((*model)(spirals.data()).argmax(1), spirals.targets()).mean().item();
  fmt::print("int8:   {} ({} bytes), tinyml accuracy {:.1f}%\n", int8_path, fs::file_size(int8_path),
             100.0f * acc);
  return max_diff <= 1e-5f ? 0 : 1;
}
