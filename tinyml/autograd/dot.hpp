// A tensor's autograd graph as Graphviz DOT text: the tensors, the recorded ops, their gradients.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml::autograd {

// The graph that produced `root`, in Graphviz's DOT language, drawn left to right in the direction
// data flows: every tensor is a box ("t0", "t1", … in the order they are reached from the root)
// labelled with its name (from `names`, matched by identity), its shape, its values when it has at
// most 4 elements, and its gradient once backward() has computed one (the values again up to 4
// elements, else the gradient's L2 norm); every recorded op is an ellipse ("op0", …) with the
// node's name. Edges: input → op → output. A node whose graph backward() freed (no
// retain_graph) has lost its edges and is labelled "(freed)". A tensor without history is one
// box. Render with `dot -Tsvg graph.dot -o graph.svg` (Debian package graphviz).
std::string to_dot(const Tensor& root, const std::vector<std::pair<std::string, Tensor>>& names = {});

}  // namespace tinyml::autograd
