// Tests of tinyml::nn::Module: registration, names, train/eval, state_dict, hooks and repr.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/nn.hpp"

namespace {

using tinyml::Error;
using tinyml::Generator;
using tinyml::Shape;
using tinyml::Tensor;
namespace nn = tinyml::nn;

using tinyml_test::error_of;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// y = x · scale, with a buffer that counts calls (a stand-in for running statistics).
class Scale : public nn::Module {
 public:
  explicit Scale(int64_t n = 2) {
    scale = register_parameter("scale", Tensor::ones({n}));
    calls = register_buffer("calls", Tensor::zeros({1}));
  }
  Tensor forward(const Tensor& x) override {
    calls.add_(Tensor::ones({1}));
    if (log) log->push_back("forward");
    seen_input = x;
    return x * scale;
  }
  std::string type_name() const override { return "Scale"; }
  std::string extra_repr() const override { return fmt::format("n={}", scale.numel()); }

  Tensor scale, calls, seen_input;
  std::vector<std::string>* log = nullptr;
};

// alpha, block = Sequential(Linear(2, 3), ReLU, Linear(3, 2)), norm = Scale.
class Net : public nn::Module {
 public:
  explicit Net(uint64_t seed = 0) {
    Generator gen(seed);
    alpha = register_parameter("alpha", Tensor::full({1}, 0.5f));
    block = register_module("block",
                            std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 3, true, gen),
                                                             std::make_shared<nn::ReLU>(),
                                                             std::make_shared<nn::Linear>(3, 2, true, gen)));
    norm = register_module("norm", std::make_shared<Scale>());
  }
  Tensor forward(const Tensor& x) override { return (*norm)((*block)(x)) * alpha; }
  std::string type_name() const override { return "Net"; }

  Tensor alpha;
  std::shared_ptr<nn::Sequential> block;
  std::shared_ptr<Scale> norm;
};

// Exposes the protected registration API to the tests.
class Open : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Open"; }
  using nn::Module::add_child;
  using nn::Module::register_buffer;
  using nn::Module::register_module;
  using nn::Module::register_parameter;
};

template <class Pairs>
std::vector<std::string> names_of(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& p : pairs) out.push_back(p.first);
  return out;
}

TEST(Module, DottedNamesInRegistrationOrder) {
  auto net = std::make_shared<Net>();
  EXPECT_EQ(names_of(net->named_parameters()),
            (std::vector<std::string>{"alpha", "block.0.weight", "block.0.bias", "block.2.weight",
                                      "block.2.bias", "norm.scale"}));
  EXPECT_EQ(names_of(net->named_parameters(false)), (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(names_of(net->named_buffers()), (std::vector<std::string>{"norm.calls"}));
  EXPECT_EQ(net->parameters().size(), 6u);
  EXPECT_EQ(names_of(net->named_children()), (std::vector<std::string>{"block", "norm"}));
  EXPECT_EQ(net->children().size(), 2u);

  const auto modules = net->named_modules();
  EXPECT_EQ(names_of(modules),
            (std::vector<std::string>{"", "block", "block.0", "block.1", "block.2", "norm"}));
  EXPECT_EQ(modules[0].second.get(), net.get());

  // The parameters are the module's own tensors, not copies.
  EXPECT_TRUE(net->parameters()[1].same_storage(net->block->at<nn::Linear>(0)->weight));
}

TEST(Module, NamedModulesOfAModuleOnTheStack) {
  Net net;
  const auto modules = net.named_modules();
  ASSERT_EQ(modules.size(), 6u);
  EXPECT_EQ(modules[0].second.get(), &net);
}

TEST(Module, RegistrationChecks) {
  Open m;
  Tensor w = m.register_parameter("w", Tensor::zeros({2}));
  EXPECT_TRUE(w.requires_grad());
  Tensor frozen = m.register_parameter("frozen", Tensor::zeros({2}), false);
  EXPECT_FALSE(frozen.requires_grad());
  m.register_buffer("buf", Tensor::zeros({3}));
  EXPECT_EQ(m.parameters().size(), 2u);  // buffers are not parameters

  EXPECT_THROW(m.register_parameter("w", Tensor::zeros({2})), Error);  // taken
  EXPECT_THROW(m.register_buffer("w", Tensor::zeros({2})), Error);
  EXPECT_THROW(m.register_module("buf", std::make_shared<nn::ReLU>()), Error);
  EXPECT_THROW(m.register_parameter("a.b", Tensor::zeros({2})), Error);  // would break dotted keys
  EXPECT_THROW(m.register_parameter("", Tensor::zeros({2})), Error);
  EXPECT_THROW(m.add_child("null", nullptr), Error);
  // A refused registration leaves its name free; a child's name is then taken for the other kinds.
  m.register_module("null", std::make_shared<nn::ReLU>());
  EXPECT_THROW(m.register_parameter("null", Tensor::zeros({2})), Error);
  EXPECT_THROW(m.register_buffer("null", Tensor::zeros({2})), Error);

  // An undefined parameter reserves the name (an absent bias) and is listed nowhere.
  m.register_parameter("bias", Tensor());
  EXPECT_EQ(m.parameters().size(), 2u);
  EXPECT_EQ(m.state_dict().count("bias"), 0u);

  // A tensor with history becomes a leaf.
  Tensor base = Tensor::ones({2}).requires_grad_();
  Tensor p = m.register_parameter("derived", base * 2.0f);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
}

TEST(Module, SharedTensorsAndModulesListedOnce) {
  auto shared = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential seq{shared, std::make_shared<nn::ReLU>(), shared};
  // Listed once so an optimizer does not apply the update twice (as PyTorch does).
  EXPECT_EQ(names_of(seq.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(seq.named_modules().size(), 3u);  // "", "0", "1"
  // state_dict keeps every path, as PyTorch's does.
  EXPECT_EQ(names_of(seq.state_dict()),
            (std::vector<std::string>{"0.bias", "0.weight", "2.bias", "2.weight"}));
}

TEST(Module, CyclesAreRejected) {
  auto a = std::make_shared<Open>();
  auto b = std::make_shared<Open>();
  a->register_module("b", b);
  EXPECT_THROW(b->register_module("a", a), Error);
  EXPECT_THROW(a->add_child("self", a), Error);
  b->register_module("a", std::make_shared<nn::ReLU>());  // the refused names stay free
  a->add_child("self", std::make_shared<nn::ReLU>());
  EXPECT_EQ(b->named_children().size(), 1u);
}

TEST(Module, TrainEvalPropagates) {
  auto net = std::make_shared<Net>();
  for (const auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  net->eval();
  for (const auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->train();
  for (const auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  net->block->train(false);
  EXPECT_TRUE(net->is_training());
  EXPECT_FALSE((*net->block)[0]->is_training());
}

TEST(Module, ZeroGradDropsEveryGradient) {
  auto net = std::make_shared<Net>();
  (*net)(Tensor::ones({4, 2})).sum().backward();
  for (const auto& [name, p] : net->named_parameters()) ASSERT_TRUE(p.grad().defined()) << name;
  net->zero_grad();
  for (const auto& [name, p] : net->named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;
}

TEST(Module, StateDictRoundTripCopiesInPlace) {
  auto src = std::make_shared<Net>(1);
  auto dst = std::make_shared<Net>(2);
  (*src)(Tensor::ones({1, 2}));  // calls = 1 in src
  const nn::StateDict state = src->state_dict();
  EXPECT_EQ(names_of(state),
            (std::vector<std::string>{"alpha", "block.0.bias", "block.0.weight", "block.2.bias",
                                      "block.2.weight", "norm.calls", "norm.scale"}));
  // Values share storage with the module (PyTorch's semantics) and carry no autograd state.
  EXPECT_TRUE(state.at("alpha").same_storage(src->alpha));
  EXPECT_FALSE(state.at("alpha").requires_grad());

  auto dst_weight = dst->block->at<nn::Linear>(0)->weight;
  ASSERT_FALSE(tinyml::equal(dst_weight, src->block->at<nn::Linear>(0)->weight));
  dst->load_state_dict(state);
  for (const auto& [name, t] : dst->state_dict()) EXPECT_TRUE(tinyml::equal(t, state.at(name))) << name;
  // In place: the layer's own handle sees the values and is still a trainable leaf.
  EXPECT_TRUE(tinyml::equal(dst_weight, src->block->at<nn::Linear>(0)->weight));
  EXPECT_TRUE(dst_weight.requires_grad());
  EXPECT_TRUE(dst_weight.is_leaf());
  EXPECT_FALSE(dst_weight.same_storage(src->block->at<nn::Linear>(0)->weight));
  EXPECT_EQ(dst->norm->calls.item(), 1.0f);  // buffers travel too

  // Same outputs afterwards.
  const Tensor x({{0.3f, -0.7f}, {1.0f, 2.0f}});
  EXPECT_TRUE(tinyml::equal((*src)(x), (*dst)(x)));

  // Loading a module's own state_dict is a no-op.
  const Tensor before = dst->alpha.clone();
  dst->load_state_dict(dst->state_dict());
  EXPECT_TRUE(tinyml::equal(dst->alpha, before));
}

TEST(Module, StrictLoadReportsMissingUnexpectedAndShapes) {
  auto net = std::make_shared<Net>(1);
  const Tensor alpha_before = net->alpha.clone();
  nn::StateDict state;
  for (const auto& [name, t] : net->state_dict()) state[name] = t.clone();
  state["alpha"] = Tensor::full({1}, 9.0f);

  nn::StateDict missing = state;
  missing.erase("block.2.bias");
  std::string msg = error_of([&] { net->load_state_dict(missing); });
  EXPECT_TRUE(contains(msg, "Missing key(s): \"block.2.bias\"")) << msg;

  nn::StateDict extra = state;
  extra["block.3.weight"] = Tensor::zeros({1});
  msg = error_of([&] { net->load_state_dict(extra); });
  EXPECT_TRUE(contains(msg, "Unexpected key(s): \"block.3.weight\"")) << msg;

  nn::StateDict both = missing;
  both["head.bias"] = Tensor::zeros({1});
  msg = error_of([&] { net->load_state_dict(both); });
  EXPECT_TRUE(contains(msg, "block.2.bias") && contains(msg, "head.bias")) << msg;

  nn::StateDict wrong_shape = state;
  wrong_shape["block.0.weight"] = Tensor::zeros({2, 3});
  msg = error_of([&] { net->load_state_dict(wrong_shape); });
  EXPECT_TRUE(contains(msg, "block.0.weight") && contains(msg, "[2, 3]") && contains(msg, "[3, 2]")) << msg;

  // Nothing was copied by the failed loads (alpha = 9 in every one of them).
  EXPECT_TRUE(tinyml::equal(net->alpha, alpha_before));

  // Not strict: missing and unexpected keys are allowed, shape mismatches still are not.
  net->load_state_dict(both, false);
  EXPECT_EQ(net->alpha.item(), 9.0f);
  EXPECT_THROW(net->load_state_dict(wrong_shape, false), Error);
}

TEST(Module, HooksFireInRegistrationOrder) {
  auto m = std::make_shared<Scale>();
  std::vector<std::string> log;
  m->log = &log;
  m->register_forward_pre_hook([&](nn::Module&, const Tensor&) { log.push_back("pre1"); });
  m->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor&) { log.push_back("post1"); });
  m->register_forward_pre_hook([&](nn::Module&, const Tensor&) { log.push_back("pre2"); });
  m->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor&) { log.push_back("post2"); });
  EXPECT_EQ(m->num_forward_hooks(), 4u);
  (*m)(Tensor::ones({2}));
  EXPECT_EQ(log, (std::vector<std::string>{"pre1", "pre2", "forward", "post1", "post2"}));
}

TEST(Module, HookOverloadsAcceptEveryCallableForm) {
  // Observing lambdas, std::function objects of either signature, and lambdas returning
  // std::optional<Tensor> or a plain Tensor all resolve to one overload (no ambiguity).
  auto m = std::make_shared<Scale>();
  int observed = 0;
  std::function<void(nn::Module&, const Tensor&)> pre_obs = [&](nn::Module&, const Tensor&) { ++observed; };
  nn::Module::ForwardPreHook pre_repl = [](nn::Module&, const Tensor&) -> std::optional<Tensor> {
    return std::nullopt;
  };
  std::function<void(nn::Module&, const Tensor&, const Tensor&)> post_obs =
      [&](nn::Module&, const Tensor&, const Tensor&) { ++observed; };
  m->register_forward_pre_hook(pre_obs);
  m->register_forward_pre_hook(pre_repl);
  m->register_forward_hook(post_obs);
  m->register_forward_hook([](nn::Module&, const Tensor&, const Tensor& y) { return y * 3.0f; });
  EXPECT_EQ(m->num_forward_hooks(), 4u);
  EXPECT_EQ((*m)(Tensor({1.0f, 2.0f})).to_vector(), (std::vector<float>{3.0f, 6.0f}));
  EXPECT_EQ(observed, 2);
}

TEST(Module, PreHookReplacesInput) {
  auto m = std::make_shared<Scale>();
  m->register_forward_pre_hook(
      [](nn::Module&, const Tensor& x) -> std::optional<Tensor> { return x * 2.0f; });
  // The next pre-hook and the forward hooks see the replacement.
  m->register_forward_pre_hook(
      [](nn::Module&, const Tensor& x) -> std::optional<Tensor> { return x + 1.0f; });
  Tensor hook_input;
  m->register_forward_hook([&](nn::Module&, const Tensor& x, const Tensor&) { hook_input = x; });
  const Tensor y = (*m)(Tensor({1.0f, 2.0f}));
  EXPECT_EQ(m->seen_input.to_vector(), (std::vector<float>{3.0f, 5.0f}));
  EXPECT_EQ(hook_input.to_vector(), (std::vector<float>{3.0f, 5.0f}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{3.0f, 5.0f}));
}

TEST(Module, HookReplacesOutput) {
  auto m = std::make_shared<Scale>();
  m->register_forward_hook(
      [](nn::Module&, const Tensor&, const Tensor& y) -> std::optional<Tensor> { return y * 10.0f; });
  m->register_forward_hook([](nn::Module&, const Tensor&, const Tensor&) -> std::optional<Tensor> {
    return std::nullopt;  // keeps the (replaced) output
  });
  EXPECT_EQ((*m)(Tensor({1.0f, 2.0f})).to_vector(), (std::vector<float>{10.0f, 20.0f}));
}

TEST(Module, ChildHooksFireInsideSequential) {
  auto relu = std::make_shared<nn::ReLU>();
  nn::Sequential seq{std::make_shared<nn::Identity>(), relu};
  int calls = 0;
  auto h = relu->register_forward_hook([&](nn::Module& mod, const Tensor&, const Tensor&) {
    EXPECT_EQ(&mod, relu.get());
    ++calls;
  });
  seq(Tensor({-1.0f, 1.0f}));
  EXPECT_EQ(calls, 1);
}

TEST(Module, HandleRemovesHook) {
  auto m = std::make_shared<Scale>();
  int pre = 0, post = 0;
  nn::HookHandle hp = m->register_forward_pre_hook([&](nn::Module&, const Tensor&) { ++pre; });
  nn::HookHandle hq = m->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor&) { ++post; });
  nn::HookHandle copy = hq;
  (*m)(Tensor::ones({2}));
  EXPECT_TRUE(hp.active());
  hp.remove();
  EXPECT_FALSE(hp.active());
  EXPECT_EQ(m->num_forward_hooks(), 1u);
  copy.remove();  // through a copy of the handle
  EXPECT_FALSE(hq.active());
  EXPECT_EQ(m->num_forward_hooks(), 0u);
  (*m)(Tensor::ones({2}));
  EXPECT_EQ(pre, 1);
  EXPECT_EQ(post, 1);
  hp.remove();  // twice: nothing happens
  hq.remove();
  EXPECT_EQ(m->num_forward_hooks(), 0u);
  EXPECT_FALSE(nn::HookHandle().active());
  nn::HookHandle().remove();
}

TEST(Module, HookCanRemoveItselfWhileRunning) {
  auto m = std::make_shared<Scale>();
  int calls = 0;
  auto handle = std::make_shared<nn::HookHandle>();
  *handle = m->register_forward_hook([&calls, handle](nn::Module&, const Tensor&, const Tensor&) {
    ++calls;
    handle->remove();
  });
  (*m)(Tensor::ones({2}));
  (*m)(Tensor::ones({2}));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(m->num_forward_hooks(), 0u);
}

TEST(Module, HandleOutlivesModule) {
  nn::HookHandle pre, post;
  {
    auto m = std::make_shared<Scale>();
    pre = m->register_forward_pre_hook([](nn::Module&, const Tensor&) {});
    post = m->register_forward_hook([](nn::Module&, const Tensor&, const Tensor&) {});
    EXPECT_TRUE(pre.active());
  }
  EXPECT_FALSE(pre.active());
  EXPECT_FALSE(post.active());
  pre.remove();  // the module is gone: no effect, no access to freed memory
  pre.remove();
  post.remove();
}

TEST(Module, ReplaceModule) {
  auto net = std::make_shared<Net>();
  auto fresh = std::make_shared<Scale>(2);
  net->replace_module("norm", fresh);
  EXPECT_EQ(net->named_children()[1].second, fresh);
  EXPECT_THROW(net->replace_module("nope", fresh), Error);
  EXPECT_THROW(net->replace_module("norm", nullptr), Error);
}

TEST(Module, ReprNestsLikePyTorch) {
  auto net = std::make_shared<Net>();
  EXPECT_EQ(net->repr(),
            "Net(\n"
            "  (block): Sequential(\n"
            "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
            "    (1): ReLU()\n"
            "    (2): Linear(in_features=3, out_features=2, bias=True)\n"
            "  )\n"
            "  (norm): Scale(n=2)\n"
            ")");
  // extra_repr and children together: the extra line comes first, inside the parentheses.
  class Wrapper : public Open {
   public:
    std::string type_name() const override { return "Wrapper"; }
    std::string extra_repr() const override { return "depth=1"; }
  };
  Wrapper w;
  w.register_module("s", std::make_shared<Scale>(3));
  EXPECT_EQ(w.repr(), "Wrapper(\n  depth=1\n  (s): Scale(n=3)\n)");
}

}  // namespace
