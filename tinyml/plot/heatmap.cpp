// svg::heatmap: a grid of coloured cells with row and column labels and a colour bar.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/plot/frame.hpp"
#include "tinyml/plot/svg.hpp"

namespace tinyml::plot {

using namespace detail;

namespace {

// "#rrggbb" → its three channels; throws naming `fn` otherwise.
std::array<int, 3> parse_hex_color(const std::string& c, const char* fn) {
  const bool ok = c.size() == 7 && c[0] == '#' && std::all_of(c.begin() + 1, c.end(), [](char ch) {
                    return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
                  });
  TINYML_CHECK(ok, "{}: colour must be \"#rrggbb\", got '{}'", fn, c);
  std::array<int, 3> rgb{};
  for (size_t i = 0; i < 3; ++i) rgb[i] = std::stoi(c.substr(1 + 2 * i, 2), nullptr, 16);
  return rgb;
}

// White blended towards `rgb` by `t` in [0, 1].
std::string blend(const std::array<int, 3>& rgb, double t) {
  const auto ch = [t](int v) { return static_cast<int>(std::lround(255.0 + (v - 255.0) * t)); };
  return fmt::format("#{:02x}{:02x}{:02x}", ch(rgb[0]), ch(rgb[1]), ch(rgb[2]));
}

void check_heatmap(const Chart& chart, const HeatMap& map, const char* fn) {
  const size_t rows = map.row_labels.size(), cols = map.col_labels.size();
  TINYML_CHECK(rows > 0 && cols > 0, "{}: needs at least one row and one column label, got {} and {}", fn,
               rows, cols);
  TINYML_CHECK(map.values.size() == rows * cols, "{}: {} rows x {} columns need {} values, got {}", fn, rows,
               cols, rows * cols, map.values.size());
  TINYML_CHECK(map.cell_text.empty() || map.cell_text.size() == rows * cols,
               "{}: cell_text must be empty or hold {} texts (one per cell), got {}", fn, rows * cols,
               map.cell_text.size());
  TINYML_CHECK(std::isfinite(map.gamma) && map.gamma > 0, "{}: gamma must be a finite number > 0, got {}", fn,
               map.gamma);
  TINYML_CHECK(chart.width >= 200 && chart.height >= 150,
               "{}: a chart needs at least 200x150 pixels, got {}x{}", fn, chart.width, chart.height);
}

// What the colours mean: [lo, hi] (the map's own, or the data's), white to `rgb`, gamma.
struct ColorScale {
  double lo = 0.0, hi = 1.0, gamma = 1.0;
  std::array<int, 3> rgb{};
  double intensity(double v) const { return std::pow(std::clamp((v - lo) / (hi - lo), 0.0, 1.0), gamma); }
};

ColorScale color_scale(const HeatMap& map, const char* fn) {
  ColorScale s{map.lo, map.hi, map.gamma, parse_hex_color(map.color, fn)};
  if (!(s.lo < s.hi)) {
    Extent e;
    for (double v : map.values) e.add(v, false);
    s.lo = e.min <= e.max ? e.min : 0.0;
    s.hi = e.min <= e.max ? e.max : 1.0;
    if (!(s.lo < s.hi)) s.hi = s.lo + 1.0;  // a constant map: every cell at the low colour
  }
  return s;
}

// Where everything goes: row labels left, column labels below (slanted at 45° when they do not
// fit flat), a colour bar right.
struct Layout {
  size_t rows = 0, cols = 0;
  double left = 0, top = 0, bottom = 0;  // the grid's left, top and bottom edges
  double cell = 0;                       // a cell's side
  double grid_w = 0, grid_h = 0;
  bool slanted = false;
  double label_bottom = 0;  // below the column labels
};

Layout layout(const Chart& chart, const HeatMap& map, const char* fn) {
  Layout l;
  l.rows = map.row_labels.size();
  l.cols = map.col_labels.size();
  size_t row_chars = 0, col_chars = 0;
  for (const auto& s : map.row_labels) row_chars = std::max(row_chars, s.size());
  for (const auto& s : map.col_labels) col_chars = std::max(col_chars, s.size());
  const double colorbar_w = 90;
  l.left = (chart.y.label.empty() ? 12 : 34) + row_chars * kCharWidth + 10;
  l.top = chart.title.empty() ? 16 : 46;
  const double avail_w = chart.width - l.left - colorbar_w - 16;
  l.cell = avail_w / static_cast<double>(l.cols);
  const bool slanted = col_chars * kCharWidth + 6 > l.cell;
  const double label_h = slanted ? col_chars * kCharWidth * 0.71 + 16 : 22;
  const double bottom_margin = label_h + (chart.x.label.empty() ? 8 : 30);
  l.cell = std::min(l.cell, (chart.height - l.top - bottom_margin) / static_cast<double>(l.rows));
  TINYML_CHECK(l.cell >= 4,
               "{}: {}x{} pixels leave {:.1f}-pixel cells for {} x {} cells; make the chart larger", fn,
               chart.width, chart.height, l.cell, l.rows, l.cols);
  l.slanted = col_chars * kCharWidth + 6 > l.cell;
  l.grid_w = l.cell * static_cast<double>(l.cols);
  l.grid_h = l.cell * static_cast<double>(l.rows);
  l.bottom = l.top + l.grid_h;
  l.label_bottom = l.bottom + (l.slanted ? col_chars * kCharWidth * 0.71 + 16 : 22);
  return l;
}

// The cells, with their text in white on dark cells, and the grid's outline.
std::string cells(const HeatMap& map, const Layout& l, const ColorScale& cs) {
  std::string out;
  const double font = std::clamp(l.cell / 3.6, 7.0, 12.0);
  for (size_t r = 0; r < l.rows; ++r)
    for (size_t c = 0; c < l.cols; ++c) {
      const double v = map.values[r * l.cols + c];
      const double x = l.left + l.cell * static_cast<double>(c), y = l.top + l.cell * static_cast<double>(r);
      const double t = std::isfinite(v) ? cs.intensity(v) : 0.0;
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"white\"/>\n", num(x),
          num(y), num(l.cell), num(l.cell), std::isfinite(v) ? blend(cs.rgb, t) : "#bbbbbb");
      if (!map.cell_text.empty() && !map.cell_text[r * l.cols + c].empty())
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{}\">{}</text>\n",
            num(x + l.cell / 2), num(y + l.cell / 2 + font * 0.35), num(font), t > 0.55 ? "white" : "#222",
            esc(map.cell_text[r * l.cols + c]));
    }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
                     num(l.left), num(l.top), num(l.grid_w), num(l.grid_h));
  return out;
}

// The row and column labels and the axis labels.
std::string labels(const Chart& chart, const HeatMap& map, const Layout& l) {
  std::string out;
  for (size_t r = 0; r < l.rows; ++r)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(l.left - 6),
                       num(l.top + l.cell * (static_cast<double>(r) + 0.5) + 4), esc(map.row_labels[r]));
  for (size_t c = 0; c < l.cols; ++c) {
    const double cx = l.left + l.cell * (static_cast<double>(c) + 0.5);
    if (l.slanted)
      out += fmt::format("<text transform=\"translate({} {}) rotate(-45)\" text-anchor=\"end\">{}</text>\n",
                         num(cx + 4), num(l.bottom + 10), esc(map.col_labels[c]));
    else
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(cx),
                         num(l.bottom + 16), esc(map.col_labels[c]));
  }
  if (!chart.x.label.empty())
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
                       num(l.left + l.grid_w / 2), num(l.label_bottom + 14), esc(chart.x.label));
  if (!chart.y.label.empty())
    out += fmt::format(
        "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
        "font-size=\"13\">{}</text>\n",
        num(l.top + l.grid_h / 2), esc(chart.y.label));
  return out;
}

// The colour bar: thin slices from lo (bottom) to hi (top), ticks at nice values, its caption.
std::string color_bar(const HeatMap& map, const Layout& l, const ColorScale& cs) {
  std::string out;
  const double bx = l.left + l.grid_w + 18, bw = 14;
  constexpr int kSlices = 64;
  for (int i = 0; i < kSlices; ++i) {
    const double t0 = static_cast<double>(i) / kSlices;
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", num(bx),
                       num(l.bottom - l.grid_h * (t0 + 1.0 / kSlices)), num(bw),
                       num(l.grid_h / kSlices + 0.3), blend(cs.rgb, std::pow(t0 + 0.5 / kSlices, cs.gamma)));
  }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
                     num(bx), num(l.top), num(bw), num(l.grid_h));
  const std::vector<double> ticks = nice_ticks(cs.lo, cs.hi, 5);
  const double tstep = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  for (double v : ticks) {
    // The bar is linear in t, so a value sits at its fraction of the range.
    const double py = l.bottom - l.grid_h * (v - cs.lo) / (cs.hi - cs.lo);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n", num(bx + bw),
                       num(py), num(bx + bw + 4));
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(bx + bw + 7), num(py + 4),
                       esc(tick_label(v, tstep, false)));
  }
  if (!map.scale_label.empty())
    out += fmt::format(
        "<text transform=\"translate({} {}) rotate(-90)\" text-anchor=\"middle\" "
        "font-size=\"12\">{}</text>\n",
        num(bx + bw + 60), num(l.top + l.grid_h / 2), esc(map.scale_label));
  return out;
}

}  // namespace

std::string heatmap(const Chart& chart, const HeatMap& map) {
  constexpr const char* fn = "svg::heatmap";
  check_heatmap(chart, map, fn);
  const ColorScale cs = color_scale(map, fn);
  const Layout l = layout(chart, map, fn);
  return svg_open(chart) + svg_title(chart) + cells(map, l, cs) + labels(chart, map, l) +
         color_bar(map, l, cs) + "</svg>\n";
}

}  // namespace tinyml::plot
