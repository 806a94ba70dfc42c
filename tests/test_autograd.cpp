// Autograd: backward, accumulation, diamonds, retain_graph, NoGradGuard, deep chains, gradcheck.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/autograd/gradcheck.hpp"
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using ::testing::HasSubstr;

namespace {
Tensor leaf(Tensor t) { return t.requires_grad_(); }
void expect_vec_near(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}
}  // namespace

TEST(Autograd, SimpleChainRule) {
  Tensor x = leaf(Tensor({2.0f, -3.0f}));
  Tensor y = (x * x * 3.0f + x).sum();  // dy/dx = 6x + 1
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{13.0f, -17.0f}));
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf(Tensor({1.0f}));
  (x * 2.0f).sum().backward();
  (x * 3.0f).sum().backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 5.0f);
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  // z = a·b with a = x+1, b = 2x: dz/dx = b + 2a = 2x + 2(x+1) = 4x + 2.
  Tensor x = leaf(Tensor({1.5f, -0.5f}));
  Tensor a = x + 1.0f;
  Tensor b = x * 2.0f;
  (a * b).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{8.0f, 0.0f}));
  // A tensor used twice by one op.
  Tensor y = leaf(Tensor({3.0f}));
  (y * y).sum().backward();
  EXPECT_FLOAT_EQ(y.grad().item(), 6.0f);
}

TEST(Autograd, LeafGradientsNeverAliasEachOtherTheSeedOrAView) {
  // a + b hands the same gradient tensor to both leaves: each must get its own.
  Tensor a = leaf(Tensor({1.0f, 2.0f}));
  Tensor b = leaf(Tensor({3.0f, 4.0f}));
  Tensor seed = Tensor({1.0f, -1.0f});
  (a + b).backward(seed);
  EXPECT_FALSE(a.grad().same_storage(b.grad()));
  EXPECT_FALSE(a.grad().same_storage(seed));
  a.grad().fill_(5.0f);
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{1.0f, -1.0f}));
  EXPECT_EQ(seed.to_vector(), (std::vector<float>{1.0f, -1.0f}));
  // The backward of a transpose returns a (non-contiguous) view: the stored gradient is contiguous
  // and holds the values a copy would.
  Tensor w = leaf(Tensor({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}));
  Tensor scale = Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
  (w.t() * scale).sum().backward();
  EXPECT_TRUE(w.grad().is_contiguous());
  EXPECT_EQ(w.grad().to_vector(), (std::vector<float>{1, 3, 5, 2, 4, 6}));
  // A backward returning part of a fresh block (the only handle on it, contiguous): the leaf gets
  // a compact copy, not a view that keeps the whole block or starts at an offset.
  for (const int64_t start : {0, 3}) {
    Tensor x = leaf(Tensor({1.0f, 2.0f, 3.0f}));
    Tensor y =
        autograd::record(Tensor::zeros({3}), "TestBackward", {x}, [start](autograd::Node&, const Tensor&) {
          return std::vector<Tensor>{Tensor::arange(6.0f).slice(0, start, start + 3)};
        });
    y.backward(Tensor::ones({3}));
    EXPECT_EQ(x.grad().impl()->storage->size(), 3u) << start;
    EXPECT_EQ(x.grad().offset(), 0) << start;
    EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{float(start), float(start + 1), float(start + 2)}));
  }
}

TEST(Autograd, KeptLeafGradientsAccumulateExactlyOnAnMlpStep) {
  // A Linear-ReLU-Linear step, whose leaf gradients are all kept without a copy: a second
  // backward adds into them in place and gives exactly twice the first (clones taken before).
  Generator gen(3);
  Tensor x = Tensor::randn({5, 4}, gen);
  Tensor w1 = leaf(Tensor::randn({6, 4}, gen)), b1 = leaf(Tensor::randn({6}, gen));
  Tensor w2 = leaf(Tensor::randn({2, 6}, gen)), b2 = leaf(Tensor::randn({2}, gen));
  auto loss = [&] { return linear(relu(linear(x, w1, b1)), w2, b2).pow(2.0f).sum(); };
  loss().backward();
  std::vector<Tensor> first;
  for (Tensor* p : {&w1, &b1, &w2, &b2}) first.push_back(p->grad().clone());
  loss().backward();
  for (size_t i = 0; Tensor * p : {&w1, &b1, &w2, &b2}) {
    const Tensor want = first[i] + first[i];  // the same graph twice: the same gradient twice
    EXPECT_EQ(p->grad().to_vector(), want.to_vector()) << "parameter " << i;
    ++i;
  }
}

TEST(Autograd, BackwardWithGradientArgumentAndErrors) {
  Tensor x = leaf(Tensor({1.0f, 2.0f}));
  Tensor y = x * 3.0f;
  EXPECT_THAT([&] { y.backward(); }, ::testing::ThrowsMessage<Error>(HasSubstr("one element")));
  EXPECT_THROW(y.backward(Tensor({1.0f})), Error);
  y.backward(Tensor({1.0f, 0.5f}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{3.0f, 1.5f}));
  EXPECT_THROW(Tensor({1.0f}).backward(), Error);  // does not require grad
}

TEST(Autograd, GraphIsFreedUnlessRetained) {
  Tensor x = leaf(Tensor({2.0f}));
  Tensor y = (x * x).sum();
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 8.0f);
  EXPECT_THAT([&] { y.backward(); }, ::testing::ThrowsMessage<Error>(HasSubstr("second time")));
  EXPECT_TRUE(y.grad_fn()->inputs.empty());  // edges released: nothing kept alive
}

TEST(Autograd, NoGradGuardAndDetach) {
  Tensor x = leaf(Tensor({1.0f}));
  {
    NoGradGuard guard;
    Tensor y = x * 2.0f;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.same_storage(x));
  EXPECT_THROW((x * 2.0f).requires_grad_(false), Error);
}

TEST(Autograd, RetainGradOnIntermediate) {
  Tensor x = leaf(Tensor({1.0f, 2.0f}));
  Tensor h = x * 2.0f;
  h.retain_grad();
  (h * h).sum().backward();
  EXPECT_EQ(h.grad().to_vector(), (std::vector<float>{4.0f, 8.0f}));
}

TEST(Autograd, HundredThousandOpChainNeitherOverflowsNorLeaks) {
  Tensor x = leaf(Tensor({1.0f}));
  std::weak_ptr<autograd::Node> first;
  {
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) {
      y = y * 1.0f;
      if (i == 0) first = y.grad_fn();
    }
    y.sum().backward(Tensor(), /*retain_graph=*/true);
    EXPECT_FLOAT_EQ(x.grad().item(), 1.0f);
  }  // the chain is destroyed here, iteratively
  EXPECT_TRUE(first.expired());
}

TEST(Autograd, NoReferenceCycleAfterForward) {
  std::weak_ptr<TensorImpl> weak;
  {
    Tensor x = leaf(Tensor({1.0f, 2.0f}));
    Tensor y = x.sigmoid();  // saves its output: must be a detached copy, not `out`
    weak = y.impl();
  }
  EXPECT_TRUE(weak.expired());
}

// Values recorded from PyTorch 1.13:
//   a = torch.tensor([[0.5,-1.2,2.0],[1.5,0.3,-0.7]], requires_grad=True)
//   b = torch.tensor([0.2,-0.4,1.1], requires_grad=True)
//   y = ((a*b + a.exp()).sigmoid() * a.tanh()).sum(1).log_softmax(0)
//   (y * torch.tensor([1.,2.])).sum().backward()
TEST(Autograd, CompositeExpressionMatchesPyTorch) {
  Tensor a = leaf(Tensor({{0.5f, -1.2f, 2.0f}, {1.5f, 0.3f, -0.7f}}));
  Tensor b = leaf(Tensor({0.2f, -0.4f, 1.1f}));
  Tensor y = ((a * b + a.exp()).sigmoid() * a.tanh()).sum(1).log_softmax(0);
  (y * Tensor({1.0f, 2.0f})).sum().backward();
  expect_vec_near(y.to_vector(), {-0.7319509387016296, -0.6557931900024414}, 1e-6);
  expect_vec_near(a.grad().to_vector(),
                  {-0.3444690406322479, -0.10052679479122162, -0.031537752598524094, 0.09484265744686127,
                   0.33508798480033875, 0.016597092151641846},
                  1e-6);
  expect_vec_near(b.grad().to_vector(), {-0.007962474599480629, -0.08867626637220383, 0.045920927077531815},
                  1e-6);
}

// From PyTorch 1.13:
//   x = torch.tensor([[1.,-2.],[0.5,3.],[-1.5,0.25]]); w = torch.tensor([[0.3,-0.1,0.8],[-0.6,0.9,0.2]])
//   h = (x @ w).relu(); s = h.softmax(1)
//   l = (s*s).mean() + (h-1.0).pow(2).mean() / (1.0 + h.abs().sum()); l.backward()
TEST(Autograd, MatmulSoftmaxExpressionMatchesPyTorch) {
  Tensor x = leaf(Tensor({{1.0f, -2.0f}, {0.5f, 3.0f}, {-1.5f, 0.25f}}));
  Tensor w = leaf(Tensor({{0.3f, -0.1f, 0.8f}, {-0.6f, 0.9f, 0.2f}}));
  Tensor h = x.matmul(w).relu();
  Tensor s = h.softmax(1);
  Tensor l = (s * s).mean() + (h - 1.0f).pow(2).mean() / (1.0f + h.abs().sum());
  l.backward();
  EXPECT_NEAR(l.item(), 0.28810641169548035, 1e-6);
  expect_vec_near(x.grad().to_vector(),
                  {-0.033370647579431534, -0.02283826284110546, -0.033814430236816406, 0.046517904847860336,
                   0.003081619506701827, -0.027734573930501938},
                  1e-6);
  expect_vec_near(w.grad().to_vector(),
                  {0.021474963054060936, 0.0759386196732521, -0.0671861469745636, -0.04294992610812187,
                   0.17058193683624268, -0.004985522478818893},
                  1e-6);
}

TEST(Autograd, GradcheckDetectsAWrongGradient) {
  // A deliberately wrong backward must be caught: gradcheck is not a test that cannot fail.
  auto wrong = [](const std::vector<Tensor>& in) {
    Tensor out = Tensor::empty(in[0].shape());
    out.copy_(in[0] * in[0]);
    return autograd::record(out, "WrongBackward", {in[0]}, [](autograd::Node& n, const Tensor& g) {
      return std::vector<Tensor>{g * n.inputs[0] * 3.0f};  // should be 2x
    });
  };
  Generator gen(3);
  auto res = gradcheck(wrong, {Tensor::randn({4}, gen).requires_grad_()});
  EXPECT_FALSE(res.ok);
  EXPECT_THAT(res.message, HasSubstr("analytic"));
}
