#include "tinyml/autograd/dot_text.hpp"

#include <fmt/format.h>

namespace tinyml {

std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string dot_node(std::string_view indent, std::string_view id, std::string_view label,
                     std::string_view shape) {
  if (shape.empty()) return fmt::format("{}{} [label=\"{}\"];\n", indent, id, label);
  return fmt::format("{}{} [shape={}, label=\"{}\"];\n", indent, id, shape, label);
}

std::string dot_edge(std::string_view indent, std::string_view from, std::string_view to) {
  return fmt::format("{}{} -> {};\n", indent, from, to);
}

}  // namespace tinyml
