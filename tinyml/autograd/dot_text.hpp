// DOT text: the escaping and the node and edge lines that autograd::to_dot and io::model_to_dot write.
#pragma once

#include <string>
#include <string_view>

namespace tinyml {

// Text for a DOT string literal: quotes and backslashes escaped (a label's "\n" line breaks are
// added by the caller after escaping).
std::string dot_escape(std::string_view s);

// One node line: `<indent><id> [shape=<shape>, label="<label>"];` and a newline, without the
// shape attribute when `shape` is empty. `label` is DOT string text, already escaped.
std::string dot_node(std::string_view indent, std::string_view id, std::string_view label,
                     std::string_view shape = "");

// One edge line: `<indent><from> -> <to>;` and a newline.
std::string dot_edge(std::string_view indent, std::string_view from, std::string_view to);

}  // namespace tinyml
