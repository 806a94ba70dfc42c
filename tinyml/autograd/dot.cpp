// to_dot: a depth-first walk of the recorded graph, written out as Graphviz DOT.
#include "tinyml/autograd/dot.hpp"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "tinyml/autograd/dot_text.hpp"
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml::autograd {

namespace {

std::string values(const Tensor& t) {
  std::string s = "[";
  for (float v : t.to_vector()) s += fmt::format("{}{:.4g}", s.size() > 1 ? ", " : "", v);
  s += ']';
  return s;
}

std::string tensor_label(const Tensor& t, const std::string& name) {
  std::string label = name.empty() ? std::string() : fmt::format("{}\\n", dot_escape(name));
  label += shape_str(t.shape());
  if (t.numel() <= 4) label += fmt::format(" {}", values(t));
  const Tensor g = t.grad();
  if (g.defined()) {
    if (g.numel() <= 4) {
      label += fmt::format("\\ngrad {}", values(g));
    } else {
      double sq = 0.0;
      for (float v : g.to_vector()) sq += static_cast<double>(v) * v;
      label += fmt::format("\\ngrad |g| = {:.4g}", std::sqrt(sq));
    }
  }
  return label;
}

}  // namespace

std::string to_dot(const Tensor& root, const std::vector<std::pair<std::string, Tensor>>& names) {
  TINYML_CHECK(root.defined(), "autograd::to_dot: undefined tensor");
  std::unordered_map<const TensorImpl*, std::string> name_of;
  for (const auto& [n, t] : names)
    if (t.defined()) name_of[t.impl().get()] = n;
  std::unordered_map<const TensorImpl*, std::string> tensor_id;
  std::unordered_map<const Node*, std::string> op_id;
  std::string nodes, edges;
  // The id of a tensor, writing its box the first time it is reached.
  const auto tensor = [&](const Tensor& t) {
    auto [it, fresh] = tensor_id.try_emplace(t.impl().get(), fmt::format("t{}", tensor_id.size()));
    if (fresh) {
      const auto n = name_of.find(t.impl().get());
      nodes += dot_node("  ", it->second, tensor_label(t, n == name_of.end() ? "" : n->second), "box");
    }
    return std::pair{it->second, fresh};
  };
  std::vector<Tensor> stack{root};
  tensor(root);
  while (!stack.empty()) {
    const Tensor t = stack.back();
    stack.pop_back();
    const std::shared_ptr<Node>& node = t.grad_fn();
    if (!node) continue;
    auto [op, fresh] = op_id.try_emplace(node.get(), fmt::format("op{}", op_id.size()));
    edges += dot_edge("  ", op->second, tensor_id.at(t.impl().get()));
    if (!fresh) continue;
    nodes += dot_node("  ", op->second,
                      dot_escape(node->name) + (node->released && node->inputs.empty() ? "\\n(freed)" : ""),
                      "ellipse");
    for (const Tensor& in : node->inputs) {
      if (!in.defined()) continue;
      const auto [id, first] = tensor(in);
      edges += dot_edge("  ", id, op->second);
      if (first) stack.push_back(in);
    }
  }
  return fmt::format(
      "digraph autograd {{\n  rankdir=LR;\n  node [fontname=\"monospace\", fontsize=10];\n{}{}}}\n", nodes,
      edges);
}

}  // namespace tinyml::autograd
