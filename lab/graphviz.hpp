// Drawing DOT files as SVG with Graphviz's `dot` program, when it is installed.
#pragma once

#include <string>

namespace tinyml::cli {

// What became of one drawing.
struct DotDrawing {
  bool drawn = false;
  std::string problem;  // why not, in a few words ("`dot` is not installed"); empty when drawn
};

// Runs `program -Tsvg dot_path -o TEMP` (the program looked up on PATH, no shell; its output
// discarded), waits for it, and renames TEMP (beside `svg_path`) over `svg_path`. A program that is
// missing, cannot start or fails is no error: the result says so, and no `svg_path` is left. A
// `svg_path` that is not a regular file (a FIFO, a device, a folder) throws tinyml::Error first.
DotDrawing draw_dot_as_svg(const std::string& dot_path, const std::string& svg_path,
                           const std::string& program = "dot");

}  // namespace tinyml::cli
