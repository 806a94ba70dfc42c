// Node: one recorded op of the autograd graph — its input edges and a backward function.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml::autograd {

// A recorded operation. `inputs` are the edges to the tensors the op read (kept alive by
// shared_ptr); `saved` holds anything else backward needs, always detached so that no
// tensor points back at the node that made it (which would be a cycle and leak).
// `backward` receives the node and the gradient of the output and returns one gradient per
// input (an undefined Tensor where an input needs none). It never captures the output.
struct Node {
  using BackwardFn = std::function<std::vector<Tensor>(Node& self, const Tensor& grad_out)>;

  std::string name;
  std::vector<Tensor> inputs;
  std::vector<Tensor> saved;
  std::vector<int64_t> ints;  // small non-tensor state (dims, flags)
  std::vector<float> floats;  // small non-tensor state (scalars)
  BackwardFn backward;
  bool released = false;  // set once backward freed the graph

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees a long chain iteratively: a 100 000-op graph must not overflow the stack.
  ~Node();
};

// Records `out = op(inputs)` if grad mode is on and some input requires grad: attaches a Node
// with the given name, inputs, saved tensors and backward function to `out`. Returns `out`.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, Node::BackwardFn backward,
              std::vector<Tensor> saved = {}, std::vector<int64_t> ints = {}, std::vector<float> floats = {});

// True if grad mode is on and any of the tensors requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> ts);

}  // namespace tinyml::autograd
