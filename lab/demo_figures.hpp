// `tinyml demo`'s figures, drawn from the results as SVG text.
#pragma once

#include <string>
#include <vector>

#include "lab/demo.hpp"

namespace tinyml::cli::demo {

struct Figure {
  std::string name;  // file name: "training_loss.svg"
  std::string svg;   // the drawing
};

// Every chart of the report, in the order the report shows them. Needs the epochs, the table's
// fp32 row, the bit-width sweep and a classes × classes confusion matrix (write_report checks).
std::vector<Figure> draw_figures(const Results& r);

}  // namespace tinyml::cli::demo
