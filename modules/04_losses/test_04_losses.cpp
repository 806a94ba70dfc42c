// Module 04 step tests: stable softmax / log-softmax, cross-entropy, MSE, BCE with logits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/gradcheck.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using V = std::vector<float>;

namespace {
Tensor leaf(const Tensor& t) {
  Tensor x = t;
  x.requires_grad_();
  return x;
}

// The logits and targets of the PyTorch recordings below.
Tensor logits34() {
  return Tensor({{1.0f, 2.0f, 3.0f, 0.5f}, {-1.0f, 0.0f, 4.0f, 2.0f}, {0.3f, 0.3f, -2.0f, 1.0f}});
}
}  // namespace

// ---- softmax / log_softmax ----

TEST(Softmax, MatchesPyTorch) {
  // Recorded with PyTorch 1.13: F.softmax(x, 1) and F.log_softmax(x, 0) of logits34().
  // Values are O(1) in float32: 1e-6 is a few ulps.
  EXPECT_TRUE(
      course::tensor_near(softmax(logits34(), 1), {3, 4},
                          {0.08536889f, 0.23205672f, 0.63079554f, 0.05177885f, 0.00580663f, 0.01578405f,
                           0.86177999f, 0.11662924f, 0.24307173f, 0.24307173f, 0.02437009f, 0.48948637f},
                          1e-6f));
  EXPECT_TRUE(course::tensor_near(
      log_softmax(logits34(), 0), {3, 4},
      {-0.48975760f, -0.27612969f, -1.31507206f, -1.96436882f, -2.48975754f, -2.27612972f, -0.31507209f,
       -0.46436879f, -1.18975759f, -1.97612977f, -6.31507206f, -1.46436882f},
      2e-6f));
}

TEST(Softmax, RowsSumToOneAlongAnyDimAndLayout) {
  Generator gen(4);
  const Tensor x = Tensor::randn({3, 5, 2}, gen) * 4.0f;
  for (int64_t d : {0, 1, 2, -1}) {
    const Tensor s = x.softmax(d).sum(d);
    EXPECT_TRUE(allclose(s, Tensor::ones(s.shape()), 1e-5f, 1e-6f)) << "dim " << d;
  }
  // A transposed (non-contiguous) input gives the transpose of the result.
  const Tensor m = Tensor::randn({4, 3}, gen);
  EXPECT_TRUE(allclose(m.t().softmax(1), m.softmax(0).t(), 1e-6f, 1e-7f));
}

TEST(Softmax, LargeInputsDoNotOverflow) {
  // exp(1000) is inf in float32: without subtracting the max this gives NaN.
  EXPECT_TRUE(
      course::tensor_near(softmax(Tensor({1000.0f, 1000.0f, 0.0f}), 0), {3}, {0.5f, 0.5f, 0.0f}, 1e-7f));
  EXPECT_TRUE(course::tensor_near(log_softmax(Tensor({1000.0f, 0.0f}), 0), {2}, {0.0f, -1000.0f}, 1e-4f));
  EXPECT_TRUE(course::tensor_near(softmax(Tensor({-1000.0f, -1001.0f}), 0), {2},
                                  {1.0f / (1.0f + std::exp(-1.0f)), 1.0f / (1.0f + std::exp(1.0f))}, 1e-6f));
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor ls = log_softmax(Tensor({-inf, 0.0f}), 0);  // a masked entry
  EXPECT_EQ(ls.at({0}), -inf);
  EXPECT_FLOAT_EQ(ls.at({1}), 0.0f);
}

TEST(Softmax, GradientsAgreeWithFiniteDifferences) {
  Generator gen(5);
  Tensor x = leaf(Tensor::randn({3, 4}, gen));
  const auto r1 = gradcheck([](const std::vector<Tensor>& in) { return in[0].softmax(1); }, {x});
  EXPECT_TRUE(r1.ok) << r1.message;
  const auto r2 = gradcheck([](const std::vector<Tensor>& in) { return in[0].log_softmax(0); }, {x});
  EXPECT_TRUE(r2.ok) << r2.message;
}

// ---- cross-entropy ----

TEST(CrossEntropy, ValueAndGradientMatchPyTorch) {
  // Recorded with PyTorch 1.13: l = F.cross_entropy(x, torch.tensor([0, 3, 1])); l.backward().
  Tensor x = leaf(logits34());
  const Tensor loss = cross_entropy(x, Tensor({0.0f, 3.0f, 1.0f}));
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item(), 2.0079758167f, 2e-6f);
  loss.backward();
  EXPECT_TRUE(
      course::tensor_near(x.grad(), {3, 4},
                          {-0.30487704f, 0.07735224f, 0.21026519f, 0.01725962f, 0.00193554f, 0.00526135f,
                           0.28726000f, -0.29445693f, 0.08102392f, -0.25230944f, 0.00812336f, 0.16316214f},
                          1e-6f));
}

TEST(CrossEntropy, UniformLogitsCostLogOfTheClassCount) {
  EXPECT_NEAR(cross_entropy(Tensor::zeros({5, 10}), Tensor::zeros({5})).item(), std::log(10.0f), 1e-6f);
}

TEST(CrossEntropy, StableForHugeLogits) {
  const Tensor x = Tensor({{1000.0f, 0.0f}, {0.0f, 1000.0f}});
  EXPECT_NEAR(cross_entropy(x, Tensor({0.0f, 1.0f})).item(), 0.0f, 1e-6f);
  EXPECT_NEAR(cross_entropy(x, Tensor({1.0f, 0.0f})).item(), 1000.0f, 1e-3f);
}

TEST(CrossEntropy, GradientIsSoftmaxMinusOneHotOverN) {
  Generator gen(6);
  Tensor x = leaf(Tensor::randn({4, 3}, gen));
  const Tensor t = Tensor({2.0f, 0.0f, 1.0f, 1.0f});
  cross_entropy(x, t).backward();
  Tensor expected = x.detach().softmax(1);
  for (int64_t i = 0; i < 4; ++i)
    expected.set({i, static_cast<int64_t>(t.at({i}))},
                 expected.at({i, static_cast<int64_t>(t.at({i}))}) - 1.0f);
  EXPECT_TRUE(allclose(x.grad(), expected / 4.0f, 1e-5f, 1e-7f));
  const auto r = gradcheck([t](const std::vector<Tensor>& in) { return cross_entropy(in[0], t); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(CrossEntropy, RejectsBadTargets) {
  const Tensor x = Tensor::zeros({3, 4});
  EXPECT_TINYML_ERROR(cross_entropy(x, Tensor({0.0f, 1.0f})), "cross_entropy", "[3]", "[2]");
  EXPECT_TINYML_ERROR(cross_entropy(x, Tensor({0.0f, 1.5f, 2.0f})), "cross_entropy", "1.5", "position 1",
                      "[0, 4)");
  EXPECT_TINYML_ERROR(cross_entropy(x, Tensor({0.0f, 4.0f, 2.0f})), "4", "[0, 4)");
  EXPECT_TINYML_ERROR(cross_entropy(x, Tensor({-1.0f, 0.0f, 2.0f})), "-1");
  EXPECT_TINYML_ERROR(cross_entropy(Tensor::zeros({4}), Tensor({0.0f})), "cross_entropy", "(N, C)", "[4]");
  EXPECT_TINYML_ERROR(cross_entropy(Tensor::zeros({0, 4}), Tensor::zeros({0})), "cross_entropy", "[0, 4]");
}

// ---- MSE and BCE ----

TEST(MSE, ValueGradientAndShapes) {
  Tensor x = leaf(Tensor({1.0f, 2.0f, 3.0f}));
  const Tensor loss = mse_loss(x, Tensor({1.0f, 0.0f, 0.0f}));
  EXPECT_FLOAT_EQ(loss.item(), 13.0f / 3.0f);
  loss.backward();
  EXPECT_TRUE(course::tensor_near(x.grad(), {3}, {0.0f, 4.0f / 3.0f, 2.0f}, 1e-6f));  // 2(x − y)/N
  EXPECT_TINYML_ERROR(mse_loss(x, Tensor({{1.0f, 0.0f, 0.0f}})), "mse_loss", "[3]", "[1, 3]");
  EXPECT_TINYML_ERROR(mse_loss(Tensor::zeros({0}), Tensor::zeros({0})), "mse_loss", "empty");
}

TEST(BCEWithLogits, MatchesPyTorchAndStaysFiniteForLargeLogits) {
  // Recorded with PyTorch 1.13: F.binary_cross_entropy_with_logits(z, y) and z.grad.
  Tensor z = leaf(Tensor({{2.0f, -1.0f}, {0.5f, 100.0f}, {-100.0f, 0.0f}}));
  const Tensor y = Tensor({{1.0f, 0.0f}, {0.25f, 1.0f}, {1.0f, 0.5f}});
  const Tensor loss = binary_cross_entropy_with_logits(z, y);
  // −log σ(−100) = 100 dominates; float32 relative precision 1e-7 · 17 ≈ 2e-6, so 1e-5.
  EXPECT_NEAR(loss.item(), 16.997068405f, 1e-5f);
  loss.backward();
  EXPECT_TRUE(course::tensor_near(z.grad(), {3, 2},
                                  {-0.01986716f, 0.04482357f, 0.06207656f, 0.0f, -0.16666667f, 0.0f}, 1e-6f));
  EXPECT_TINYML_ERROR(binary_cross_entropy_with_logits(z, Tensor::zeros({2, 3})),
                      "binary_cross_entropy_with_logits", "[3, 2]", "[2, 3]");
}

TEST(LossModules, CallTheFunctions) {
  const Tensor x = logits34();
  const Tensor t = Tensor({0.0f, 3.0f, 1.0f});
  EXPECT_FLOAT_EQ(nn::CrossEntropyLoss()(x, t).item(), cross_entropy(x, t).item());
  EXPECT_FLOAT_EQ(nn::MSELoss()(x, x * 2.0f).item(), mse_loss(x, x * 2.0f).item());
  EXPECT_TINYML_ERROR(nn::MSELoss()(x, Tensor()), "MSELoss");
  EXPECT_NEAR(nn::BCEWithLogitsLoss()(Tensor({0.0f}), Tensor({1.0f})).item(), std::log(2.0f), 1e-6f);
}
