// Quantization-aware training: fine-tune a Fashion-MNIST MLP with fake quantization in the loop
// (prepare_qat → train → convert), and compare it with post-training quantization at the same bits.
// Usage: qat [training images (default 20000)] [epochs (default 2)] [bits (default 4)]
// At 4 bits post-training quantization already keeps most of this MLP's accuracy; at 3 or 2 bits
// the difference QAT makes is plain to see.
// Needs Fashion-MNIST (Debian package dataset-fashion-mnist, or $TINYML_FASHION_MNIST_DIR); without
// it the program says so and exits with status 0.
#include "tinyml/quant/qat.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;

namespace {

// The reference MLP 784-256-128-10, initialised from the default generator.
std::shared_ptr<nn::Sequential> make_mlp() {
  return train::make_mlp({784, 256, 128, 10}, default_generator());
}

std::shared_ptr<nn::Sequential> copy_of(const nn::Sequential& model) {
  auto copy = make_mlp();
  copy->load_state_dict(model.state_dict());
  return copy;
}

void fit(nn::Module& model, data::DataLoader& loader, int epochs, double lr) {
  optim::Adam adam(model.parameters(), {.lr = lr});
  for (int epoch = 0; epoch < epochs; ++epoch) data::train_epoch(model, adam, loader);
}

// Test accuracy in percent (train::accuracy runs in eval mode without a graph, and restores the mode).
double accuracy(nn::Module& model, const std::shared_ptr<const data::Dataset>& test) {
  return 100.0 * train::accuracy(model, *test);
}

}  // namespace

int main(int argc, char** argv) {
  const long limit = argc > 1 ? std::atol(argv[1]) : 20000;
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 2;
  const int bits = argc > 3 ? std::atoi(argv[3]) : 4;
  if (limit <= 0 || epochs <= 0 || bits < 2 || bits > 8) {
    fmt::print(stderr, "usage: qat [training images > 0] [epochs > 0] [bits 2..8]\n");
    return 2;
  }
  if (!data::FashionMNIST::available()) {
    fmt::print("Fashion-MNIST not found in {}: skipped (install dataset-fashion-mnist)\n",
               data::FashionMNIST::default_root());
    return 0;
  }
  try {
    manual_seed(0);
    auto train_set = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), true,
                                                          static_cast<size_t>(limit));
    auto test_set = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), false);
    data::DataLoader loader(train_set, {.batch_size = 128, .shuffle = true, .seed = 0});

    auto model = make_mlp();
    fit(*model, loader, epochs, 1e-3);
    const double fp32 = accuracy(*model, test_set);

    const std::vector<Tensor> calibration = train::calibration_batches(train_set, 8, 128, /*seed=*/1);
    // int<bits> symmetric per-channel weights, uint<bits> affine activations whose range is a
    // moving average of the batches' min/max, Static mode (what convert produces).
    const quant::QuantConfig config = quant::qat_config(bits);
    fmt::print("weights {}, activations {} ({})\n", config.weight_spec.to_string(),
               config.activation_spec.to_string(), config.observer);

    // Post-training quantization with the very same quantizers: observe, convert, no training.
    auto ptq = copy_of(*model);
    quant::prepare_qat(*ptq, config);
    quant::observe_ranges(*ptq, calibration);
    quant::convert(*ptq);
    const double ptq_acc = accuracy(*ptq, test_set);

    // The control: the float model trained exactly as QAT will be (same epoch, rate and order), so
    // that what the extra training gains is not credited to quantization-awareness.
    auto control = copy_of(*model);
    fit(*control, loader, 1, 1e-4);
    const double control_acc = accuracy(*control, test_set);

    // QAT: every Linear becomes a QatLinear sharing its weight and bias, whose forward fake-quantizes
    // input and weight, so the loss sees the rounding; the straight-through estimator lets gradients
    // pass the rounding as if it were the identity. A small learning rate: the weights only need to
    // settle into the quantization grid, not to learn the task again.
    auto qat = copy_of(*model);
    const std::vector<std::string> prepared = quant::prepare_qat(*qat, config);
    fmt::print("prepared {} layers:\n{}\n", prepared.size(), qat->repr());
    quant::observe_ranges(*qat, calibration);
    fit(*qat, loader, 1, 1e-4);
    const double fake_quant_acc = accuracy(*qat, test_set);  // eval mode: ranges frozen
    const std::vector<std::string> converted = quant::convert(*qat);
    const double qat_acc = accuracy(*qat, test_set);
    fmt::print("converted {} layers: {}\n\n", converted.size(), (*qat)[0]->repr());

    fmt::print("{:<34} {:>9}\n", "model", "accuracy");
    fmt::print("{:<34} {:>8.2f}%\n", "fp32", fp32);
    fmt::print("{:<34} {:>8.2f}%\n", "fp32 + 1 epoch fine-tuning", control_acc);
    fmt::print("{:<34} {:>8.2f}%\n", fmt::format("PTQ int{}", bits), ptq_acc);
    fmt::print("{:<34} {:>8.2f}%\n", fmt::format("QAT int{} (fake quantized)", bits), fake_quant_acc);
    fmt::print("{:<34} {:>8.2f}%\n", fmt::format("QAT int{} (converted, integer GEMM)", bits), qat_acc);
    fmt::print("QAT gain over PTQ: {:+.2f} points\n", qat_acc - ptq_acc);
    fmt::print("QAT minus the fine-tuned fp32 model: {:+.2f} points\n", qat_acc - control_acc);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
