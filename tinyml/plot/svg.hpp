// A small SVG chart writer (for the CLI, the examples and the demo report): histograms, scatter plots, line
// charts and heat maps with axes and legends.
#pragma once

#include <string>
#include <vector>

namespace tinyml::plot {

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
  // false: the label is written beside the line, at the top of the plot; true: in the legend
  // right of the plot (for lines close together, whose labels would cross each other's lines).
  bool in_legend = false;
};

// Bars over bins: counts[i] covers [edges[i], edges[i + 1]); edges.size() == counts.size() + 1
// and increasing. Throws tinyml::Error on bad input.
std::string histogram(const Chart& chart, const std::vector<double>& edges, const std::vector<double>& counts,
                      const std::vector<Marker>& markers = {}, const std::string& bar_color = "#4c78a8");
// One histogram of several drawn over the same bins by `histograms`.
struct Bars {
  std::string label;  // shown in the legend when not empty
  std::vector<double> counts;
  std::string color;  // empty picks one from the palette by position
};

// Several histograms over the same bins, drawn translucent over each other in order, with a
// legend; e.g. the errors of two bit widths. Same checks as `histogram`, and every Bars must hold
// one count per bin.
std::string histograms(const Chart& chart, const std::vector<double>& edges, const std::vector<Bars>& bars,
                       const std::vector<Marker>& markers = {});

// Points, no lines (a Series with line = true still gets its line, e.g. a y = x diagonal).
std::string scatter(const Chart& chart, const std::vector<Series>& series);
// Lines through points.
std::string line_chart(const Chart& chart, const std::vector<Series>& series);

// A grid of coloured cells, e.g. a confusion matrix: rows top to bottom, columns left to right.
struct HeatMap {
  std::vector<std::string> row_labels;  // one per row, written left of the grid
  std::vector<std::string> col_labels;  // one per column, written below the grid (slanted if long)
  std::vector<double> values;           // rows × columns, row-major; NaN draws a grey cell
  std::vector<std::string> cell_text;   // empty, or one per cell, written in it
  // Colour range: lo is white, hi is `color`. When lo >= hi it is the data's min and max.
  double lo = 0.0;
  double hi = 0.0;
  // Intensity is t^gamma for t = (v − lo)/(hi − lo) in [0, 1]: gamma < 1 makes small values
  // visible next to large ones (a confusion matrix's few errors next to its diagonal).
  double gamma = 1.0;
  std::string color = "#2a5d9f";  // "#rrggbb"
  std::string scale_label;        // caption of the colour bar at the right
};

// The heat map in `chart` (its title; x.label under the columns, y.label beside the rows; the
// axes' ranges, ticks and log flags do not apply). Throws tinyml::Error on no cells, labels or
// texts that do not match the values in number, a colour that is not "#rrggbb", or gamma <= 0.
std::string heatmap(const Chart& chart, const HeatMap& map);

// Counts over bins, as histogram() draws them: counts[i] covers [edges[i], edges[i + 1]).
struct Bins {
  std::vector<double> edges;
  std::vector<double> counts;
};
// `bins` equal bins over [lo, hi] (hi > lo, bins >= 1); `hi` itself counts in the last bin, values
// outside are left out (choose a range that holds them all). Throws tinyml::Error on bad bounds.
Bins bin_values(const std::vector<float>& values, double lo, double hi, int bins);
// Sums groups of `factor` (>= 1) adjacent bins; the last group may be short.
Bins rebin(const Bins& b, size_t factor);

// "Nice" tick positions (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// Writes `svg` to `path` atomically (write_file_atomic: the old file or the new one, never a part;
// only a regular file is replaced); throws tinyml::Error if it cannot.
void write_file(const std::string& path, const std::string& svg);

}  // namespace tinyml::plot
