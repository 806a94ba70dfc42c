// Milestone 08: post-training quantization — the Fashion-MNIST MLP in int8 and int4, real sizes and accuracy.
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
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;

namespace {

std::shared_ptr<nn::Sequential> make_mlp(Generator& gen) { return train::make_mlp({784, 256, 128, 10}, gen); }

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (!data::FashionMNIST::available()) {
    fmt::print(stderr, "Fashion-MNIST not found in {}\n", data::FashionMNIST::default_root());
    return 1;
  }
  const train::DataSplits data =
      train::load_dataset("fashion-mnist", /*train=*/true, quick ? std::optional<size_t>(5000) : std::nullopt,
                          quick ? std::optional<size_t>(2000) : std::nullopt);
  const data::Dataset& test = *data.test;

  Generator gen(0);
  auto model = make_mlp(gen);
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  data::DataLoader loader(data.train, {.batch_size = 128, .shuffle = true, .seed = 0});
  for (int epoch = 0; epoch < (quick ? 1 : 2); ++epoch) data::train_epoch(*model, opt, loader);
  model->eval();
  const double fp32_acc = train::accuracy(*model, test);
  fmt::print("{:<34} {:>10} {:>9}\n", "model", "bytes", "accuracy");
  fmt::print("{:<34} {:>10} {:>8.2f}%\n", "fp32", quant::model_bytes(*model), 100.0 * fp32_acc);

  double int8_acc = 0.0;
  for (const int bits : {8, 4}) {
    auto q = make_mlp(gen);
    q->load_state_dict(model->state_dict());
    q->eval();
    quant::QuantConfig config;
    config.mode = quant::QuantMode::WeightOnly;
    config.weight_spec = {bits, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
    if (bits == 4) config.weight_range = "mse";  // clip outliers: at 16 levels every step counts
    quant::quantize_model(*q, config);
    const double acc = train::accuracy(*q, test);
    if (bits == 8) int8_acc = acc;
    fmt::print("{:<34} {:>10} {:>8.2f}%   {}\n", fmt::format("int{} weight-only per-channel", bits),
               quant::model_bytes(*q), 100.0 * acc, quant::compare_model_sizes(*model, *q).to_string());
  }
  return int8_acc > fp32_acc - 0.01 ? 0 : 1;
}
