// Ops: forward values against hand computation and gradcheck of every differentiable op,
// including broadcast shapes, views and reductions along each dim.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tinyml/autograd/gradcheck.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using ::testing::HasSubstr;

namespace {
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Inputs are drawn from U(lo, hi) with a fixed seed; gradcheck uses eps 1e-3 in float32, so
// the central-difference error is O(eps²·f''') plus rounding O(ulp/eps) ≈ 1e-4: atol 1e-3
// and rtol 1e-2 leave a margin of ten.
void check(const char* what, const Fn& fn, const std::vector<Shape>& shapes, float lo = -2.0f,
           float hi = 2.0f, uint64_t seed = 1) {
  Generator gen(seed);
  std::vector<Tensor> in;
  for (const auto& s : shapes)
    in.push_back((Tensor::rand(s, gen) * (hi - lo) + lo).detach().requires_grad_());
  auto res = gradcheck(fn, in);
  EXPECT_TRUE(res.ok) << what << ": " << res.message;
}
}  // namespace

TEST(Ops, BroadcastingValues) {
  Tensor a({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ((a + Tensor({10, 20, 30})).to_vector(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ((a * Tensor({{2}, {3}})).to_vector(), (std::vector<float>{2, 4, 6, 12, 15, 18}));
  EXPECT_EQ((a - 1.0f).to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ((12.0f / a).to_vector(), (std::vector<float>{12, 6, 4, 3, 2.4f, 2}));
  EXPECT_EQ(broadcast_shapes({2, 1, 4}, {3, 1}, "t"), (Shape{2, 3, 4}));
  EXPECT_THAT(
      [&] {
        (void)broadcast_shapes({2, 3}, {4, 3}, "add");
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("add: shapes [2, 3] and [4, 3]")));
}

TEST(Ops, ReductionValues) {
  Tensor a({{1, 5, 3}, {4, 2, 6}});
  EXPECT_FLOAT_EQ(a.sum().item(), 21.0f);
  EXPECT_EQ(a.sum(0).to_vector(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(a.sum(1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(a.mean(1).to_vector(), (std::vector<float>{3, 4}));
  EXPECT_EQ(a.max(1).to_vector(), (std::vector<float>{5, 6}));
  EXPECT_EQ(a.min(0).to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(a.argmax(1).to_vector(), (std::vector<float>{1, 2}));
  EXPECT_FLOAT_EQ(a.max().item(), 6.0f);
  EXPECT_EQ(Tensor({2, 7, 7}).argmax(0).item(), 1.0f);  // first occurrence, as PyTorch
  EXPECT_THROW((void)Tensor::zeros({0}).max(), Error);
  EXPECT_THROW((void)a.sum(2), Error);
}

TEST(Ops, SoftmaxIsStableForLargeLogits) {
  Tensor x({{1000.0f, 1001.0f, 1002.0f}});
  auto p = x.softmax(1).to_vector();
  // softmax([0,1,2]) = [0.09003057, 0.24472847, 0.66524096]
  EXPECT_NEAR(p[0], 0.09003057f, 1e-6f);
  EXPECT_NEAR(p[2], 0.66524096f, 1e-6f);
  auto lp = x.log_softmax(1).to_vector();
  EXPECT_NEAR(lp[0], -2.40760596f, 1e-5f);
  EXPECT_TRUE(std::isfinite(logsumexp(Tensor({{-1e30f, 1e30f}}), 1).item()));
}

TEST(Ops, MatmulShapes) {
  Generator g(1);
  Tensor a = Tensor::randn({3, 4}, g), b = Tensor::randn({4, 5}, g);
  EXPECT_EQ(matmul(a, b).shape(), (Shape{3, 5}));
  EXPECT_EQ(matmul(Tensor::randn({2, 3, 4}, g), b).shape(), (Shape{2, 3, 5}));
  EXPECT_EQ(matmul(Tensor::randn({2, 3, 4}, g), Tensor::randn({2, 4, 6}, g)).shape(), (Shape{2, 3, 6}));
  EXPECT_EQ(matmul(a, Tensor::randn({4}, g)).shape(), (Shape{3}));
  EXPECT_EQ(matmul(Tensor::randn({4}, g), Tensor::randn({4}, g)).dim(), 0);
  EXPECT_THAT([&] { (void)matmul(a, a); }, ::testing::ThrowsMessage<Error>(HasSubstr("[3, 4] and [3, 4]")));
  // Transposed views go to BLAS as flags: same numbers as a contiguous copy.
  EXPECT_TRUE(allclose(matmul(b.t(), a.t()), matmul(b.t().contiguous(), a.t().contiguous()), 1e-5f, 1e-6f));
  Tensor hand = matmul(Tensor({{1, 2}, {3, 4}}), Tensor({{5, 6}, {7, 8}}));
  EXPECT_EQ(hand.to_vector(), (std::vector<float>{19, 22, 43, 50}));
}

TEST(Ops, LinearMatchesMatmulPlusBias) {
  Generator g(2);
  Tensor x = Tensor::randn({5, 3}, g), w = Tensor::randn({4, 3}, g), b = Tensor::randn({4}, g);
  EXPECT_TRUE(allclose(linear(x, w, b), matmul(x, w.t()) + b, 1e-5f, 1e-6f));
  EXPECT_TRUE(allclose(linear(x, w, Tensor()), matmul(x, w.t()), 1e-5f, 1e-6f));
  EXPECT_THROW((void)linear(x, Tensor::randn({4, 2}, g), b), Error);
  EXPECT_THROW((void)linear(x, w, Tensor::randn({3}, g)), Error);
}

TEST(Ops, GradcheckElementwiseWithBroadcasting) {
  check("add", [](auto& v) { return v[0] + v[1]; }, {{2, 3}, {3}});
  check("sub", [](auto& v) { return v[0] - v[1]; }, {{2, 1, 3}, {4, 1}});
  check("mul", [](auto& v) { return v[0] * v[1]; }, {{2, 3}, {2, 1}});
  check(
      "div", [](auto& v) { return v[0] / v[1]; }, {{3, 2}, {2}}, 0.5f, 2.0f);
  check("maximum", [](auto& v) { return maximum(v[0], v[1]); }, {{4, 3}, {3}});
  check("minimum", [](auto& v) { return minimum(v[0], v[1]); }, {{4, 3}, {4, 1}});
  check("scalar ops", [](auto& v) { return (2.0f - v[0]) * 3.0f / 1.5f + 0.5f; }, {{5}});
  check(
      "rdiv", [](auto& v) { return 1.0f / v[0]; }, {{5}}, 0.5f, 2.0f);
  check("neg", [](auto& v) { return -v[0]; }, {{3, 2}});
  check("exp", [](auto& v) { return v[0].exp(); }, {{3, 2}});
  check(
      "log", [](auto& v) { return v[0].log(); }, {{3, 2}}, 0.5f, 3.0f);
  check(
      "sqrt", [](auto& v) { return v[0].sqrt(); }, {{3, 2}}, 0.5f, 3.0f);
  check(
      "abs", [](auto& v) { return v[0].abs(); }, {{3, 2}}, 0.1f, 1.0f);
  check("pow", [](auto& v) { return v[0].pow(3.0f); }, {{3, 2}});
  check("pow2", [](auto& v) { return v[0].pow(2.0f); }, {{3, 2}});
  check("clamp", [](auto& v) { return v[0].clamp(-0.5f, 0.7f); }, {{6, 5}});
  check("relu", [](auto& v) { return v[0].relu(); }, {{6, 5}});
  check("sigmoid", [](auto& v) { return v[0].sigmoid(); }, {{3, 4}});
  check("tanh", [](auto& v) { return v[0].tanh(); }, {{3, 4}});
}

TEST(Ops, GradcheckReductionsAndSoftmax) {
  for (int64_t d : {0, 1, 2}) {
    check("sum", [d](auto& v) { return v[0].sum(d); }, {{2, 3, 4}});
    check("sum keepdim", [d](auto& v) { return v[0].sum(d, true); }, {{2, 3, 4}});
    check("mean", [d](auto& v) { return v[0].mean(d); }, {{2, 3, 4}});
    check("max", [d](auto& v) { return v[0].max(d); }, {{2, 3, 4}});
    check("min", [d](auto& v) { return v[0].min(d, true); }, {{2, 3, 4}});
    check("softmax", [d](auto& v) { return v[0].softmax(d); }, {{2, 3, 4}});
    check("log_softmax", [d](auto& v) { return v[0].log_softmax(d); }, {{2, 3, 4}});
    check("logsumexp", [d](auto& v) { return logsumexp(v[0], d); }, {{2, 3, 4}});
  }
  check("sum all", [](auto& v) { return v[0].sum(); }, {{3, 4}});
  check("mean all", [](auto& v) { return v[0].mean(); }, {{3, 4}});
  check("max all", [](auto& v) { return v[0].max(); }, {{3, 4}});
}

TEST(Ops, GradcheckViewsAndShapes) {
  check("reshape", [](auto& v) { return v[0].reshape({3, 4}) * Tensor::arange(4); }, {{2, 6}});
  check("transpose", [](auto& v) { return v[0].transpose(0, 2) * Tensor::arange(2); }, {{2, 3, 4}});
  check("permute", [](auto& v) { return v[0].permute({1, 2, 0}) * Tensor::arange(2); }, {{2, 3, 4}});
  check("slice", [](auto& v) { return v[0].slice(1, 1, 5, 2); }, {{3, 6}});
  check("select", [](auto& v) { return v[0].select(0, 1) * v[0].select(1, -1).sum(); }, {{3, 3}});
  check("expand", [](auto& v) { return v[0].expand({4, 3}) * Tensor::arange(3); }, {{1, 3}});
  check("unsqueeze/squeeze", [](auto& v) { return v[0].unsqueeze(1).squeeze(1) * 2.0f; }, {{3}});
  check("cat", [](auto& v) { return cat({v[0], v[1]}, 1) * Tensor::arange(5); }, {{2, 2}, {2, 3}});
  check("stack", [](auto& v) { return stack({v[0], v[1]}, 0) * Tensor::arange(3); }, {{3}, {3}});
  check("clone of transpose", [](auto& v) { return v[0].t().contiguous() * Tensor::arange(2); }, {{2, 3}});
}

TEST(Ops, GradcheckMatmulAndLinear) {
  check("matmul 2d", [](auto& v) { return matmul(v[0], v[1]); }, {{3, 4}, {4, 2}});
  check("matmul transposed", [](auto& v) { return matmul(v[0].t(), v[1].t()); }, {{4, 3}, {2, 4}});
  check("matmul 3d", [](auto& v) { return matmul(v[0], v[1]); }, {{2, 3, 4}, {2, 4, 2}});
  check("matmul 3d x 2d", [](auto& v) { return matmul(v[0], v[1]); }, {{2, 3, 4}, {4, 2}});
  check("matmul 2d x 3d", [](auto& v) { return matmul(v[0], v[1]); }, {{3, 4}, {2, 4, 2}});
  check("matvec", [](auto& v) { return matmul(v[0], v[1]); }, {{3, 4}, {4}});
  check("dot", [](auto& v) { return matmul(v[0], v[1]); }, {{4}, {4}});
  check("linear", [](auto& v) { return linear(v[0], v[1], v[2]); }, {{1, 3}, {4, 3}, {4}});
  check("linear batch", [](auto& v) { return linear(v[0], v[1], v[2]); }, {{5, 3}, {4, 3}, {4}});
}

TEST(Ops, GradcheckLosses) {
  const Tensor targets({2, 0, 1});
  check("cross_entropy", [&](auto& v) { return cross_entropy(v[0], targets); }, {{3, 4}});
  check("nll_loss", [&](auto& v) { return nll_loss(v[0].log_softmax(1), targets); }, {{3, 4}});
  check("mse", [](auto& v) { return mse_loss(v[0], v[1]); }, {{3, 2}, {3, 2}});
  check(
      "bce logits", [](auto& v) { return binary_cross_entropy_with_logits(v[0], v[1]); }, {{4, 1}, {4, 1}},
      0.0f, 1.0f);
}

// Values from PyTorch 1.13: F.cross_entropy(torch.tensor([[2.,1.,.1],[.5,2.5,.3]]), torch.tensor([0,1]))
// = 0.3185, and for logits 1000x larger the loss stays finite (the log-sum-exp form).
TEST(Ops, CrossEntropyValuesAndErrors) {
  Tensor logits({{2.0f, 1.0f, 0.1f}, {0.5f, 2.5f, 0.3f}});
  EXPECT_NEAR(cross_entropy(logits, Tensor({0, 1})).item(), 0.31851f, 1e-4f);
  EXPECT_TRUE(std::isfinite(cross_entropy(logits * 1000.0f, Tensor({2, 0})).item()));
  EXPECT_THAT(
      [&] {
        (void)cross_entropy(logits, Tensor({0, 3}));
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("not a class index in [0, 3)")));
  EXPECT_THROW((void)cross_entropy(logits, Tensor({0.5f, 1.0f})), Error);
  EXPECT_THROW((void)cross_entropy(logits, Tensor({0, 1, 2})), Error);
  EXPECT_THROW((void)mse_loss(logits, Tensor({1, 2})), Error);
}

TEST(Ops, DropoutScalesKeptValues) {
  Generator g(5);
  Tensor x = Tensor::ones({10000});
  Tensor y = dropout(x, 0.25f, true, g);
  const auto v = y.to_vector();
  int zeros = 0;
  for (float e : v) {
    if (e == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(e, 1.0f / 0.75f);
  }
  // Binomial(10000, 0.25): sd = 43; 5 sd = 217.
  EXPECT_NEAR(zeros, 2500, 217);
  EXPECT_TRUE(equal(dropout(x, 0.25f, false, g), x));
  EXPECT_THROW((void)dropout(x, 1.5f, true, g), Error);
}
