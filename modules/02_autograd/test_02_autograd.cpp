// Module 02 step tests: the backward engine (order, accumulation, graph release) and op backwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/autograd/gradcheck.hpp"
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using V = std::vector<float>;

namespace {
Tensor leaf(const Tensor& t) {
  Tensor x = t;
  x.requires_grad_();
  return x;
}
}  // namespace

// ---- the engine ----

TEST(Engine, ScalarExpression) {
  Tensor x = leaf(Tensor::scalar(3.0f));
  Tensor y = x * x + 2.0f * x;  // dy/dx = 2x + 2
  y.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_FLOAT_EQ(x.grad().item(), 8.0f);
}

TEST(Engine, SharedIntermediateGetsTheSumOfItsGradients) {
  // s feeds two branches: d = 2s + 3s = 5a², so dd/da = 10a. The node of s must run once, after
  // both branches have handed it their gradient.
  Tensor a = leaf(Tensor::scalar(2.0f));
  Tensor s = a * a;
  Tensor d = s * 2.0f + s * 3.0f;
  d.backward();
  EXPECT_FLOAT_EQ(a.grad().item(), 20.0f);
}

TEST(Engine, ManyDiamondsRunInLinearTime) {
  // y_{k+1} = y_k + y_k, 40 times: y = 2^40 x. An engine that runs a node once per incoming
  // gradient instead of once per node would make 2^40 calls and never finish.
  Tensor x = leaf(Tensor::scalar(1.0f));
  Tensor y = x;
  for (int k = 0; k < 40; ++k) y = y + y;
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item(), std::ldexp(1.0f, 40));  // a power of two: exact in float
}

TEST(Engine, DeepChainDoesNotOverflowTheStack) {
  // 100 000 nodes: a recursive depth-first search would need 100 000 stack frames.
  Tensor x = leaf(Tensor::scalar(0.0f));
  Tensor y = x;
  for (int k = 0; k < 100000; ++k) y = y + 1.0f;
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 1.0f);
  EXPECT_FLOAT_EQ(y.item(), 100000.0f);
}

TEST(Engine, LeafGradientsAccumulateAcrossCalls) {
  Tensor x = leaf(Tensor({1.0f, 2.0f}));
  (x * x).sum().backward();  // 2x
  EXPECT_EQ(x.grad().to_vector(), (V{2, 4}));
  (x * 3.0f).sum().backward();  // + 3
  EXPECT_EQ(x.grad().to_vector(), (V{5, 7}));
  x.zero_grad();
  (x * 3.0f).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (V{3, 3}));
}

TEST(Engine, StoredGradientDoesNotAliasTheGraph) {
  // y = x (a clone): the gradient that reaches x is the seed itself. Storing that tensor as x.grad
  // and later adding into it in place would change the caller's seed.
  Tensor x = leaf(Tensor({1.0f, 2.0f}));
  Tensor seed = Tensor({10.0f, 20.0f});
  x.clone().backward(seed);
  x.clone().backward(seed);
  EXPECT_EQ(x.grad().to_vector(), (V{20, 40}));
  EXPECT_EQ(seed.to_vector(), (V{10, 20}));
}

TEST(Engine, ALeafKeepsAFreshGradientAndCopiesAHeldOne) {
  // An op whose backward returns a fresh tensor: nothing else holds it, so the leaf keeps it as it
  // is (no copy). The same op returning a tensor it also keeps: the leaf must get a copy.
  Tensor held = Tensor({7.0f, 8.0f});
  const TensorImpl* fresh_impl = nullptr;
  auto run = [&](bool keep) {
    Tensor x = leaf(Tensor({1.0f, 2.0f}));
    Tensor y =
        autograd::record(Tensor({0.0f, 0.0f}), "TestBackward", {x}, [&](autograd::Node&, const Tensor&) {
          if (keep) return std::vector<Tensor>{held};
          Tensor g = Tensor({3.0f, 4.0f});
          fresh_impl = g.impl().get();
          return std::vector<Tensor>{g};
        });
    y.backward(Tensor({1.0f, 1.0f}));
    return x;
  };
  const Tensor kept = run(false);
  EXPECT_EQ(kept.grad().impl().get(), fresh_impl) << "a fresh gradient is kept without a copy";
  EXPECT_EQ(kept.grad().to_vector(), (V{3, 4}));
  const Tensor copied = run(true);
  EXPECT_FALSE(copied.grad().same_storage(held)) << "a gradient someone else holds is copied";
  held.fill_(0.0f);
  EXPECT_EQ(copied.grad().to_vector(), (V{7, 8}));
}

TEST(Engine, NonScalarOutputNeedsAGradient) {
  Tensor x = leaf(Tensor({1.0f, 2.0f, 3.0f}));
  Tensor y = x * 2.0f;
  EXPECT_TINYML_ERROR(y.backward(), "backward", "one element", "[3]");
  y.backward(Tensor({1.0f, 0.5f, -1.0f}));  // a vector-Jacobian product
  EXPECT_EQ(x.grad().to_vector(), (V{2, 1, -2}));
  EXPECT_TINYML_ERROR((x * 2.0f).backward(Tensor({1.0f, 2.0f})), "gradient shape [2]", "[3]");
}

TEST(Engine, SecondBackwardNeedsRetainGraph) {
  Tensor x = leaf(Tensor({1.0f, -2.0f}));
  Tensor y = (x * x).sum();
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // allowed: the graph was kept
  EXPECT_EQ(x.grad().to_vector(), (V{4, -8}));
  // Now the graph is freed: a third pass must say so instead of reading released state.
  EXPECT_TINYML_ERROR(y.backward(), "second time", "retain_graph");
}

TEST(Engine, RetainGradKeepsAnIntermediateGradient) {
  Tensor x = leaf(Tensor({1.0f, 3.0f}));
  Tensor h = x * 2.0f;
  h.retain_grad();
  (h * h).sum().backward();  // d/dh = 2h
  ASSERT_TRUE(h.grad().defined());
  EXPECT_EQ(h.grad().to_vector(), (V{4, 12}));
  EXPECT_EQ(x.grad().to_vector(), (V{8, 24}));
}

TEST(Engine, OnlyInputsThatRequireGradGetOne) {
  Tensor a = leaf(Tensor({1.0f, 2.0f}));
  Tensor b = Tensor({3.0f, 4.0f});  // a constant
  Tensor unused = leaf(Tensor({5.0f}));
  Tensor other = unused * 2.0f;  // a graph that does not reach the output
  (a * b).sum().backward();
  EXPECT_EQ(a.grad().to_vector(), (V{3, 4}));
  EXPECT_FALSE(b.grad().defined());
  EXPECT_FALSE(unused.grad().defined());
  EXPECT_TRUE(other.requires_grad());
}

TEST(Engine, NoGradGuardStopsRecording) {
  Tensor x = leaf(Tensor({2.0f}));
  Tensor frozen;
  {
    NoGradGuard guard;
    frozen = x * 3.0f;
  }
  EXPECT_FALSE(frozen.requires_grad());
  // A recorded graph next to the frozen value: only the recorded part reaches x.
  (x * frozen).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (V{6}));
}

// ---- op backwards ----

TEST(SumTo, ReducesBroadcastDims) {
  const Tensor g = Tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_TRUE(course::tensor_near(sum_to(g, {3}), {3}, {5, 7, 9}, 0));
  EXPECT_TRUE(course::tensor_near(sum_to(g, {1, 3}), {1, 3}, {5, 7, 9}, 0));
  EXPECT_TRUE(course::tensor_near(sum_to(g, {2, 1}), {2, 1}, {6, 15}, 0));
  EXPECT_TRUE(course::tensor_near(sum_to(g, {}), {}, {21}, 0));
  EXPECT_TRUE(course::tensor_near(sum_to(g, {2, 3}), {2, 3}, {1, 2, 3, 4, 5, 6}, 0));
  EXPECT_TINYML_ERROR(sum_to(g, {4}), "sum_to", "[2, 3]", "[4]");
  EXPECT_TINYML_ERROR(sum_to(g, {1, 2, 3, 4}), "sum_to");
}

TEST(Broadcasting, GradientsComeBackInTheInputShape) {
  Tensor a = leaf(Tensor({{1, 2, 3}, {4, 5, 6}}));
  Tensor b = leaf(Tensor({10, 20, 30}));
  Tensor c = leaf(Tensor({{2}, {3}}));
  ((a + b) * c).sum().backward();
  EXPECT_TRUE(course::tensor_near(a.grad(), {2, 3}, {2, 2, 2, 3, 3, 3}, 0));
  EXPECT_TRUE(course::tensor_near(b.grad(), {3}, {5, 5, 5}, 0));    // used in both rows
  EXPECT_TRUE(course::tensor_near(c.grad(), {2, 1}, {66, 75}, 0));  // row sums of a + b
}

TEST(Reductions, SumAndMeanAlongADim) {
  Tensor x = leaf(Tensor({{1, 2, 3}, {4, 5, 6}}));
  x.sum(1).backward(Tensor({1.0f, 2.0f}));
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 3}, {1, 1, 1, 2, 2, 2}, 0));
  x.zero_grad();
  x.sum(0, /*keepdim=*/true).backward(Tensor({{1.0f, 2.0f, 3.0f}}));
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 3}, {1, 2, 3, 1, 2, 3}, 0));
  x.zero_grad();
  x.mean(0).sum().backward();  // each element weighs 1/2
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 3}, V(6, 0.5f), 0));
}

TEST(Reductions, MaxSendsTheGradientToTheWinner) {
  Tensor x = leaf(Tensor({{1, 5, 3}, {7, 2, 6}}));
  x.max(1).backward(Tensor({10.0f, 20.0f}));
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 3}, {0, 10, 0, 20, 0, 0}, 0));
  x.zero_grad();
  x.min(0).sum().backward();
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 3}, {1, 0, 1, 0, 1, 0}, 0));
  x.zero_grad();
  x.max().backward();
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 3}, {0, 0, 0, 1, 0, 0}, 0));
}

TEST(Gradients, MatchPyTorch) {
  // Recorded with PyTorch 1.13:
  //   x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
  //   w = torch.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
  //   b = torch.tensor([0.1, -0.2], requires_grad=True)
  //   f = (torch.tanh(x @ w + b) * x).sum() + (x * x).mean(); f.backward()
  Tensor x = leaf(Tensor({{0.5f, -1.0f}, {2.0f, 0.25f}}));
  Tensor w = leaf(Tensor({{1.0f, 2.0f}, {3.0f, -1.0f}}));
  Tensor b = leaf(Tensor({0.1f, -0.2f}));
  Tensor f = (tanh(matmul(x, w) + b) * x).sum() + (x * x).mean();
  f.backward();
  // float32 through tanh: agreement to a few ulps of values near 1, so 1e-5.
  EXPECT_NEAR(f.item(), 2.125730037689209f, 1e-5f);
  EXPECT_TRUE(
      course::tensor_near(x.grad(), {2, 2}, {-0.92459977f, 0.59893996f, 2.02156734f, 1.20229614f}, 1e-5f));
  EXPECT_TRUE(
      course::tensor_near(w.grad(), {2, 2}, {0.06127512f, -0.05013170f, -0.00954446f, 0.10376430f}, 1e-5f));
  EXPECT_TRUE(course::tensor_near(b.grad(), {2}, {0.04278146f, -0.10273463f}, 1e-5f));
}

TEST(Gradients, AgreeWithFiniteDifferences) {
  Generator gen(2);
  // Inputs away from the kinks of abs and the poles of log/div, so central differences are smooth.
  Tensor a = leaf(Tensor::rand({3, 4}, gen) + 0.5f);
  Tensor b = leaf(Tensor::rand({4}, gen) + 0.5f);
  Tensor m = leaf(Tensor::randn({4, 2}, gen));
  const auto check = [](const char* what, auto fn, std::vector<Tensor> inputs) {
    const GradcheckResult r = gradcheck(fn, inputs);
    EXPECT_TRUE(r.ok) << what << ": " << r.message;
  };
  check("elementwise",
        [](const std::vector<Tensor>& in) { return (in[0] * in[1] + in[0] / in[1]).log().sigmoid(); },
        {a, b});
  check("pow, sqrt, exp",
        [](const std::vector<Tensor>& in) { return (in[0].pow(3.0f) + in[0].sqrt()).exp() - in[1]; }, {a, b});
  check("matmul, transpose", [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]).t().tanh(); },
        {a, m});
  check("views",
        [](const std::vector<Tensor>& in) {
          return in[0].slice(1, 1, 4).reshape({9}).unsqueeze(0).expand({2, 9}) * 2.0f;
        },
        {a});
  check("reductions",
        [](const std::vector<Tensor>& in) {
          return in[0].sum(0) + in[0].mean(1, true).sum() + in[0].max(1).sum();
        },
        {a});
}
