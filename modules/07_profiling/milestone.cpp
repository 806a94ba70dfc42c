// Milestone 07: profile the Fashion-MNIST MLP in fp32 and with int8 and int4 weights — where the time and the
// bytes go.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/quant/profile.hpp"
#include "tinyml/quant/quantize_model.hpp"

using namespace tinyml;

namespace {

std::shared_ptr<nn::Sequential> mlp() {
  Generator gen(0);
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(784, 256, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(256, 128, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(128, 10, true, gen));
}

quant::ModelProfile quantized(int bits, const Tensor& x, int runs) {
  auto model = mlp();
  quant::QuantConfig config;
  config.mode = quant::QuantMode::WeightOnly;
  config.weight_spec =
      quant::QuantSpec{bits, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  quant::quantize_model(*model, config);
  return quant::profile(*model, x, runs);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int runs = quick ? 2 : 20;
  const Tensor x = Tensor::ones({quick ? 16 : 256, 784});
  const quant::ModelProfile fp32 = quant::profile(*mlp(), x, runs);
  fmt::print("fp32 weights\n{}\n", quant::format_profile(fp32));
  const quant::ModelProfile int8 = quantized(8, x, runs), int4 = quantized(4, x, runs);
  fmt::print("int8 weights (weight-only, per channel)\n{}\n", quant::format_profile(int8));
  fmt::print("int4 weights (weight-only, per channel)\n{}\n", quant::format_profile(int4));
  // The profile of the float model predicts the quantized sizes; the quantized models confirm them.
  const bool ok = fp32.int8_bytes() == int8.bytes() && fp32.int4_bytes() == int4.bytes() &&
                  int4.bytes() < int8.bytes() && int8.bytes() < fp32.bytes() && fp32.flops() == int8.flops();
  fmt::print("model bytes: fp32 {}, int8 {} (predicted {}), int4 {} (predicted {}): {}\n", fp32.bytes(),
             int8.bytes(), fp32.int8_bytes(), int4.bytes(), fp32.int4_bytes(),
             ok ? "as predicted" : "MISMATCH");
  return ok ? 0 : 1;
}
