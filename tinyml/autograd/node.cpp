#include "tinyml/autograd/node.hpp"

#include "tinyml/autograd/grad_mode.hpp"

namespace tinyml::autograd {

namespace {
// Moves out the grad_fn of every input that nobody else holds, so that destroying it happens
// in the caller's loop instead of by recursion.
void harvest(std::vector<Tensor>& inputs, std::vector<std::shared_ptr<Node>>& stack) {
  for (auto& t : inputs) {
    const auto& impl = t.impl();
    if (impl && impl.use_count() == 1 && impl->grad_fn && impl->grad_fn.use_count() == 1)
      stack.push_back(std::move(impl->grad_fn));
  }
  inputs.clear();
}
}  // namespace

Node::~Node() {
  std::vector<std::shared_ptr<Node>> stack;
  harvest(inputs, stack);
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    harvest(n->inputs, stack);
  }  // each popped node dies here with no inputs left, so its destructor does not recurse
}

bool any_requires_grad(std::initializer_list<const Tensor*> ts) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : ts)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, Node::BackwardFn backward,
              std::vector<Tensor> saved, OpArgs args) {
  if (!GradMode::is_enabled()) return out;
  bool needed = false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) needed = true;
  if (!needed) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->saved = std::move(saved);
  node->args = std::move(args);
  node->backward = std::move(backward);
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}

}  // namespace tinyml::autograd
