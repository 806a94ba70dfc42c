// Module: the base of every layer — parameters, buffers, children, train/eval, state_dict, hooks.
//
// Threading contract (docs/threads.md has the details and the measurements):
// - Safe: several threads calling operator() / forward() on one model at once, when the model is in
//   eval() mode and each thread runs under its own NoGradGuard (grad mode is per thread). This holds
//   for float layers, QuantizedLinear in every mode and FakeQuantize in eval mode; every thread gets
//   the bits one thread gets. Const accessors (parameters(), state_dict(), repr()) may run alongside.
// - Not safe, give the model to one thread at a time: training (backward() accumulates into the
//   shared .grad, optimizers write the parameters), train()/eval(), registering or removing hooks,
//   replace_module(), load_state_dict(), calibration (it attaches observers through hooks) and any
//   forward in training mode that draws random numbers (Dropout) or observes (FakeQuantize).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/tensor.hpp"

namespace tinyml::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;
using StateDict = std::map<std::string, Tensor>;

// Returned by register_forward_(pre_)hook; remove() detaches the hook. Safe to call twice or
// after the module is gone.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<void> registry, std::function<void()> remover)
      : registry_(std::move(registry)), remover_(std::move(remover)) {}
  void remove();
  bool active() const;

 private:
  std::weak_ptr<void> registry_;
  std::function<void()> remover_;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // A pre-hook may return a replacement input; a hook may return a replacement output.
  using ForwardPreHook = std::function<std::optional<Tensor>(Module&, const Tensor& input)>;
  using ForwardHook =
      std::function<std::optional<Tensor>(Module&, const Tensor& input, const Tensor& output)>;

  Module();
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Runs pre-hooks, forward(), then hooks, in registration order.
  Tensor operator()(const Tensor& input);
  virtual Tensor forward(const Tensor& input) = 0;
  // The type's name as printed ("Linear", "ReLU", ...).
  virtual std::string type_name() const = 0;
  // What goes inside the parentheses of the repr: "in_features=2, out_features=4, bias=true".
  virtual std::string extra_repr() const { return {}; }
  // PyTorch-style multi-line repr of the module tree.
  std::string repr() const;

  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<ModulePtr> children() const;
  const std::vector<std::pair<std::string, ModulePtr>>& named_children() const { return children_; }
  // Every module in the tree, depth first, this one first with the name "".
  std::vector<std::pair<std::string, ModulePtr>> named_modules();

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  // Parameters and buffers by dotted name ("0.weight", "encoder.2.bias").
  StateDict state_dict() const;
  // Copies values in place. strict: every key must match, in both directions, with equal shapes.
  void load_state_dict(const StateDict& state, bool strict = true);

  HookHandle register_forward_pre_hook(ForwardPreHook hook);
  HookHandle register_forward_hook(ForwardHook hook);
  // Overloads for hooks that only observe (return void). Templates rather than std::function
  // overloads: std::function<void(...)> accepts any callable, so a hook returning
  // std::optional<Tensor> would otherwise match both overloads and the call would be ambiguous.
  template <class F>
  requires std::is_void_v<std::invoke_result_t<F&, Module&, const Tensor&>> HookHandle
  register_forward_pre_hook(F hook) {
    return register_forward_pre_hook(ForwardPreHook(
        [h = std::move(hook)](Module& m, const Tensor& input) mutable -> std::optional<Tensor> {
          h(m, input);
          return std::nullopt;
        }));
  }
  template <class F>
  requires std::is_void_v<std::invoke_result_t<F&, Module&, const Tensor&, const Tensor&>> HookHandle
  register_forward_hook(F hook) {
    return register_forward_hook(
        ForwardHook([h = std::move(hook)](Module& m, const Tensor& input,
                                          const Tensor& output) mutable -> std::optional<Tensor> {
          h(m, input, output);
          return std::nullopt;
        }));
  }
  size_t num_forward_hooks() const;  // pre-hooks + hooks currently attached

  // Replaces the child registered under `name` (used by quantize_model and prepare_qat).
  void replace_module(const std::string& name, ModulePtr module);

 protected:
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  void add_child(const std::string& name, ModulePtr module);

 private:
  struct Hooks {
    uint64_t next_id = 0;
    std::vector<std::pair<uint64_t, ForwardPreHook>> pre;
    std::vector<std::pair<uint64_t, ForwardHook>> post;
  };
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
  // Every name registered above, so that a registration's duplicate check costs O(1) rather than a
  // search (a Sequential of n modules would otherwise take O(n^2) to build or load).
  std::unordered_set<std::string> names_;
  std::shared_ptr<Hooks> hooks_;
  bool training_ = true;
};

// Puts a module (and its children) in train or eval mode for a scope, and restores the mode it
// had when the scope ends, also when the scope is left by an exception.
class ModeGuard {
 public:
  ModeGuard(Module& m, bool training) : m_(m), was_training_(m.is_training()) { m_.train(training); }
  ~ModeGuard() { m_.train(was_training_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  Module& m_;
  bool was_training_;
};

}  // namespace tinyml::nn
