// `tinyml demo`'s report: the comparison table (text and Markdown), the SVG figures and report.md.
#pragma once

#include <string>
#include <vector>

#include "lab/demo.hpp"

namespace tinyml::cli::demo {

// The comparison table as fixed-width text (what the terminal shows).
std::string table_text(const Results& r);
// The same table in Markdown.
std::string table_markdown(const Results& r);
// One sentence comparing the QAT row with its float control; empty when there is none.
std::string qat_note(const Results& r);

// Draws every figure as an SVG into `dir`, writes the model's graph as `dir`/model.dot (and, when
// Graphviz's `dot` is installed, as model.svg), and writes `dir`/report.md referencing them.
ReportFiles write_report(const Results& r, const std::string& dir);

}  // namespace tinyml::cli::demo
