// What every chart of svg.hpp is drawn with: escaping, numbers, scales, axis ranges, ticks, the frame.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "tinyml/plot/svg.hpp"

namespace tinyml::plot::detail {

inline constexpr double kCharWidth = 6.6;  // average glyph width at font-size 12, for laying out labels

// The palette's colour for series (or bar set) number i, cycling through seven colours.
const char* palette_color(size_t i);

// Text for SVG character data and attribute values: & < > " escaped.
std::string esc(const std::string& s);

// Coordinates with two decimals: enough for a screen, small files.
std::string num(double v);

// Tick label text: as many decimals as the tick step needs, so 0.25 steps read 0.25, 0.50, ...;
// powers of ten on a log axis.
std::string tick_label(double v, double step, bool log);

// The tick positions of axis `a` over [lo, hi]: powers of ten (log), multiples of a.tick_step, or
// nice_ticks.
std::vector<double> ticks_for(const Axis& a, double lo, double hi);

// The axis range: fixed if given, otherwise the data's [dmin, dmax] rounded out to ticks (powers
// of ten on a log axis; [0, 1] or [1, 10] without data).
void resolve_range(const Axis& a, double dmin, double dmax, double& lo, double& hi);

// The opening of a chart: the <svg> element of the chart's size and a white background.
std::string svg_open(const Chart& c);
// The chart's title, centred at the top; "" without one.
std::string svg_title(const Chart& c);

// A data range [lo, hi] mapped onto a pixel range [p0, p1] (p1 < p0 for a y axis: up is smaller).
struct Scale {
  double lo = 0, hi = 1;
  double p0 = 0, p1 = 1;
  bool log = false;
  double map(double v) const {
    const double t =
        log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return p0 + t * (p1 - p0);
  }
};

// The extremes of the finite values added (and, on a log axis, only the positive ones).
struct Extent {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  void add(double v, bool log) {
    if (!std::isfinite(v) || (log && v <= 0)) return;
    min = std::min(min, v);
    max = std::max(max, v);
  }
};

// The frame: background, title, grid, ticks, axis labels; the plot area is clipped for the data.
struct Frame {
  Scale x, y;
  double left = 0, top = 0, right = 0, bottom = 0;
  std::string out;

  // Draws the frame of `c` for data within [xmin, xmax] × [ymin, ymax], leaving `legend_width`
  // pixels right of the plot. Throws on a chart smaller than 200×150 pixels.
  Frame(const Chart& c, double xmin, double xmax, double ymin, double ymax, double legend_width);

  bool inside_x(double v) const { return std::isfinite(v) && (!x.log || v > 0); }
  bool inside_y(double v) const { return std::isfinite(v) && (!y.log || v > 0); }

  std::string finish() { return out + "</svg>\n"; }
};

}  // namespace tinyml::plot::detail
