// Tests of the loss callables in tinyml::nn (CrossEntropyLoss, MSELoss, BCEWithLogitsLoss).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/nn/loss.hpp"

namespace {

using tinyml::Tensor;
namespace nn = tinyml::nn;

// Reference values recorded from PyTorch 1.13 with the snippet above each test. Both sides
// compute in float32; 1e-6 is ~10 ulps at these magnitudes (values of order 0.1-2), enough for
// a different summation order and far below any formula error (≥ 1e-3 here).
constexpr float kTol = 1e-6f;

void expect_values(const Tensor& t, const std::vector<float>& expected, float tol, const char* what) {
  ASSERT_TRUE(t.defined()) << what;
  const std::vector<float> got = t.to_vector();
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << what << " element " << i;
}

TEST(LossCrossEntropy, ValueAndGradientMatchPyTorch) {
  // x = torch.tensor([[0.2, -1.3, 0.7, 2.1], [1.5, 0.3, -0.4, -2.2], [-0.6, 0.9, 0.0, 0.4]],
  //                  requires_grad=True)
  // l = torch.nn.CrossEntropyLoss()(x, torch.tensor([0, 3, 1])); l.backward()
  Tensor x = Tensor({{0.2f, -1.3f, 0.7f, 2.1f}, {1.5f, 0.3f, -0.4f, -2.2f}, {-0.6f, 0.9f, 0.0f, 0.4f}});
  x.requires_grad_();
  const Tensor target({0.0f, 3.0f, 1.0f});
  const Tensor loss = nn::CrossEntropyLoss()(x, target);
  ASSERT_EQ(loss.numel(), 1);
  EXPECT_NEAR(loss.item(), 2.38371062f, kTol);
  loss.backward();
  expect_values(x.grad(),
                {-0.29845762f, 0.00778183f, 0.05750035f, 0.23317543f, 0.22591422f, 0.06804405f, 0.03378968f,
                 -0.32774794f, 0.03325986f, -0.18427297f, 0.06060342f, 0.09040968f},
                kTol, "d loss / d x");
}

TEST(LossCrossEntropy, LargeLogitsStayFinite) {
  // x = torch.tensor([[1000., -1000., 0.], [-500., 0., 500.]], requires_grad=True)
  // torch.nn.CrossEntropyLoss()(x, torch.tensor([1, 2])) → 1000.0, grad [.5, -.5, 0, 0, 0, 0]
  // A naive exp() overflows to inf here; log-sum-exp with the max subtracted does not.
  Tensor x = Tensor({{1000.0f, -1000.0f, 0.0f}, {-500.0f, 0.0f, 500.0f}});
  x.requires_grad_();
  const Tensor loss = nn::CrossEntropyLoss()(x, Tensor({1.0f, 2.0f}));
  ASSERT_TRUE(std::isfinite(loss.item()));
  EXPECT_NEAR(loss.item(), 1000.0f, 1e-3f);  // 1 ulp of 1000 is 6e-5
  loss.backward();
  expect_values(x.grad(), {0.5f, -0.5f, 0.0f, 0.0f, 0.0f, 0.0f}, kTol, "d loss / d x");
}

TEST(LossCrossEntropy, RejectsBadTargets) {
  const Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(nn::CrossEntropyLoss()(x, Tensor({0.0f, 3.0f})), tinyml::Error);  // class 3 of 3
  EXPECT_THROW(nn::CrossEntropyLoss()(x, Tensor({0.0f})), tinyml::Error);        // batch mismatch
  EXPECT_THROW(nn::CrossEntropyLoss()(x, Tensor()), tinyml::Error);
}

TEST(LossMSE, ValueAndGradientsMatchPyTorch) {
  // x = torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]], requires_grad=True)
  // y = torch.tensor([[1.0, 0.5, 1.5], [-1.0, 2.0, 0.0]], requires_grad=True)
  // l = torch.nn.MSELoss()(x, y); l.backward()
  Tensor x = Tensor({{0.5f, -1.0f, 2.0f}, {0.0f, 3.0f, -0.25f}});
  Tensor y = Tensor({{1.0f, 0.5f, 1.5f}, {-1.0f, 2.0f, 0.0f}});
  x.requires_grad_();
  y.requires_grad_();
  const Tensor loss = nn::MSELoss()(x, y);
  EXPECT_NEAR(loss.item(), 0.80208331f, kTol);
  loss.backward();
  expect_values(x.grad(), {-0.16666667f, -0.5f, 0.16666667f, 0.33333334f, 0.33333334f, -0.08333334f}, kTol,
                "d loss / d input");
  expect_values(y.grad(), {0.16666667f, 0.5f, -0.16666667f, -0.33333334f, -0.33333334f, 0.08333334f}, kTol,
                "d loss / d target");
}

TEST(LossMSE, RejectsShapeMismatch) {
  EXPECT_THROW(nn::MSELoss()(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})), tinyml::Error);
}

TEST(LossBCEWithLogits, ValueAndGradientMatchPyTorch) {
  // x = torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]], requires_grad=True)
  // y = torch.tensor([[1.0, 0.0, 1.0], [0.5, 0.0, 0.25]])
  // l = torch.nn.BCEWithLogitsLoss()(x, y); l.backward()
  Tensor x = Tensor({{0.5f, -1.0f, 2.0f}, {0.0f, 3.0f, -0.25f}});
  x.requires_grad_();
  const Tensor y = Tensor({{1.0f, 0.0f, 1.0f}, {0.5f, 0.0f, 0.25f}});
  const Tensor loss = nn::BCEWithLogitsLoss()(x, y);
  EXPECT_NEAR(loss.item(), 0.88240671f, kTol);
  loss.backward();
  expect_values(x.grad(), {-0.06292344f, 0.04482357f, -0.01986716f, 0.0f, 0.15876235f, 0.03130392f}, kTol,
                "d loss / d x");
}

TEST(LossBCEWithLogits, LargeLogitsStayFinite) {
  // x = torch.tensor([[100., -100.], [-100., 100.]], requires_grad=True)
  // torch.nn.BCEWithLogitsLoss()(x, torch.tensor([[0., 1.], [1., 1.]])) → 75.0,
  // grad [.25, -.25, -.25, 0]. log(σ(−100)) underflows if computed as log(1/(1+e¹⁰⁰)).
  Tensor x = Tensor({{100.0f, -100.0f}, {-100.0f, 100.0f}});
  x.requires_grad_();
  const Tensor loss = nn::BCEWithLogitsLoss()(x, Tensor({{0.0f, 1.0f}, {1.0f, 1.0f}}));
  ASSERT_TRUE(std::isfinite(loss.item()));
  EXPECT_NEAR(loss.item(), 75.0f, 1e-4f);  // 1 ulp of 75 is 8e-6
  loss.backward();
  expect_values(x.grad(), {0.25f, -0.25f, -0.25f, 0.0f}, kTol, "d loss / d x");
}

TEST(LossBCEWithLogits, RejectsShapeMismatch) {
  EXPECT_THROW(nn::BCEWithLogitsLoss()(Tensor::zeros({2, 2}), Tensor::zeros({4})), tinyml::Error);
}

}  // namespace
