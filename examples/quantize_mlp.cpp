// Post-training quantization of a Fashion-MNIST MLP: int8 dynamic, int8 static and int4 weight-only,
// with each layer's report and the test accuracy and size of every variant.
// Usage: quantize_mlp [training images (default 20000)] [epochs (default 2)]
// Needs Fashion-MNIST (Debian package dataset-fashion-mnist, or $TINYML_FASHION_MNIST_DIR); without
// it the program says so and exits with status 0.
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;

namespace {

// The reference MLP 784-256-128-10, initialised from the default generator.
std::shared_ptr<nn::Sequential> make_mlp() {
  return train::make_mlp({784, 256, 128, 10}, default_generator());
}

// Test accuracy in percent. train::accuracy runs in eval mode without recording a graph (a
// QuantizedLinear refuses inputs that would need one).
double accuracy(nn::Module& model, const std::shared_ptr<const data::Dataset>& test) {
  return 100.0 * train::accuracy(model, *test);
}

}  // namespace

int main(int argc, char** argv) {
  const long limit = argc > 1 ? std::atol(argv[1]) : 20000;
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 2;
  if (limit <= 0 || epochs <= 0) {
    fmt::print(stderr, "usage: quantize_mlp [training images > 0] [epochs > 0]\n");
    return 2;
  }
  if (!data::FashionMNIST::available()) {
    fmt::print("Fashion-MNIST not found in {}: skipped (install dataset-fashion-mnist)\n",
               data::FashionMNIST::default_root());
    return 0;
  }
  try {
    manual_seed(0);
    auto train = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), true,
                                                      static_cast<size_t>(limit));
    auto test = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), false);

    // 1. A float model to start from: the reference MLP, briefly trained.
    auto model = make_mlp();
    optim::Adam adam(model->parameters(), {.lr = 1e-3});
    data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
    for (int epoch = 0; epoch < epochs; ++epoch) data::train_epoch(*model, adam, loader);
    const double fp32_acc = accuracy(*model, test);
    fmt::print("fp32 model: {} training images, {} epochs, test accuracy {:.2f}%\n\n", train->size(), epochs,
               fp32_acc);

    // Calibration data: a few training batches. Static mode needs it to fix each layer's input
    // range ahead of time; the "mse" weight range uses it to judge which weight clipping hurts the
    // layer's outputs least. It is training data, never test data: the test set stays unseen.
    const std::vector<Tensor> calibration = tinyml::train::calibration_batches(train, 8, 128, /*seed=*/1);

    const quant::QuantSpec int4_weights{4, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
    struct Variant {
      std::string name;
      quant::QuantConfig config;
    };
    std::vector<Variant> variants;
    {
      quant::QuantConfig c;  // int8 symmetric per-channel weights, activations quantized per batch
      c.mode = quant::QuantMode::Dynamic;
      variants.push_back({"dynamic int8", c});
      c.mode = quant::QuantMode::Static;  // activation ranges fixed by calibration, ReLU fused
      c.observer = "histogram";
      variants.push_back({"static int8", c});
      c = quant::QuantConfig{};  // int4 weights stored packed, dequantized to float for the GEMM
      c.mode = quant::QuantMode::WeightOnly;
      c.weight_spec = int4_weights;
      variants.push_back({"int4 weight-only minmax", c});
      c.weight_range = "mse";  // clip each channel's range: 16 levels are too few to spend on outliers
      variants.push_back({"int4 weight-only mse", c});
    }

    struct Row {
      std::string name;
      size_t bytes;
      double acc;
    };
    std::vector<Row> rows{{"fp32", quant::model_bytes(*model), fp32_acc}};
    for (const Variant& v : variants) {
      // Each variant starts from its own copy of the float model: quantize_model works in place.
      auto copy = make_mlp();
      copy->load_state_dict(model->state_dict());
      const quant::QuantReport report = quant::quantize_model(*copy, v.config, calibration);
      const double acc = accuracy(*copy, test);
      fmt::print("== {} ==\n{}\n", v.name, report.table());
      rows.push_back({v.name, report.bytes_after, acc});
    }

    fmt::print("{:<24} {:>10} {:>7} {:>9} {:>8}\n", "model", "bytes", "ratio", "accuracy", "change");
    for (const Row& r : rows)
      fmt::print("{:<24} {:>10} {:>7.3f} {:>8.2f}% {:>+8.2f}\n", r.name, r.bytes,
                 static_cast<double>(r.bytes) / static_cast<double>(rows[0].bytes), r.acc, r.acc - fp32_acc);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
