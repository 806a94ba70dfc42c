// Tests of tinyml::nn::init: fans, gains and the statistics of the kaiming/xavier initialisers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/nn/init.hpp"

namespace {

using tinyml::Error;
using tinyml::Generator;
using tinyml::Tensor;
namespace init = tinyml::nn::init;

struct Stats {
  double mean = 0, var = 0, max_abs = 0;
};

Stats stats(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  Stats s;
  for (float x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (float x : v) {
    s.var += (x - s.mean) * (x - s.mean);
    s.max_abs = std::max(s.max_abs, static_cast<double>(std::abs(x)));
  }
  s.var /= static_cast<double>(v.size());
  return s;
}

// Bounds for n samples of a zero-mean distribution with standard deviation σ, at 6 standard
// errors (a false failure has probability < 1e-8 — and with fixed seeds the outcome is fixed):
// - the sample mean has standard error σ/√n;
// - the sample variance has relative standard error √((κ − 1)/n), with kurtosis κ = 9/5 for a
//   uniform and κ = 3 for a normal distribution.
void expect_uniform(const Tensor& t, double bound) {
  const Stats s = stats(t);
  const auto n = static_cast<double>(t.numel());
  const double sigma = bound / std::sqrt(3.0);
  EXPECT_LE(s.max_abs, bound * (1 + 1e-6)) << "a value outside ±bound";
  // P(all n values inside ±bound·(1 − 1e-3)) = (1 − 1e-3)ⁿ ≈ e^(−n/1000): nil for n ≥ 1e5, so a
  // bound that is too small is caught too.
  EXPECT_GE(s.max_abs, bound * (1 - 1e-3));
  EXPECT_NEAR(s.mean, 0.0, 6 * sigma / std::sqrt(n));
  EXPECT_NEAR(s.var / (sigma * sigma), 1.0, 6 * std::sqrt(0.8 / n));
}

void expect_normal(const Tensor& t, double sigma) {
  const Stats s = stats(t);
  const auto n = static_cast<double>(t.numel());
  EXPECT_NEAR(s.mean, 0.0, 6 * sigma / std::sqrt(n));
  EXPECT_NEAR(s.var / (sigma * sigma), 1.0, 6 * std::sqrt(2.0 / n));
}

TEST(InitFans, MatchPyTorchDefinition) {
  const auto [in2, out2] = init::calculate_fan_in_and_fan_out(Tensor::empty({30, 20}));
  EXPECT_EQ(in2, 20);
  EXPECT_EQ(out2, 30);
  // A conv-shaped weight (out, in, kh, kw): the receptive field multiplies both fans.
  const auto [in4, out4] = init::calculate_fan_in_and_fan_out(Tensor::empty({8, 3, 5, 5}));
  EXPECT_EQ(in4, 75);
  EXPECT_EQ(out4, 200);
  EXPECT_THROW(init::calculate_fan_in_and_fan_out(Tensor::empty({5})), Error);
}

TEST(InitGain, MatchesPyTorchTable) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("conv2d"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("sigmoid"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("selu"), 0.75);
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1.0 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  // Linear's a = √5 gives gain √(1/3), hence the bound 1/√fan_in.
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_THROW(init::calculate_gain("swish"), Error);
}

TEST(InitKaiming, UniformDefaultHasHeBound) {
  // (256, 512): n = 131072 samples. Defaults a = 0, fan_in, leaky_relu → gain √2, bound √(6/512).
  Generator gen(1);
  Tensor w = init::kaiming_uniform_(Tensor::empty({256, 512}), 0.0, "fan_in", "leaky_relu", gen);
  expect_uniform(w, std::sqrt(6.0 / 512.0));
}

TEST(InitKaiming, UniformFanOutRelu) {
  Generator gen(2);
  Tensor w = init::kaiming_uniform_(Tensor::empty({128, 1024}), 0.0, "fan_out", "relu", gen);
  expect_uniform(w, std::sqrt(6.0 / 128.0));
}

TEST(InitKaiming, LinearDefaultBoundIsOneOverSqrtFanIn) {
  Generator gen(3);
  Tensor w = init::kaiming_uniform_(Tensor::empty({300, 400}), std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  expect_uniform(w, 1.0 / std::sqrt(400.0));
}

TEST(InitKaiming, NormalHasHeStd) {
  Generator gen(4);
  Tensor w = init::kaiming_normal_(Tensor::empty({256, 512}), 0.0, "fan_out", "relu", gen);
  expect_normal(w, std::sqrt(2.0 / 256.0));
}

TEST(InitKaiming, RejectsBadMode) {
  EXPECT_THROW(init::kaiming_uniform_(Tensor::empty({4, 4}), 0.0, "fan_avg"), Error);
  EXPECT_THROW(init::kaiming_normal_(Tensor::empty({4}), 0.0), Error);  // no fan for 1-D
}

TEST(InitXavier, UniformHasGlorotBound) {
  Generator gen(5);
  Tensor w = init::xavier_uniform_(Tensor::empty({200, 600}), 1.0, gen);
  expect_uniform(w, std::sqrt(6.0 / 800.0));
}

TEST(InitXavier, NormalHasGlorotStdTimesGain) {
  Generator gen(6);
  Tensor w = init::xavier_normal_(Tensor::empty({200, 600}), 2.0, gen);
  expect_normal(w, 2.0 * std::sqrt(2.0 / 800.0));
}

TEST(InitBasic, UniformNormalConstant) {
  Generator gen(7);
  Tensor u = init::uniform_(Tensor::empty({100000}), -3.0, 3.0, gen);
  expect_uniform(u, 3.0);
  // normal_ with a mean: shift back before checking the spread.
  Tensor nrm = init::normal_(Tensor::empty({100000}), 2.0, 0.5, gen);
  const Stats s = stats(nrm);
  EXPECT_NEAR(s.mean, 2.0, 6 * 0.5 / std::sqrt(1e5));
  EXPECT_NEAR(s.var / 0.25, 1.0, 6 * std::sqrt(2.0 / 1e5));

  EXPECT_EQ(init::constant_(Tensor::empty({2, 2}), 1.5).to_vector(), std::vector<float>(4, 1.5f));
  EXPECT_EQ(init::zeros_(Tensor::ones({3})).to_vector(), std::vector<float>(3, 0.0f));
  EXPECT_EQ(init::ones_(Tensor::zeros({3})).to_vector(), std::vector<float>(3, 1.0f));
  EXPECT_THROW(init::uniform_(Tensor::empty({2}), 1.0, -1.0), Error);
  EXPECT_THROW(init::normal_(Tensor::empty({2}), 0.0, -1.0), Error);
  EXPECT_THROW(init::zeros_(Tensor()), Error);
}

TEST(InitBasic, SeededAndLayoutIndependent) {
  Generator g1(42), g2(42);
  const Tensor a = init::xavier_uniform_(Tensor::empty({4, 6}), 1.0, g1);
  const Tensor b = init::xavier_uniform_(Tensor::empty({4, 6}), 1.0, g2);
  EXPECT_TRUE(tinyml::equal(a, b));

  // A strided view is filled in its own row-major order, like a fresh tensor of its shape.
  Generator g3(9), g4(9);
  Tensor base = Tensor::zeros({5, 3});
  Tensor view = base.t();  // (3, 5), not contiguous
  ASSERT_FALSE(view.is_contiguous());
  init::uniform_(view, -1.0, 1.0, g3);
  const Tensor fresh = init::uniform_(Tensor::empty({3, 5}), -1.0, 1.0, g4);
  EXPECT_TRUE(tinyml::equal(view.contiguous(), fresh));
  EXPECT_TRUE(tinyml::equal(base, fresh.t().contiguous()));  // written through to the storage
}

TEST(InitBasic, FillsParametersThatRequireGrad) {
  // Runs under NoGradGuard: filling a leaf that requires grad records nothing.
  Tensor w = Tensor::empty({3, 3}).requires_grad_();
  init::ones_(w);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  EXPECT_EQ(w.to_vector(), std::vector<float>(9, 1.0f));
}

}  // namespace
