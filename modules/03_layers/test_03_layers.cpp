// Module 03 step tests: Module (parameters, hooks, call), Linear, Sequential.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using namespace tinyml::nn;
using ::testing::ElementsAre;
using V = std::vector<float>;

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

// y = alpha · x with one learnable scalar: a user-defined module.
class Scale : public Module {
 public:
  Scale() { alpha = register_parameter("alpha", Tensor::full({1}, 2.0f)); }
  Tensor forward(const Tensor& x) override { return x * alpha; }
  std::string type_name() const override { return "Scale"; }
  Tensor alpha;
};

// One Linear registered under two names (weight tying), and an absent parameter.
class Tied : public Module {
 public:
  Tied() {
    shared = register_module("encoder", std::make_shared<Linear>(2, 2));
    register_module("decoder", shared);
    register_parameter("unused", Tensor());
  }
  Tensor forward(const Tensor& x) override { return (*shared)(x); }
  std::string type_name() const override { return "Tied"; }
  std::shared_ptr<Linear> shared;
};

void set_linear(Linear& l, const Tensor& w, const Tensor& b) {
  NoGradGuard no_grad;
  l.weight.copy_(w);
  if (b.defined()) l.bias.copy_(b);
}

}  // namespace

// ---- Linear ----

TEST(Linear, RegistersWeightAndBias) {
  Linear l(4, 3);
  EXPECT_EQ(l.weight.shape(), (Shape{3, 4}));  // (out, in), as PyTorch
  ASSERT_TRUE(l.bias.defined());
  EXPECT_EQ(l.bias.shape(), (Shape{3}));
  EXPECT_THAT(names_of(l.named_parameters()), ElementsAre("weight", "bias"));
  for (const Tensor& p : l.parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  EXPECT_TRUE(l.parameters()[0].same_storage(l.weight));  // handles, not copies
}

TEST(Linear, WithoutBias) {
  Linear l(3, 2, /*bias=*/false);
  EXPECT_FALSE(l.bias.defined());
  EXPECT_THAT(names_of(l.named_parameters()), ElementsAre("weight"));
  set_linear(l, Tensor({{1, 0, -1}, {2, 1, 0}}), Tensor());
  EXPECT_TRUE(course::tensor_near(l(Tensor({{1, 2, 3}})), {1, 2}, {-2, 4}, 0));
}

TEST(Linear, InitialisesLikePyTorch) {
  // PyTorch's reset_parameters: weight by kaiming_uniform_(a = √5), which is U(±1/√in), then the
  // bias from U(±1/√in), drawn in that order from the generator.
  Generator g1(7), g2(7);
  Linear l(4, 3, true, g1);
  Tensor w = Tensor::empty({3, 4});
  Tensor b = Tensor::empty({3});
  init::kaiming_uniform_(w, std::sqrt(5.0), "fan_in", "leaky_relu", g2);
  init::uniform_(b, -0.5, 0.5, g2);
  EXPECT_TRUE(equal(l.weight.detach(), w));
  EXPECT_TRUE(equal(l.bias.detach(), b));
}

TEST(Linear, InitialValuesSpreadOverTheBound) {
  Generator gen(1);
  Linear l(256, 64, true, gen);
  const float bound = 1.0f / 16.0f;  // 1/√256
  const V w = l.weight.to_vector();
  double sq = 0.0;
  for (float v : w) {
    ASSERT_LE(std::fabs(v), bound);
    sq += static_cast<double>(v) * v;
  }
  // U(−a, a) has standard deviation a/√3; with 16 384 draws the estimate is within ~1 %, so 5 %.
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(w.size())), bound / std::sqrt(3.0),
              0.05 * bound / std::sqrt(3.0));
}

TEST(Linear, RejectsEmptySizes) {
  EXPECT_TINYML_ERROR(Linear(0, 3), "Linear", "in_features=0");
  EXPECT_TINYML_ERROR(Linear(3, -1), "Linear", "out_features=-1");
}

TEST(Linear, ForwardIsXWTransposedPlusB) {
  Linear l(3, 2);
  set_linear(l, Tensor({{1, 2, 3}, {-1, 0, 1}}), Tensor({0.5f, -0.5f}));
  // [1 1 1]·W^T + b = [6.5, -0.5];  [0 1 -1]·W^T + b = [-0.5, -1.5]
  EXPECT_TRUE(
      course::tensor_near(l(Tensor({{1, 1, 1}, {0, 1, -1}})), {2, 2}, {6.5f, -0.5f, -0.5f, -1.5f}, 1e-6f));
  // One example without a batch dim, and a batch with two leading dims.
  EXPECT_TRUE(course::tensor_near(l(Tensor({1, 1, 1})), {2}, {6.5f, -0.5f}, 1e-6f));
  const Tensor y3 = l(Tensor::ones({2, 4, 3}));
  EXPECT_EQ(y3.shape(), (Shape{2, 4, 2}));
  EXPECT_TRUE(course::tensor_near(y3.reshape({8, 2}).slice(0, 7, 8), {1, 2}, {6.5f, -0.5f}, 1e-6f));
}

TEST(Linear, ForwardChecksTheInputWidth) {
  Linear l(3, 2);
  EXPECT_TINYML_ERROR(l(Tensor::ones({2, 4})), "Linear::forward", "3", "[2, 4]");
  EXPECT_TINYML_ERROR(l(Tensor()), "Linear::forward");
}

TEST(Linear, GradientsReachWeightAndBias) {
  Linear l(2, 3);
  const Tensor x = Tensor({{1, 2}, {3, 4}});
  l(x).sum().backward();
  // dL/dW = gᵀ·x with g all ones: every row is the column sums of x; dL/db = batch size.
  EXPECT_TRUE(course::tensor_near(l.weight.grad(), {3, 2}, {4, 6, 4, 6, 4, 6}, 1e-6f));
  EXPECT_TRUE(course::tensor_near(l.bias.grad(), {3}, {2, 2, 2}, 1e-6f));
}

// ---- Module ----

TEST(Module, UserDefinedModule) {
  auto s = std::make_shared<Scale>();
  EXPECT_THAT(names_of(s->named_parameters()), ElementsAre("alpha"));
  EXPECT_TRUE(course::tensor_near((*s)(Tensor({1, -3})), {2}, {2, -6}, 0));
  Sequential seq{std::make_shared<Linear>(1, 1), s};
  EXPECT_THAT(names_of(seq.named_parameters()), ElementsAre("0.weight", "0.bias", "1.alpha"));
}

TEST(Module, NamedParametersUseDottedPaths) {
  auto inner = std::make_shared<Sequential>(std::make_shared<Linear>(2, 2), std::make_shared<ReLU>());
  Sequential outer{inner, std::make_shared<Linear>(2, 1)};
  EXPECT_THAT(names_of(outer.named_parameters()),
              ElementsAre("0.0.weight", "0.0.bias", "1.weight", "1.bias"));
  EXPECT_TRUE(outer.named_parameters(/*recurse=*/false).empty());  // Sequential owns none itself
  EXPECT_EQ(outer.parameters().size(), 4u);
  EXPECT_TRUE(outer.parameters()[2].same_storage(outer.at<Linear>(1)->weight));
}

TEST(Module, SharedParametersAreListedOnce) {
  Tied t;
  // The Linear is reachable as "encoder" and "decoder": an optimizer given both copies would
  // update it twice per step. The absent parameter is skipped.
  EXPECT_THAT(names_of(t.named_parameters()), ElementsAre("encoder.weight", "encoder.bias"));
  EXPECT_EQ(t.parameters().size(), 2u);
}

TEST(Module, ZeroGradClearsEveryParameter) {
  Sequential m{std::make_shared<Linear>(2, 2), std::make_shared<ReLU>(), std::make_shared<Linear>(2, 1)};
  m(Tensor({{1, 2}})).sum().backward();
  EXPECT_TRUE(m.at<Linear>(2)->weight.grad().defined());
  m.zero_grad();
  for (const Tensor& p : m.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, StateDictCopiesIntoAnotherModel) {
  Generator g1(1), g2(2);
  Sequential a{std::make_shared<Linear>(3, 4, true, g1), std::make_shared<ReLU>(),
               std::make_shared<Linear>(4, 2, true, g1)};
  Sequential b{std::make_shared<Linear>(3, 4, true, g2), std::make_shared<ReLU>(),
               std::make_shared<Linear>(4, 2, true, g2)};
  const Tensor x = Tensor({{0.5f, -1.0f, 2.0f}});
  EXPECT_FALSE(allclose(a(x), b(x)));
  b.load_state_dict(a.state_dict());
  EXPECT_TRUE(equal(a(x).detach(), b(x).detach()));
}

// ---- hooks, through Module::operator() ----

TEST(Hooks, PreHookCanReplaceTheInput) {
  Scale s;
  auto h =
      s.register_forward_pre_hook([](Module&, const Tensor& x) -> std::optional<Tensor> { return x + 1.0f; });
  EXPECT_TRUE(course::tensor_near(s(Tensor({1, 2})), {2}, {4, 6}, 0));  // 2·(x + 1)
  h.remove();
  EXPECT_TRUE(course::tensor_near(s(Tensor({1, 2})), {2}, {2, 4}, 0));
}

TEST(Hooks, ForwardHookSeesInputAndOutputAndMayReplaceTheOutput) {
  Scale s;
  Tensor seen_in, seen_out;
  s.register_forward_hook([&](Module& m, const Tensor& x, const Tensor& y) {
    EXPECT_EQ(m.type_name(), "Scale");
    seen_in = x;
    seen_out = y;
  });
  s.register_forward_hook(
      [](Module&, const Tensor&, const Tensor& y) -> std::optional<Tensor> { return y * 10.0f; });
  const Tensor y = s(Tensor({3}));
  EXPECT_TRUE(course::tensor_near(seen_in, {1}, {3}, 0));
  EXPECT_TRUE(course::tensor_near(seen_out, {1}, {6}, 0));
  EXPECT_TRUE(course::tensor_near(y, {1}, {60}, 0));
}

TEST(Hooks, RunInRegistrationOrderAndOnlyWhileAttached) {
  Scale s;
  std::string log;
  auto a = s.register_forward_pre_hook([&](Module&, const Tensor&) { log += "pre-a "; });
  auto b = s.register_forward_hook([&](Module&, const Tensor&, const Tensor&) { log += "post-b "; });
  auto c = s.register_forward_pre_hook([&](Module&, const Tensor&) { log += "pre-c "; });
  s(Tensor({1}));
  EXPECT_EQ(log, "pre-a pre-c post-b ");
  a.remove();
  EXPECT_FALSE(a.active());
  log.clear();
  s(Tensor({1}));
  EXPECT_EQ(log, "pre-c post-b ");
  EXPECT_EQ(s.num_forward_hooks(), 2u);
}

TEST(Hooks, AHookMayRemoveItselfWhileRunning) {
  Scale s;
  int calls = 0;
  HookHandle self;
  self = s.register_forward_hook([&](Module&, const Tensor&, const Tensor&) {
    ++calls;
    self.remove();
  });
  s(Tensor({1}));
  s(Tensor({1}));
  EXPECT_EQ(calls, 1);
}

// ---- Sequential ----

TEST(Sequential, ForwardChainsTheChildren) {
  auto l1 = std::make_shared<Linear>(2, 2);
  auto l2 = std::make_shared<Linear>(2, 1);
  set_linear(*l1, Tensor({{1, -1}, {2, 1}}), Tensor({0, -10}));
  set_linear(*l2, Tensor({{1, 1}}), Tensor({0.5f}));
  Sequential m{l1, std::make_shared<ReLU>(), l2};
  // x = [3, 1]: l1 → [2, -3], relu → [2, 0], l2 → 2.5
  EXPECT_TRUE(course::tensor_near(m(Tensor({{3, 1}})), {1, 1}, {2.5f}, 1e-6f));
  EXPECT_TRUE(course::tensor_near(Sequential()(Tensor({7})), {1}, {7}, 0));  // empty: identity
}

TEST(Sequential, ChildHooksFireDuringItsForward) {
  auto l1 = std::make_shared<Linear>(2, 3);
  Sequential m{l1, std::make_shared<ReLU>()};
  Shape seen;
  l1->register_forward_hook([&](Module&, const Tensor&, const Tensor& y) { seen = y.shape(); });
  m(Tensor::ones({5, 2}));
  EXPECT_EQ(seen, (Shape{5, 3}));  // children are called, not their forward() directly
}

TEST(Sequential, ReplaceKeepsTheNameAndChangesTheForward) {
  Sequential m{std::make_shared<Scale>(), std::make_shared<ReLU>()};
  EXPECT_TRUE(course::tensor_near(m(Tensor({-1, 1})), {2}, {0, 2}, 0));
  m.replace(1, std::make_shared<Tanh>());
  EXPECT_EQ(m.name_at(1), "1");
  EXPECT_TRUE(course::tensor_near(m(Tensor({-1, 1})), {2}, {std::tanh(-2.0f), std::tanh(2.0f)}, 1e-6f));
  EXPECT_TINYML_ERROR(m.at<Linear>(0), "Sequential::at", "Scale");
  EXPECT_TINYML_ERROR(m[2], "index 2", "2 modules");
}
