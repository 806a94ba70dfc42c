// Milestone 09: 4-bit weights on Fashion-MNIST — post-training quantization against QAT, then per-layer
// weight errors.
#include <fmt/format.h>

#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/quant/precision.hpp"
#include "tinyml/quant/qat.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;

namespace {

std::shared_ptr<nn::Sequential> make_mlp(Generator& gen) { return train::make_mlp({784, 128, 10}, gen); }

void fit(nn::Module& model, data::DataLoader& loader, int epochs, double lr) {
  optim::Adam opt(model.parameters(), {.lr = lr});
  for (int e = 0; e < epochs; ++e) data::train_epoch(model, opt, loader);
  model.eval();
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (!data::FashionMNIST::available()) {
    fmt::print(stderr, "Fashion-MNIST not found in {}\n", data::FashionMNIST::default_root());
    return 1;
  }
  const train::DataSplits data =
      train::load_dataset("fashion-mnist", /*train=*/true, quick ? std::optional<size_t>(4000) : std::nullopt,
                          quick ? std::optional<size_t>(2000) : std::nullopt);
  const data::Dataset& test = *data.test;
  data::DataLoader loader(data.train, {.batch_size = 128, .shuffle = true, .seed = 0});

  Generator gen(0);
  auto model = make_mlp(gen);
  fit(*model, loader, quick ? 1 : 3, 1e-3);
  fmt::print("fp32                      {:.2f}%\n", 100.0 * train::accuracy(*model, test));

  // Post-training: 4-bit weights, no retraining.
  auto ptq = make_mlp(gen);
  ptq->load_state_dict(model->state_dict());
  quant::QuantConfig config;
  config.mode = quant::QuantMode::WeightOnly;
  config.weight_spec = {4, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  quant::quantize_model(*ptq, config);
  fmt::print("int4 post-training        {:.2f}%\n", 100.0 * train::accuracy(*ptq, test));

  // Quantization-aware: start from the float model, train with 4-bit rounding in the loop.
  auto qat = make_mlp(gen);
  qat->load_state_dict(model->state_dict());
  quant::prepare_qat(*qat, quant::qat_config(4));
  fit(*qat, loader, 1, 2e-4);
  fmt::print("int4 quantization-aware   {:.2f}%  (fake-quantized weights and activations)\n\n",
             100.0 * train::accuracy(*qat, test));

  fmt::print("{:<6} {:>5} {:>12} {:>10} {:>10}\n", "layer", "bits", "SNR dB", "fp32 B", "stored B");
  for (const int bits : {8, 4, 2})
    for (const quant::LayerError& e : quant::weight_error_table(*model, bits))
      fmt::print("{:<6} {:>5} {:>12.2f} {:>10} {:>10}\n", e.name, e.bits, e.snr_db, e.fp32_bytes,
                 e.quantized_bytes);
  return 0;
}
