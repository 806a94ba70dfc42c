// Post-training quantization on real data: a small Fashion-MNIST MLP keeps its accuracy under int8, int4 and
// (with MSE clipping) 3 bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/optim/adam.hpp"
#include "tinyml/quant/quantize_model.hpp"

namespace {

using tinyml::Generator;
using tinyml::NoGradGuard;
using tinyml::Tensor;
using namespace tinyml::nn;
using namespace tinyml::quant;
namespace data = tinyml::data;

std::shared_ptr<Sequential> mlp(Generator& gen) {
  return std::make_shared<Sequential>(std::make_shared<Linear>(784, 256, true, gen), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(256, 128, true, gen), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(128, 10, true, gen));
}

double accuracy(Sequential& model, const Tensor& images, const std::vector<float>& labels) {
  NoGradGuard no_grad;
  model.eval();
  const Tensor logits = model(images).contiguous();
  size_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* row = logits.data() + i * 10;
    if (static_cast<float>(std::max_element(row, row + 10) - row) == labels[i]) ++correct;
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(labels.size());
}

// The reference recipe (784-256-128-10, Adam 1e-3, batch 128, seed 0) shortened to 2 epochs so
// that it runs in a few seconds on one thread; accuracy is measured on the first 5 000 test
// images. All 60 000 training images are used: with fewer optimizer steps (e.g. 2 epochs of
// 10 000) the weights stay close to their uniform initialisation, where min/max is already the
// least-error range and the int4 comparison below would test nothing.
TEST(QuantizeAccuracy, SmallFashionMnistMlpKeepsItsAccuracy) {
  if (!data::FashionMNIST::available()) GTEST_SKIP() << "Fashion-MNIST is not installed (Debian package dataset-fashion-mnist; scripts/setup.sh installs it)";
  tinyml::kernels::set_num_threads(1);
  const std::string root = data::FashionMNIST::default_root();
  auto train = std::make_shared<data::FashionMNIST>(root, true);
  const data::FashionMNIST test(root, false, 5000);
  std::vector<size_t> idx(test.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  const data::Batch test_batch = test.get_batch(idx);
  const std::vector<float> labels = test_batch.target.to_vector();

  Generator gen(0);
  auto model = mlp(gen);
  tinyml::optim::Adam adam(model->parameters(), {.lr = 1e-3});
  const CrossEntropyLoss ce;
  data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
  model->train();
  for (int epoch = 0; epoch < 2; ++epoch)
    for (const data::Batch& b : loader) {
      adam.zero_grad();
      ce((*model)(b.data), b.target).backward();
      adam.step();
    }
  const double fp32 = accuracy(*model, test_batch.data, labels);
  ASSERT_GT(fp32, 75.0) << "training failed; the comparisons below would mean nothing";

  // Quantizes a fresh copy of the trained weights with `c`.
  const auto quantized_accuracy = [&](const QuantConfig& c, const std::vector<Tensor>& calib) {
    Generator g(0);
    auto copy = mlp(g);
    copy->load_state_dict(model->state_dict());
    quantize_model(*copy, c, calib);
    return accuracy(*copy, test_batch.data, labels);
  };
  std::vector<Tensor> calib;
  {
    std::vector<size_t> first(512);
    for (size_t i = 0; i < first.size(); ++i) first[i] = i;
    calib.push_back(train->get_batch(first).data);
  }

  QuantConfig dyn;
  QuantConfig st;
  st.mode = QuantMode::Static;
  QuantConfig int4_pc;  // the int4 target configuration: per output channel, MSE clipping
  int4_pc.mode = QuantMode::WeightOnly;
  int4_pc.weight_spec = {4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
  int4_pc.weight_range = "mse";
  QuantConfig low_mm = int4_pc;  // 3 bits, one scale per matrix: where the choice of range decides
  low_mm.weight_spec = {3, Scheme::Symmetric, Granularity::PerTensor, 0, true};
  low_mm.weight_range = "minmax";
  QuantConfig low_mse = low_mm;
  low_mse.weight_range = "mse";
  const double a_dyn = quantized_accuracy(dyn, {});
  const double a_st = quantized_accuracy(st, calib);
  const double a_pc = quantized_accuracy(int4_pc, {});
  const double a_mm = quantized_accuracy(low_mm, {});
  const double a_mse = quantized_accuracy(low_mse, {});
  RecordProperty("fp32", std::to_string(fp32));
  RecordProperty("int8_dynamic", std::to_string(a_dyn));
  RecordProperty("int8_static", std::to_string(a_st));
  RecordProperty("int4_per_channel_mse", std::to_string(a_pc));
  RecordProperty("int3_per_tensor_minmax", std::to_string(a_mm));
  RecordProperty("int3_per_tensor_mse", std::to_string(a_mse));

  // Bounds: int8 weights (SNR ~40 dB) and per-batch uint8 inputs perturb the logits by well under
  // 1 %, which flips a handful of the 5 000 predictions (one flip = 0.02 points; measured: 0.04);
  // 0.5 points is the target for the full-size model, kept here. Static adds the clipping of the
  // calibrated ranges: allowed 1 point (measured: 0.12).
  EXPECT_LE(fp32 - a_dyn, 0.5);
  EXPECT_LE(fp32 - a_st, 1.0);
  // int4 per channel (SNR ~17 dB) stays within the 2 points of the full-size target (measured: 0.2).
  EXPECT_LE(fp32 - a_pc, 2.0);
  // MSE clipping against min/max where the range decides: 3 bits (7 levels) with one scale per
  // matrix. Min/max spends the levels on the few largest weights and rounds most others to 0
  // (measured: 68.3 %); the least-MSE range keeps them (83.4 %). On the full-size models (three
  // seeds) the gap at 3 bits per tensor is 19 to 42 points; at 4 bits per channel both ranges stay
  // within about 1 point of fp32 and min/max was the better of the two (see docs/quantization.md).
  EXPECT_GT(a_mse, a_mm + 5.0);
}

}  // namespace
