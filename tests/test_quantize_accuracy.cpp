// Post-training quantization on real data: a small Fashion-MNIST MLP keeps its accuracy under int8, int4 and
// (with MSE clipping) 3 bits, and output-MSE clipping beats min/max at int4.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/datasets.hpp"
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
// that it runs in a few seconds on one thread. All 60 000 training images are used: with fewer
// optimizer steps (e.g. 2 epochs of 10 000) the weights stay close to their uniform
// initialisation, where min/max is already the least-error range and the int4 comparison below
// would test nothing.
std::shared_ptr<Sequential> trained_mlp(const std::shared_ptr<data::FashionMNIST>& train) {
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
  return model;
}

// The first 5 000 test images, their labels and the trained float model's logits on them.
struct TestSet {
  Tensor images;
  std::vector<float> labels;
  Tensor fp32_logits;
};

TestSet test_set(const std::string& root, Sequential& model) {
  const data::FashionMNIST test(root, false, 5000);
  std::vector<size_t> idx(test.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  const data::Batch b = test.get_batch(idx);
  NoGradGuard no_grad;
  model.eval();
  return {b.data, b.target.to_vector(), model(b.data).contiguous()};
}

// A quantized copy's accuracy, and the mean squared difference of its test logits from fp32's.
struct Quantized {
  double accuracy = 0.0;
  double logit_mse = 0.0;
};

// Quantizes a fresh copy of the trained weights with `c`, calibrated on `calib`.
Quantized quantized(Sequential& model, const QuantConfig& c, const std::vector<Tensor>& calib,
                    const TestSet& test) {
  Generator g(0);
  auto copy = mlp(g);
  copy->load_state_dict(model.state_dict());
  quantize_model(*copy, c, calib);
  Quantized q;
  q.accuracy = accuracy(*copy, test.images, test.labels);
  NoGradGuard no_grad;
  const std::vector<float> a = (*copy)(test.images).to_vector(), b = test.fp32_logits.to_vector();
  for (size_t i = 0; i < a.size(); ++i)
    q.logit_mse += (a[i] - b[i]) * (a[i] - b[i]) / static_cast<double>(a.size());
  return q;
}

// The weight-only configurations compared below: per channel at int4, per tensor at 3 bits, each
// with min/max ranges and with the least-error ("mse") range.
QuantConfig weight_only(int bits, Granularity g, const std::string& range) {
  QuantConfig c;
  c.mode = QuantMode::WeightOnly;
  c.weight_spec = {bits, Scheme::Symmetric, g, 0, true};
  c.weight_range = range;
  return c;
}

TEST(QuantizeAccuracy, SmallFashionMnistMlpKeepsItsAccuracy) {
  if (!data::FashionMNIST::available()) GTEST_SKIP() << tinyml_test::fashion_mnist_missing();
  tinyml::kernels::set_num_threads(1);
  const std::string root = data::FashionMNIST::default_root();
  auto train = std::make_shared<data::FashionMNIST>(root, true);
  auto model = trained_mlp(train);
  const TestSet test = test_set(root, *model);
  const double fp32 = accuracy(*model, test.images, test.labels);
  ASSERT_GT(fp32, 75.0) << "training failed; the comparisons below would mean nothing";

  std::vector<size_t> first(512);
  for (size_t i = 0; i < first.size(); ++i) first[i] = i;
  const std::vector<Tensor> calib{train->get_batch(first).data};
  QuantConfig st;
  st.mode = QuantMode::Static;
  const Quantized q_dyn = quantized(*model, QuantConfig{}, {}, test);
  const Quantized q_st = quantized(*model, st, calib, test);
  const Quantized q_mm = quantized(*model, weight_only(4, Granularity::PerChannel, "minmax"), {}, test);
  // The int4 target: each row clipped for least output error on `calib`.
  const Quantized q_mse = quantized(*model, weight_only(4, Granularity::PerChannel, "mse"), calib, test);
  // 3 bits, one scale per matrix: where the choice of range decides. Without data, "mse" is the
  // least error of the weight itself.
  const Quantized q_low_mm = quantized(*model, weight_only(3, Granularity::PerTensor, "minmax"), {}, test);
  const Quantized q_low_mse = quantized(*model, weight_only(3, Granularity::PerTensor, "mse"), {}, test);
  RecordProperty("fp32", std::to_string(fp32));
  RecordProperty("int8_dynamic", std::to_string(q_dyn.accuracy));
  RecordProperty("int8_static", std::to_string(q_st.accuracy));
  RecordProperty("int4_per_channel_minmax", std::to_string(q_mm.accuracy));
  RecordProperty("int4_per_channel_mse", std::to_string(q_mse.accuracy));
  RecordProperty("int3_per_tensor_minmax", std::to_string(q_low_mm.accuracy));
  RecordProperty("int3_per_tensor_mse", std::to_string(q_low_mse.accuracy));

  // Bounds: int8 weights (SNR ~40 dB) and per-batch uint8 inputs perturb the logits by well under
  // 1 %, which flips a handful of the 5 000 predictions (one flip = 0.02 points; measured: 0.04);
  // 0.5 points is the target for the full-size model, kept here. Static adds the clipping of the
  // calibrated ranges: allowed 1 point (measured: 0.12).
  EXPECT_LE(fp32 - q_dyn.accuracy, 0.5);
  EXPECT_LE(fp32 - q_st.accuracy, 1.0);
  // int4 per channel (SNR ~17 dB) stays within the 2 points of the full-size target.
  EXPECT_LE(fp32 - q_mm.accuracy, 2.0);
  EXPECT_LE(fp32 - q_mse.accuracy, 2.0);
  // Output-MSE clipping minimises each layer's output error on the calibration images; on the
  // unseen test images the logits must be clearly closer to fp32's than min/max's are (measured
  // on full-size models: about 3x less squared error; a factor 1.5 leaves room). Its accuracy is
  // not claimed to beat min/max: both sit within the noise of fp32 at int4 (ten seeds in
  // docs/quantization.md), so it is held to staying close to fp32: 0.5 points (measured on the
  // ten full-size seeds: worst -0.33).
  EXPECT_LT(q_mse.logit_mse * 1.5, q_mm.logit_mse);
  EXPECT_LE(fp32 - q_mse.accuracy, 0.5);
  // Where the range decides: 3 bits (7 levels) with one scale per matrix. Min/max spends the
  // levels on the few largest weights and rounds most others to 0 (measured: 68.3 %); the
  // least-MSE range keeps them (83.4 %). On the full-size models the gap is 19 to 42 points.
  EXPECT_GT(q_low_mse.accuracy, q_low_mm.accuracy + 5.0);
}

}  // namespace
