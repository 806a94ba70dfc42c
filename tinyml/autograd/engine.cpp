// Reverse-mode engine: Tensor::backward — iterative topological sort, accumulation, graph release.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml {

namespace {

using autograd::Node;

// True if `g` is a fresh gradient nothing else refers to: the only handle on its tensor and on
// its storage, contiguous, and exactly as large as its storage (no view of a larger block).
bool owns_its_storage(const Tensor& g) {
  const std::shared_ptr<TensorImpl>& impl = g.impl();
  return impl.use_count() == 1 && impl->storage.use_count() == 1 && impl->offset == 0 && g.is_contiguous() &&
         static_cast<size_t>(g.numel()) == impl->storage->size();
}

// Adds g into the tensor's .grad in place. The first gradient is stored as a copy, so that the
// stored gradient never aliases a tensor the graph still uses; a leaf keeps a fresh gradient that
// nothing else refers to as it is (the copy would be of a tensor about to be freed).
void accumulate_into(TensorImpl& impl, const Tensor& g) {
  // BEGIN SOLUTION 02: accumulate_into: keep or copy the first gradient, add later ones in place
  if (!impl.grad) {
    // clone() runs under NoGradGuard: a plain contiguous copy.
    impl.grad = !impl.grad_fn && owns_its_storage(g) ? g.impl() : g.clone().impl();
  } else {
    Tensor(impl.grad).add_(g);
  }
  // END SOLUTION
}

// Post-order DFS without recursion: nodes come out with every consumer before its inputs.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  // BEGIN SOLUTION 02: topological_order: iterative DFS from root, every node before its inputs
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack;
  stack.emplace_back(root, 0);
  visited.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.impl()->grad_fn && !visited.count(in.impl()->grad_fn.get())) {
        visited.insert(in.impl()->grad_fn.get());
        stack.emplace_back(in.impl()->grad_fn, 0);
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  std::reverse(order.begin(), order.end());
  return order;
  // END SOLUTION
}

}  // namespace

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  TINYML_CHECK(defined(), "backward: the tensor is undefined");
  TINYML_CHECK(requires_grad(),
               "backward: the tensor does not require grad and has no grad_fn (shape {}); did an "
               "input have requires_grad set, and was grad mode on?",
               shape_str(shape()));
  Tensor seed;
  if (gradient.defined()) {
    TINYML_CHECK(gradient.shape() == shape(), "backward: gradient shape {} differs from tensor shape {}",
                 shape_str(gradient.shape()), shape_str(shape()));
    seed = gradient.detach();
  } else {
    TINYML_CHECK(numel() == 1,
                 "backward: grad can be implicitly created only for a tensor with one element; this "
                 "one has shape {}: pass a gradient of that shape",
                 shape_str(shape()));
    seed = Tensor::ones(shape());
  }

  NoGradGuard no_grad;
  if (!impl_->grad_fn) {  // backward on a leaf
    accumulate_into(*impl_, seed);
    return;
  }
  auto order = topological_order(impl_->grad_fn);
  std::unordered_map<Node*, Tensor> pending;
  pending[impl_->grad_fn.get()] = seed;
  if (impl_->retains_grad) accumulate_into(*impl_, seed);

  // BEGIN SOLUTION 02: Tensor::backward: run each node once, sum gradients per node, fill leaves
  for (auto& node : order) {
    auto it = pending.find(node.get());
    if (it == pending.end()) continue;  // no gradient flows into this node
    Tensor grad_out = std::move(it->second);
    pending.erase(it);
    TINYML_CHECK(!node->released,
                 "backward: trying to backward through the graph a second time ({} was already freed); "
                 "pass retain_graph=true to the first backward",
                 node->name);
    std::vector<Tensor> grads = node->backward(*node, grad_out);
    TINYML_CHECK(grads.size() == node->inputs.size(), "backward: {} returned {} gradients for {} inputs",
                 node->name, grads.size(), node->inputs.size());
    for (size_t i = 0; i < grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      Tensor& g = grads[i];
      if (!in.defined() || !in.requires_grad() || !g.defined()) continue;
      TINYML_CHECK(g.shape() == in.shape(),
                   "backward: {} produced a gradient of shape {} for an input of shape {}", node->name,
                   shape_str(g.shape()), shape_str(in.shape()));
      TensorImpl& impl = *in.impl();
      if (impl.grad_fn) {
        if (impl.retains_grad) accumulate_into(impl, g);
        auto [slot, inserted] = pending.try_emplace(impl.grad_fn.get(), g);
        if (!inserted) slot->second = slot->second + g;
      } else {
        accumulate_into(impl, g);
      }
    }
    if (!retain_graph) {
      node->saved.clear();
      node->backward = nullptr;
      node->released = true;
    }
  }
  // END SOLUTION
  if (!retain_graph) {
    // Drop the edges only now: clearing them earlier could free nodes still in `order`'s future.
    for (auto& node : order) {
      std::vector<Tensor> keep;
      keep.swap(node->inputs);
    }
  }
}

}  // namespace tinyml
