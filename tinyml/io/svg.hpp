// A small SVG chart writer (for the CLI, the examples and the demo report): histograms, scatter plots and line charts with axes and legends.
#pragma once

#include <string>
#include <vector>

namespace tinyml::io::svg {

struct Axis {
  std::string label;
  bool log = false;  // base-10 logarithmic; values <= 0 are left out
  // Fixed ends of the axis; when lo >= hi the ends come from the data (rounded out to ticks).
  double lo = 0.0;
  double hi = 0.0;
  double tick_step = 0.0;  // > 0: ticks at multiples of it (linear axes); otherwise chosen for ~6 ticks
};

struct Chart {
  std::string title;
  Axis x;
  Axis y;
  int width = 760;
  int height = 480;
};

// One set of points. `line` joins them in order; `markers` draws a dot at each.
struct Series {
  std::string label;  // shown in the legend when not empty
  std::vector<double> x;
  std::vector<double> y;
  std::string color;  // any SVG color; empty picks one from the palette by position
  bool line = true;
  bool markers = true;
  bool dashed = false;
  double marker_radius = 3.5;
};

// A vertical line across the plot at `x`, labelled (e.g. a chosen clipping bound).
struct Marker {
  double x = 0.0;
  std::string label;
  std::string color = "#d62728";
};

// Bars over bins: counts[i] covers [edges[i], edges[i + 1]); edges.size() == counts.size() + 1
// and increasing. Throws tinyml::Error on bad input.
std::string histogram(const Chart& chart, const std::vector<double>& edges, const std::vector<double>& counts,
                      const std::vector<Marker>& markers = {}, const std::string& bar_color = "#4c78a8");
// Points, no lines (a Series with line = true still gets its line, e.g. a y = x diagonal).
std::string scatter(const Chart& chart, const std::vector<Series>& series);
// Lines through points.
std::string line_chart(const Chart& chart, const std::vector<Series>& series);

// "Nice" tick positions (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// Writes `svg` to `path` (the directory must exist); throws tinyml::Error if it cannot.
void write_file(const std::string& path, const std::string& svg);

}  // namespace tinyml::io::svg
