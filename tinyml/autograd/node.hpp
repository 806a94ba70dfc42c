// Node: one recorded op of the autograd graph — its input edges and a backward function.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml::autograd {

// What an op's backward needs besides tensors, by name. Ops set only the fields they use.
struct OpArgs {
  int64_t dim = 0;                       // the dimension reduced, sliced or concatenated along
  bool keepdim = false;                  // a reduction kept its reduced dimension (as size 1)
  int64_t start = 0, end = 0, step = 1;  // a slice's range along dim
  std::vector<int64_t> ints;             // a list: a permutation, sizes along dim, class indices

  // An op along `dim` (a reduction that keeps its dimension if `keepdim`).
  static OpArgs along(int64_t dim, bool keepdim = false) {
    OpArgs a;
    a.dim = dim;
    a.keepdim = keepdim;
    return a;
  }
  // A slice of `dim`: [start, end) by `step`.
  static OpArgs slice(int64_t dim, int64_t start, int64_t end, int64_t step) {
    OpArgs a = along(dim);
    a.start = start;
    a.end = end;
    a.step = step;
    return a;
  }
  // A list of integers, along `dim` where that matters (the sizes of a concatenation).
  static OpArgs list(std::vector<int64_t> ints, int64_t dim = 0) {
    OpArgs a = along(dim);
    a.ints = std::move(ints);
    return a;
  }
};

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
  OpArgs args;  // non-tensor state (dims, flags, lists)
  BackwardFn backward;
  bool released = false;  // set once backward freed the graph

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees a long chain iteratively: a 100 000-op graph must not overflow the stack.
  ~Node();
};

// Records `out = op(inputs)` if grad mode is on and some input requires grad: attaches a Node
// with the given name, inputs, saved tensors, arguments and backward function to `out`. Returns `out`.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, Node::BackwardFn backward,
              std::vector<Tensor> saved = {}, OpArgs args = {});

// True if grad mode is on and any of the tensors requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> ts);

}  // namespace tinyml::autograd
