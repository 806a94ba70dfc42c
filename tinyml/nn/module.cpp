#include "tinyml/nn/module.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "tinyml/autograd/grad_mode.hpp"

namespace tinyml::nn {

// ---------------------------------------------------------------------------------------------
// HookHandle

void HookHandle::remove() {
  // The registry token dies with the hook (or with the module), so a dead token means there is
  // nothing left to remove and the module may be gone: the remover must not run then.
  if (!registry_.expired() && remover_) remover_();
  remover_ = nullptr;
  registry_.reset();
}

bool HookHandle::active() const { return !registry_.expired() && remover_ != nullptr; }

// ---------------------------------------------------------------------------------------------
// Module: construction, registration

namespace {

void check_name(const std::string& name, const char* fn) {
  TINYML_CHECK(!name.empty(), "{}: the name must not be empty", fn);
  TINYML_CHECK(name.find('.') == std::string::npos,
               "{}: name '{}' contains '.', which would break the dotted state_dict keys", fn, name);
}

template <class Entries>
auto find_entry(Entries& entries, const std::string& name) {
  return std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; });
}

}  // namespace

Module::Module() : hooks_(std::make_shared<Hooks>()) {}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_name(name, "Module::register_parameter");
  TINYML_CHECK(!names_.contains(name), "Module::register_parameter: '{}' is already registered in this {}",
               name, type_name());
  // An undefined tensor reserves the name (an absent bias) and is skipped everywhere else.
  if (tensor.defined()) {
    // A parameter is a leaf: a tensor with history would tie the module to someone else's graph.
    if (!tensor.is_leaf()) tensor = tensor.detach();
    tensor.requires_grad_(requires_grad);
  }
  params_.emplace_back(name, tensor);
  names_.insert(name);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_name(name, "Module::register_buffer");
  TINYML_CHECK(!names_.contains(name), "Module::register_buffer: '{}' is already registered in this {}", name,
               type_name());
  if (tensor.defined() && !tensor.is_leaf()) tensor = tensor.detach();
  buffers_.emplace_back(name, tensor);
  names_.insert(name);
  return tensor;
}

namespace {

// True if `target` is `root` or somewhere below it; guards against cycles in the module tree,
// which would make every recursive walk overflow the stack.
bool contains_module(const Module& root, const Module* target) {
  if (&root == target) return true;
  for (const auto& [name, child] : root.named_children())
    if (child && contains_module(*child, target)) return true;
  return false;
}

}  // namespace

void Module::add_child(const std::string& name, ModulePtr module) {
  check_name(name, "Module::register_module");
  TINYML_CHECK(module != nullptr, "Module::register_module: module '{}' is null", name);
  TINYML_CHECK(!names_.contains(name), "Module::register_module: '{}' is already registered in this {}", name,
               type_name());
  TINYML_CHECK(!contains_module(*module, this),
               "Module::register_module: registering '{}' ({}) would make the module tree a cycle", name,
               module->type_name());
  children_.emplace_back(name, std::move(module));
  names_.insert(name);
}

void Module::replace_module(const std::string& name, ModulePtr module) {
  auto it = find_entry(children_, name);
  TINYML_CHECK(it != children_.end(), "Module::replace_module: {} has no child named '{}'", type_name(),
               name);
  TINYML_CHECK(module != nullptr, "Module::replace_module: replacement for '{}' is null", name);
  TINYML_CHECK(!contains_module(*module, this),
               "Module::replace_module: putting '{}' ({}) here would make the module tree a cycle", name,
               module->type_name());
  it->second = std::move(module);
}

// ---------------------------------------------------------------------------------------------
// Forward and hooks

Tensor Module::operator()(const Tensor& input) {
  // Hooks run from a snapshot so that a hook may register or remove hooks without invalidating
  // the iteration; the snapshot is only taken when there are hooks (the common case has none).
  // BEGIN SOLUTION 03: Module::operator(): pre-hooks, forward, hooks (each may replace its value)
  Tensor x = input;
  if (!hooks_->pre.empty()) {
    const auto pre = hooks_->pre;
    for (const auto& [id, hook] : pre)
      if (std::optional<Tensor> replaced = hook(*this, x)) x = std::move(*replaced);
  }
  Tensor y = forward(x);
  if (!hooks_->post.empty()) {
    const auto post = hooks_->post;
    for (const auto& [id, hook] : post)
      if (std::optional<Tensor> replaced = hook(*this, x, y)) y = std::move(*replaced);
  }
  return y;
  // END SOLUTION
}

namespace {

// Removes the entry with `id` from one hook list, if the registry still exists.
template <class List>
std::function<void()> make_remover(std::weak_ptr<void> hooks_owner, List* list, uint64_t id) {
  return [owner = std::move(hooks_owner), list, id] {
    if (auto alive = owner.lock()) {
      auto it = std::find_if(list->begin(), list->end(), [id](const auto& e) { return e.first == id; });
      if (it != list->end()) list->erase(it);
    }
  };
}

}  // namespace

// Each stored hook carries a token; the handle watches the token, so it reports inactive as soon
// as the hook is removed (through any copy of the handle) or the module is destroyed.
HookHandle Module::register_forward_pre_hook(ForwardPreHook hook) {
  TINYML_CHECK(hook != nullptr, "Module::register_forward_pre_hook: empty hook on {}", type_name());
  auto token = std::make_shared<char>(0);
  const uint64_t id = hooks_->next_id++;
  hooks_->pre.emplace_back(id, [token, h = std::move(hook)](Module& m, const Tensor& x) {
    (void)token;
    return h(m, x);
  });
  return HookHandle(token, make_remover(std::weak_ptr<void>(hooks_), &hooks_->pre, id));
}

HookHandle Module::register_forward_hook(ForwardHook hook) {
  TINYML_CHECK(hook != nullptr, "Module::register_forward_hook: empty hook on {}", type_name());
  auto token = std::make_shared<char>(0);
  const uint64_t id = hooks_->next_id++;
  hooks_->post.emplace_back(id, [token, h = std::move(hook)](Module& m, const Tensor& x, const Tensor& y) {
    (void)token;
    return h(m, x, y);
  });
  return HookHandle(token, make_remover(std::weak_ptr<void>(hooks_), &hooks_->post, id));
}

size_t Module::num_forward_hooks() const { return hooks_->pre.size() + hooks_->post.size(); }

// ---------------------------------------------------------------------------------------------
// Walking the tree

std::vector<std::pair<std::string, ModulePtr>> Module::named_modules() {
  std::vector<std::pair<std::string, ModulePtr>> out;
  std::set<const Module*> seen;
  // A module that is not owned by a shared_ptr (e.g. on the stack) still lists itself, through a
  // non-owning pointer that is valid as long as the module is.
  ModulePtr self = weak_from_this().lock();
  if (!self) self = ModulePtr(std::shared_ptr<void>(), this);
  // Depth first, pre-order; a module reachable twice is listed once, like PyTorch.
  std::vector<std::pair<std::string, ModulePtr>> stack{{"", self}};
  while (!stack.empty()) {
    auto [name, m] = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(m.get()).second) continue;
    const auto& kids = m->named_children();
    for (auto it = kids.rbegin(); it != kids.rend(); ++it)
      stack.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second);
    out.emplace_back(std::move(name), std::move(m));
  }
  return out;
}

namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;

// Collects the defined tensors of one kind (parameters or buffers) under dotted names. Shared
// tensors (tied weights) and shared modules are listed once so optimizers update them once.
void collect(const Module& m, const std::string& prefix, bool recurse, bool buffers, Named& out,
             std::set<const TensorImpl*>& seen_tensors, std::set<const Module*>& seen_modules) {
  if (!seen_modules.insert(&m).second) return;
  for (const auto& [name, t] : buffers ? m.named_buffers(false) : m.named_parameters(false))
    if (seen_tensors.insert(t.impl().get()).second) out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : m.named_children())
    collect(*child, prefix + name + ".", true, buffers, out, seen_tensors, seen_modules);
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  // BEGIN SOLUTION 03: Module::named_parameters: own, then children's as "child.name"; each once
  if (!recurse) {
    Named own;
    for (const auto& e : params_)
      if (e.second.defined()) own.push_back(e);
    return own;
  }
  Named out;
  std::set<const TensorImpl*> seen_tensors;
  std::set<const Module*> seen_modules;
  collect(*this, "", true, false, out, seen_tensors, seen_modules);
  return out;
  // END SOLUTION
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  // BEGIN SOLUTION 03: Module::named_buffers: as named_parameters, for the buffers
  if (!recurse) {
    Named own;
    for (const auto& e : buffers_)
      if (e.second.defined()) own.push_back(e);
    return own;
  }
  Named out;
  std::set<const TensorImpl*> seen_tensors;
  std::set<const Module*> seen_modules;
  collect(*this, "", true, true, out, seen_tensors, seen_modules);
  return out;
  // END SOLUTION
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  // BEGIN SOLUTION 03: Module::parameters: the tensors of named_parameters(recurse)
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(std::move(t));
  return out;
  // END SOLUTION
}

std::vector<ModulePtr> Module::children() const {
  std::vector<ModulePtr> out;
  out.reserve(children_.size());
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.zero_grad();
}

// ---------------------------------------------------------------------------------------------
// state_dict

namespace {

// Every parameter and buffer under its dotted name. Unlike named_parameters() this does not
// deduplicate: a module shared by two parents is saved under both names, as PyTorch does.
void state_entries(const Module& m, const std::string& prefix, StateDict& out) {
  for (const auto& [name, t] : m.named_parameters(false)) out.emplace(prefix + name, t);
  for (const auto& [name, t] : m.named_buffers(false)) out.emplace(prefix + name, t);
  for (const auto& [name, child] : m.named_children()) state_entries(*child, prefix + name + ".", out);
}

std::string join_keys(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) {
    if (!s.empty()) s += ", ";
    s += '"' + k + '"';
  }
  return s;
}

}  // namespace

StateDict Module::state_dict() const {
  StateDict own;
  state_entries(*this, "", own);
  // Detached handles on the same storage, like PyTorch: cheap, and clone() gives a snapshot.
  for (auto& [name, t] : own) t = t.detach();
  return own;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  StateDict own;
  state_entries(*this, "", own);

  // Validate everything before copying anything, so that a failed load leaves the module as it was.
  std::vector<std::string> missing, unexpected, problems;
  for (const auto& [name, dst] : own) {
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
    } else if (!it->second.defined()) {
      problems.push_back(fmt::format("\"{}\" is an undefined tensor", name));
    } else if (it->second.shape() != dst.shape()) {
      problems.push_back(
          fmt::format("size mismatch for \"{}\": copying a tensor of shape {} into a "
                      "parameter of shape {}",
                      name, shape_str(it->second.shape()), shape_str(dst.shape())));
    }
  }
  for (const auto& [name, src] : state)
    if (!own.contains(name)) unexpected.push_back(name);

  // Shape mismatches are errors even when not strict (there is no meaningful partial copy).
  const bool key_errors = strict && (!missing.empty() || !unexpected.empty());
  if (key_errors || !problems.empty()) {
    std::string msg =
        fmt::format("Module::load_state_dict: error(s) in loading state_dict for {}:", type_name());
    if (strict && !missing.empty()) msg += "\n  Missing key(s): " + join_keys(missing) + ".";
    if (strict && !unexpected.empty()) msg += "\n  Unexpected key(s): " + join_keys(unexpected) + ".";
    for (const auto& p : problems) msg += "\n  " + p + ".";
    throw Error(msg);
  }

  NoGradGuard no_grad;
  for (auto& [name, dst] : own) {
    auto it = state.find(name);
    if (it == state.end()) continue;
    const Tensor& src = it->second;
    // Loading a module's own state_dict hands back views of the same memory: nothing to copy.
    if (src.same_storage(dst) && src.offset() == dst.offset() && src.strides() == dst.strides()) continue;
    dst.copy_(src);
  }
}

// ---------------------------------------------------------------------------------------------
// repr

namespace {

// Indents every line but the first by `n` spaces (PyTorch's _addindent).
std::string add_indent(const std::string& s, int n) {
  std::string out;
  const std::string pad(static_cast<size_t>(n), ' ');
  for (char c : s) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

}  // namespace

std::string Module::repr() const {
  std::vector<std::string> lines;
  const std::string extra = extra_repr();
  size_t extra_lines = 0;
  if (!extra.empty()) {
    std::istringstream in(extra);
    for (std::string line; std::getline(in, line);) {
      lines.push_back(line);
      ++extra_lines;
    }
  }
  for (const auto& [name, child] : children_)
    lines.push_back("(" + name + "): " + add_indent(child->repr(), 2));

  std::string s = type_name() + "(";
  if (lines.size() == 1 && extra_lines == 1) {
    s += lines[0];
  } else if (!lines.empty()) {
    for (const auto& line : lines) s += "\n  " + line;
    s += "\n";
  }
  return s + ")";
}

}  // namespace tinyml::nn
