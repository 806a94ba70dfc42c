// Drawing DOT files as SVG with Graphviz's `dot` program, when it is installed.
#pragma once

#include <string>

namespace tinyml::cli {

// What became of one drawing.
struct DotDrawing {
  bool drawn = false;
  std::string problem;  // why not, in a few words ("`dot` is not installed"); empty when drawn
};

// Runs `program -Tsvg dot_path -o svg_path` (the program looked up on PATH, no shell; its output
// discarded) and waits for it. A program that is missing, cannot start or fails is no error: the
// result says so, and a partial `svg_path` is removed.
DotDrawing draw_dot_as_svg(const std::string& dot_path, const std::string& svg_path,
                           const std::string& program = "dot");

}  // namespace tinyml::cli
