// Module 05 step tests: SGD (momentum, dampening, Nesterov, weight decay) and Adam / AdamW / AMSGrad.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "course_test.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"

using namespace tinyml;
using namespace tinyml::optim;
using V = std::vector<float>;

namespace {

Tensor param(const V& v) {
  Tensor p = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
  p.requires_grad_();
  return p;
}

// Runs `steps` of the optimizer on loss = Σ (p·a − b)² from p = [1, −2, 0.5], as the PyTorch
// recordings below did.
V run(const std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>& make, int steps) {
  Tensor p = param({1.0f, -2.0f, 0.5f});
  const Tensor a = Tensor({1.0f, -0.5f, 2.0f});
  const Tensor b = Tensor({0.3f, 1.0f, -1.0f});
  auto opt = make({p});
  for (int s = 0; s < steps; ++s) {
    opt->zero_grad();
    const Tensor e = p * a - b;
    (e * e).sum().backward();
    opt->step();
  }
  return p.to_vector();
}

// Five or eight steps of float32 arithmetic on O(1) values: 2e-6 covers the rounding differences
// between two correct implementations (different but equivalent operation orders).
constexpr float kTol = 2e-6f;

}  // namespace

// ---- SGD ----

TEST(SGD, PlainStep) {
  Tensor p = param({1.0f, 2.0f});
  p.set_grad(Tensor({0.5f, -1.0f}));
  SGD opt({p}, {.lr = 0.1});
  opt.step();
  EXPECT_TRUE(course::tensor_near(p, {2}, {0.95f, 2.1f}, 1e-7f));
  EXPECT_TRUE(p.is_leaf());  // updated in place, not replaced by a graph
}

TEST(SGD, WeightDecayAddsToTheGradient) {
  Tensor p = param({1.0f, -2.0f});
  p.set_grad(Tensor({0.0f, 0.0f}));
  SGD opt({p}, {.lr = 0.5, .weight_decay = 0.1});
  opt.step();  // d = 0 + 0.1·p
  EXPECT_TRUE(course::tensor_near(p, {2}, {0.95f, -1.9f}, 1e-7f));
}

TEST(SGD, MomentumBufferStartsAtTheFirstGradient) {
  Tensor p = param({0.0f});
  SGD opt({p}, {.lr = 1.0, .momentum = 0.9, .dampening = 0.5});
  p.set_grad(Tensor({1.0f}));
  opt.step();  // b = g = 1 (no dampening on the first step)
  EXPECT_FLOAT_EQ(opt.momentum_buffer(0).item(), 1.0f);
  EXPECT_FLOAT_EQ(p.item(), -1.0f);
  opt.step();  // b = 0.9·1 + 0.5·1 = 1.4
  EXPECT_FLOAT_EQ(opt.momentum_buffer(0).item(), 1.4f);
  EXPECT_FLOAT_EQ(p.item(), -2.4f);
}

TEST(SGD, NesterovAndDampeningMatchPyTorch) {
  // Recorded with PyTorch 1.13 (torch.optim.SGD, same loss, same start, 5 steps).
  const V nesterov = run(
      [](std::vector<Tensor> ps) {
        return std::make_unique<SGD>(
            ps, SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
      },
      5);
  EXPECT_TRUE(course::tensor_near(Tensor::from_vector(nesterov, {3}), {3},
                                  {0.00643403f, -1.97275269f, -0.47213614f}, kTol));
  const V damp = run(
      [](std::vector<Tensor> ps) {
        return std::make_unique<SGD>(ps, SGDOptions{.lr = 0.05, .momentum = 0.8, .dampening = 0.5});
      },
      5);
  EXPECT_TRUE(
      course::tensor_near(Tensor::from_vector(damp, {3}), {3}, {0.54816097f, -2.0f, -1.09904003f}, kTol));
}

TEST(SGD, SkipsParametersWithoutAGradient) {
  Tensor a = param({1.0f});
  Tensor b = param({1.0f});
  a.set_grad(Tensor({1.0f}));
  SGD opt({a, b}, {.lr = 0.1, .momentum = 0.9});
  opt.step();
  EXPECT_FLOAT_EQ(a.item(), 0.9f);
  EXPECT_FLOAT_EQ(b.item(), 1.0f);
  EXPECT_FALSE(opt.momentum_buffer(1).defined());  // no gradient yet: no state either
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  opt.step();  // nothing to do
  EXPECT_FLOAT_EQ(a.item(), 0.9f);
}

TEST(SGD, ChecksItsOptions) {
  Tensor p = param({1.0f});
  EXPECT_TINYML_ERROR(SGD({p}, {.lr = 0.1, .nesterov = true}), "SGD", "Nesterov", "momentum");
  EXPECT_TINYML_ERROR(SGD({p}, {.lr = -1.0}), "learning rate", "-1");
  SGD ok({p}, {.lr = 0.1});
  p.set_grad(Tensor({2.0f}));
  ok.step();
  EXPECT_FLOAT_EQ(p.item(), 0.8f);
}

// ---- Adam ----

TEST(Adam, FirstStepMovesEveryCoordinateByLr) {
  // After bias correction m̂ = g and v̂ = g², so the first update is lr·g/(|g| + eps) ≈ lr·sign(g),
  // whatever the gradient's size.
  Tensor p = param({0.0f, 0.0f, 0.0f});
  p.set_grad(Tensor({1e-3f, -50.0f, 3.0f}));
  Adam opt({p}, {.lr = 0.01});
  opt.step();
  EXPECT_TRUE(course::tensor_near(p, {3}, {-0.01f, 0.01f, -0.01f}, 1e-6f));
  EXPECT_EQ(opt.step_count(0), 1);
  EXPECT_TRUE(course::tensor_near(opt.exp_avg(0), {3}, {1e-4f, -5.0f, 0.3f}, 1e-6f));      // (1 − β1)·g
  EXPECT_TRUE(course::tensor_near(opt.exp_avg_sq(0), {3}, {1e-9f, 2.5f, 0.009f}, 1e-6f));  // (1 − β2)·g²
}

TEST(Adam, MatchesPyTorch) {
  // Recorded with PyTorch 1.13 (torch.optim.Adam / AdamW, same loss, same start).
  const V adam = run(
      [](std::vector<Tensor> ps) {
        return std::make_unique<Adam>(ps, AdamOptions{.lr = 0.05, .weight_decay = 0.01});
      },
      5);
  EXPECT_TRUE(course::tensor_near(Tensor::from_vector(adam, {3}), {3},
                                  {0.75239497f, -1.97135067f, 0.25147909f}, kTol));
  const V adamw = run(
      [](std::vector<Tensor> ps) {
        return std::make_unique<AdamW>(ps, AdamOptions{.lr = 0.05, .weight_decay = 0.1});
      },
      5);
  EXPECT_TRUE(course::tensor_near(Tensor::from_vector(adamw, {3}), {3},
                                  {0.73046273f, -1.98872149f, 0.24167018f}, kTol));
  const V ams = run(
      [](std::vector<Tensor> ps) {
        return std::make_unique<Adam>(ps, AdamOptions{.lr = 0.05, .amsgrad = true});
      },
      8);
  EXPECT_TRUE(
      course::tensor_near(Tensor::from_vector(ams, {3}), {3}, {0.61039317f, -2.0f, 0.10616852f}, kTol));
}

TEST(Adam, StateAdvancesOnlyWithAGradient) {
  Tensor a = param({1.0f});
  Tensor b = param({1.0f});
  Adam opt({a, b});
  a.set_grad(Tensor({1.0f}));
  opt.step();
  opt.step();
  EXPECT_EQ(opt.step_count(0), 2);
  EXPECT_EQ(opt.step_count(1), 0);
  EXPECT_FLOAT_EQ(b.item(), 1.0f);
  EXPECT_TINYML_ERROR(opt.step_count(2), "Adam::step_count", "2");
}

TEST(Optimizers, MinimiseAQuadratic) {
  // min Σ (p − target)²: both optimizers must get there from far away.
  const Tensor target = Tensor({3.0f, -1.0f, 0.5f});
  for (int which = 0; which < 2; ++which) {
    Tensor p = param({0.0f, 0.0f, 0.0f});
    std::unique_ptr<Optimizer> opt;
    if (which == 0)
      opt = std::make_unique<SGD>(std::vector<Tensor>{p}, SGDOptions{.lr = 0.05, .momentum = 0.9});
    else
      opt = std::make_unique<Adam>(std::vector<Tensor>{p}, AdamOptions{.lr = 0.1});
    for (int s = 0; s < 300; ++s) {
      opt->zero_grad();
      const Tensor d = p - target;
      (d * d).sum().backward();
      opt->step();
    }
    EXPECT_TRUE(allclose(p.detach(), target, 0.0f, 1e-2f))
        << (which == 0 ? "SGD" : "Adam") << " ended at " << to_string(p);
  }
}
