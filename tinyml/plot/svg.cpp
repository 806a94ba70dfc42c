#include "tinyml/plot/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "tinyml/core/error.hpp"

namespace tinyml::plot {

namespace {

constexpr const char* kPalette[] = {"#4c78a8", "#f58518", "#54a24b", "#e45756",
                                    "#72b7b2", "#b279a2", "#9d755d"};
constexpr double kCharWidth = 6.6;  // average glyph width at font-size 12, for laying out labels

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Coordinates with two decimals: enough for a screen, small files.
std::string num(double v) { return fmt::format("{:.2f}", v); }

struct Scale {
  double lo = 0, hi = 1;  // data range
  double p0 = 0, p1 = 1;  // pixel range (p1 < p0 for a y axis: up is smaller)
  bool log = false;
  double map(double v) const {
    const double t =
        log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return p0 + t * (p1 - p0);
  }
};

// Tick label text: as many decimals as the tick step needs, so 0.25 steps read 0.25, 0.50, ...
std::string tick_label(double v, double step, bool log) {
  if (log) {
    const double e = std::round(std::log10(v));
    if (e >= 0 && e <= 5) return fmt::format("{:.0f}", std::pow(10.0, e));
    return fmt::format("1e{:.0f}", e);
  }
  if (std::fabs(v) < step * 1e-9) return "0";
  const double mag = std::max(std::fabs(v), step);
  if (mag >= 1e6 || mag < 1e-4) return fmt::format("{:.2g}", v);
  int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  // A step like 0.25 or 2.5 needs one more decimal than its power of ten says.
  const double scaled = step * std::pow(10.0, decimals);
  if (std::fabs(scaled - std::round(scaled)) > 1e-6) ++decimals;
  return fmt::format("{:.{}f}", v, decimals);
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  for (double e = std::floor(std::log10(lo)); e <= std::ceil(std::log10(hi)) + 1e-9; e += 1.0)
    t.push_back(std::pow(10.0, e));
  return t;
}

std::vector<double> ticks_for(const Axis& a, double lo, double hi) {
  if (a.log) return log_ticks(lo, hi);
  if (a.tick_step > 0 && (hi - lo) / a.tick_step <= 50) {
    std::vector<double> t;
    for (double v = std::ceil(lo / a.tick_step - 1e-9) * a.tick_step; v <= hi + a.tick_step * 1e-9;
         v += a.tick_step)
      t.push_back(v);
    return t;
  }
  return nice_ticks(lo, hi);
}

// The axis range: fixed if given, otherwise the data's rounded out to ticks.
void resolve_range(const Axis& a, double dmin, double dmax, double& lo, double& hi) {
  if (a.lo < a.hi) {
    lo = a.lo;
    hi = a.hi;
    return;
  }
  if (!(dmin <= dmax)) {  // no data
    dmin = a.log ? 1.0 : 0.0;
    dmax = a.log ? 10.0 : 1.0;
  }
  if (a.log) {
    lo = std::pow(10.0, std::floor(std::log10(dmin)));
    hi = std::pow(10.0, std::ceil(std::log10(dmax)));
    if (hi <= lo) hi = lo * 10.0;
    return;
  }
  if (dmax - dmin < 1e-12 * std::max(1.0, std::fabs(dmax))) {
    dmin -= 1.0;
    dmax += 1.0;
  }
  const std::vector<double> t = nice_ticks(dmin, dmax);
  const double step = t.size() > 1 ? t[1] - t[0] : 1.0;
  lo = std::floor(dmin / step + 1e-9) * step;
  hi = std::ceil(dmax / step - 1e-9) * step;
}

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

  Frame(const Chart& c, double xmin, double xmax, double ymin, double ymax, double legend_width) {
    TINYML_CHECK(c.width >= 200 && c.height >= 150, "svg: a chart needs at least 200x150 pixels, got {}x{}",
                 c.width, c.height);
    double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    resolve_range(c.x, xmin, xmax, x0, x1);
    resolve_range(c.y, ymin, ymax, y0, y1);
    const std::vector<double> xt = ticks_for(c.x, x0, x1);
    const std::vector<double> yt = ticks_for(c.y, y0, y1);
    const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1.0;
    const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1.0;
    size_t ylabel_chars = 1;
    for (double v : yt) ylabel_chars = std::max(ylabel_chars, tick_label(v, ystep, c.y.log).size());

    left = 30 + ylabel_chars * kCharWidth + 14;
    right = c.width - 20 - legend_width;
    top = c.title.empty() ? 20 : 46;
    bottom = c.height - 52;
    x = Scale{x0, x1, left, right, c.x.log};
    y = Scale{y0, y1, bottom, top, c.y.log};

    out += fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
        c.width, c.height);
    out += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", c.width, c.height);
    out += fmt::format(
        "<defs><clipPath id=\"plot\"><rect x=\"{}\" y=\"{}\" width=\"{}\" "
        "height=\"{}\"/></clipPath></defs>\n",
        num(left), num(top), num(right - left), num(bottom - top));
    if (!c.title.empty())
      out += fmt::format(
          "<text x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
          num(c.width / 2.0), esc(c.title));
    // Grid and ticks.
    out += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n";
    for (double v : xt)
      if (v >= x0 - 1e-9 * std::fabs(x1 - x0) && v <= x1 + 1e-9 * std::fabs(x1 - x0))
        out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(x.map(v)), num(top),
                           num(bottom));
    for (double v : yt)
      if (v >= y0 - 1e-9 * std::fabs(y1 - y0) && v <= y1 + 1e-9 * std::fabs(y1 - y0))
        out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n", num(left), num(y.map(v)),
                           num(right));
    out += "</g>\n";
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
                       num(left), num(top), num(right - left), num(bottom - top));
    // Tick labels, skipping any that would run into the previous one.
    double last_right = -1e9;
    for (double v : xt) {
      if (v < x0 - 1e-9 * std::fabs(x1 - x0) || v > x1 + 1e-9 * std::fabs(x1 - x0)) continue;
      const std::string s = tick_label(v, xstep, c.x.log);
      const double px = x.map(v), half = s.size() * kCharWidth / 2;
      if (px - half < last_right + 6) continue;
      last_right = px + half;
      out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>\n", num(px),
                         num(bottom), num(bottom + 5));
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(px),
                         num(bottom + 19), esc(s));
    }
    double last_top = 1e9;
    for (double v : yt) {
      if (v < y0 - 1e-9 * std::fabs(y1 - y0) || v > y1 + 1e-9 * std::fabs(y1 - y0)) continue;
      const double py = y.map(v);
      if (py > last_top - 14) continue;
      last_top = py;
      out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n",
                         num(left - 5), num(py), num(left));
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(left - 8),
                         num(py + 4), esc(tick_label(v, ystep, c.y.log)));
    }
    if (!c.x.label.empty())
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
                         num((left + right) / 2), num(c.height - 12), esc(c.x.label));
    if (!c.y.label.empty())
      out += fmt::format(
          "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
          "font-size=\"13\">{}</text>\n",
          num((top + bottom) / 2), esc(c.y.label));
  }

  bool inside_x(double v) const { return std::isfinite(v) && (!x.log || v > 0); }
  bool inside_y(double v) const { return std::isfinite(v) && (!y.log || v > 0); }

  std::string finish() { return out + "</svg>\n"; }
};

std::string color_of(const Series& s, size_t i) {
  return s.color.empty() ? kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))] : s.color;
}

double legend_width(const std::vector<Series>& series) {
  size_t chars = 0;
  for (const Series& s : series) chars = std::max(chars, s.label.size());
  return chars == 0 ? 0.0 : 40 + chars * kCharWidth;
}

void check_series(const std::vector<Series>& series, const char* fn) {
  for (size_t i = 0; i < series.size(); ++i)
    TINYML_CHECK(series[i].x.size() == series[i].y.size(),
                 "{}: series {} ('{}') has {} x values and {} y values", fn, i, series[i].label,
                 series[i].x.size(), series[i].y.size());
}

// Legend to the right of the plot area: a line/marker sample and the label per named series.
void draw_legend(Frame& f, const std::vector<Series>& series) {
  double y = f.top + 8;
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    if (s.label.empty()) continue;
    const std::string col = color_of(s, i);
    const double x = f.right + 14;
    if (s.line)
      f.out +=
          fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n",
                      num(x), num(y), num(x + 22), num(y), col, s.dashed ? " stroke-dasharray=\"5 3\"" : "");
    if (s.markers)
      f.out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"/>\n", num(x + 11), num(y),
                           num(s.marker_radius), col);
    f.out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(x + 28), num(y + 4), esc(s.label));
    y += 20;
  }
}

void draw_series(Frame& f, const std::vector<Series>& series, bool allow_lines) {
  f.out += "<g clip-path=\"url(#plot)\">\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const std::string col = color_of(s, i);
    if (s.line && allow_lines) {
      std::string pts;
      for (size_t k = 0; k < s.x.size(); ++k)
        if (f.inside_x(s.x[k]) && f.inside_y(s.y[k]))
          pts += num(f.x.map(s.x[k])) + "," + num(f.y.map(s.y[k])) + " ";
      if (!pts.empty())
        f.out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n",
                             pts, col, s.dashed ? " stroke-dasharray=\"5 3\"" : "");
    }
    if (s.markers) {
      f.out += fmt::format("<g fill=\"{}\" fill-opacity=\"0.75\">\n", col);
      for (size_t k = 0; k < s.x.size(); ++k)
        if (f.inside_x(s.x[k]) && f.inside_y(s.y[k]))
          f.out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>\n", num(f.x.map(s.x[k])),
                               num(f.y.map(s.y[k])), num(s.marker_radius));
      f.out += "</g>\n";
    }
  }
  f.out += "</g>\n";
  draw_legend(f, series);
}

std::string xy_chart(const Chart& chart, const std::vector<Series>& series, bool lines, const char* fn) {
  check_series(series, fn);
  Extent ex, ey;
  for (const Series& s : series)
    for (size_t k = 0; k < s.x.size(); ++k) {
      ex.add(s.x[k], chart.x.log);
      ey.add(s.y[k], chart.y.log);
    }
  Frame f(chart, ex.min, ex.max, ey.min, ey.max, legend_width(series));
  draw_series(f, series, lines);
  return f.finish();
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  TINYML_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && target >= 2,
               "svg::nice_ticks: needs finite lo <= hi and target >= 2, got [{}, {}] and {}", lo, hi, target);
  if (hi - lo < 1e-300) return {lo};
  const double raw = (hi - lo) / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = p;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * p >= raw * 0.999) {
      step = m * p;
      break;
    }
  std::vector<double> t;
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

namespace {

// Legend for histograms, right of the plot area: a colour swatch and the label per named Bars.
double bars_legend_width(const std::vector<Bars>& bars, const std::vector<Marker>& markers) {
  size_t chars = 0;
  for (const Bars& b : bars) chars = std::max(chars, b.label.size());
  for (const Marker& m : markers)
    if (m.in_legend) chars = std::max(chars, m.label.size());
  return chars == 0 ? 0.0 : 40 + chars * kCharWidth;
}

std::string bars_color(const Bars& b, size_t i) {
  return b.color.empty() ? kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))] : b.color;
}

// The shared body of `histogram` and `histograms`: one bar set is drawn opaque, several translucent.
std::string draw_histograms(const Chart& chart, const std::vector<double>& edges,
                            const std::vector<Bars>& bars, const std::vector<Marker>& markers,
                            const char* fn) {
  TINYML_CHECK(!bars.empty(), "{}: needs at least one set of counts", fn);
  const size_t bins = bars.front().counts.size();
  TINYML_CHECK(bins > 0 && edges.size() == bins + 1,
               "{}: needs one more edge than counts, got {} edges and {} counts", fn, edges.size(), bins);
  for (size_t k = 1; k < bars.size(); ++k)
    TINYML_CHECK(bars[k].counts.size() == bins, "{}: set {} ('{}') has {} counts, set 0 has {}", fn, k,
                 bars[k].label, bars[k].counts.size(), bins);
  for (size_t i = 0; i + 1 < edges.size(); ++i)
    TINYML_CHECK(std::isfinite(edges[i]) && edges[i] < edges[i + 1],
                 "{}: edges must be finite and increasing; edge {} = {} "
                 "and edge {} = {}",
                 fn, i, edges[i], i + 1, edges[i + 1]);
  Extent ex, ey;
  ex.add(edges.front(), chart.x.log);
  ex.add(edges.back(), chart.x.log);
  for (const Marker& m : markers) ex.add(m.x, chart.x.log);
  for (const Bars& b : bars)
    for (double c : b.counts) ey.add(c, chart.y.log);
  if (!chart.y.log) ey.add(0.0, false);  // bars stand on 0
  Frame f(chart, ex.min, ex.max, ey.min, ey.max, bars_legend_width(bars, markers));

  const double base = chart.y.log ? f.bottom : f.y.map(0.0);
  for (size_t k = 0; k < bars.size(); ++k) {
    // One set alone is drawn opaque; over each other, each stays visible through the next.
    f.out += fmt::format("<g clip-path=\"url(#plot)\" fill=\"{}\"{} stroke=\"white\" stroke-width=\"0.4\">\n",
                         bars_color(bars[k], k), bars.size() > 1 ? " fill-opacity=\"0.6\"" : "");
    const std::vector<double>& counts = bars[k].counts;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (!f.inside_y(counts[i]) || counts[i] == 0) continue;
      const double x0 = f.x.map(edges[i]), x1 = f.x.map(edges[i + 1]);
      const double yv = f.y.map(counts[i]);
      f.out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", num(x0),
                           num(std::min(yv, base)), num(std::max(x1 - x0, 0.5)), num(std::fabs(base - yv)));
    }
    f.out += "</g>\n";
  }
  // Markers: dashed lines with their labels stacked at the top, each clear of the one before.
  size_t labelled = 0;
  for (const Marker& m : markers) {
    if (!f.inside_x(m.x)) continue;
    const double px = f.x.map(m.x);
    if (px < f.left - 0.5 || px > f.right + 0.5) continue;  // outside a fixed axis range
    f.out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\" "
        "stroke-dasharray=\"6 4\"/>\n",
        num(px), num(f.top), num(f.bottom), m.color);
    if (m.label.empty() || m.in_legend) continue;
    const double w = m.label.size() * kCharWidth;
    const bool to_left = px + 6 + w > f.right;  // near the right edge: write leftwards
    f.out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"{}\" stroke=\"white\" stroke-width=\"3\" "
        "paint-order=\"stroke\">{}</text>\n",
        num(to_left ? px - 6 : px + 6), num(f.top + 16 + 16 * static_cast<double>(labelled)),
        to_left ? "end" : "start", m.color, esc(m.label));
    ++labelled;
  }
  // Legend swatches.
  double ly = f.top + 8;
  for (size_t k = 0; k < bars.size(); ++k) {
    if (bars[k].label.empty()) continue;
    const double lx = f.right + 14;
    f.out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"22\" height=\"10\" fill=\"{}\"{}/>\n", num(lx),
                         num(ly - 5), bars_color(bars[k], k), bars.size() > 1 ? " fill-opacity=\"0.6\"" : "");
    f.out +=
        fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(lx + 28), num(ly + 4), esc(bars[k].label));
    ly += 20;
  }
  for (const Marker& m : markers) {
    if (!m.in_legend || m.label.empty()) continue;
    const double lx = f.right + 14;
    f.out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" "
        "stroke-dasharray=\"6 4\"/>\n",
        num(lx), num(ly), num(lx + 22), num(ly), m.color);
    f.out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(lx + 28), num(ly + 4), esc(m.label));
    ly += 20;
  }
  return f.finish();
}

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

}  // namespace

std::string histogram(const Chart& chart, const std::vector<double>& edges, const std::vector<double>& counts,
                      const std::vector<Marker>& markers, const std::string& bar_color) {
  return draw_histograms(chart, edges, {Bars{"", counts, bar_color}}, markers, "svg::histogram");
}

std::string histograms(const Chart& chart, const std::vector<double>& edges, const std::vector<Bars>& bars,
                       const std::vector<Marker>& markers) {
  return draw_histograms(chart, edges, bars, markers, "svg::histograms");
}

std::string heatmap(const Chart& chart, const HeatMap& map) {
  constexpr const char* fn = "svg::heatmap";
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
  const std::array<int, 3> rgb = parse_hex_color(map.color, fn);

  double lo = map.lo, hi = map.hi;
  if (!(lo < hi)) {
    Extent e;
    for (double v : map.values) e.add(v, false);
    lo = e.min <= e.max ? e.min : 0.0;
    hi = e.min <= e.max ? e.max : 1.0;
    if (!(lo < hi)) hi = lo + 1.0;  // a constant map: every cell at the low colour
  }
  const auto intensity = [&](double v) {
    return std::pow(std::clamp((v - lo) / (hi - lo), 0.0, 1.0), map.gamma);
  };

  // Layout: row labels left, column labels below (slanted at 45° when they do not fit flat),
  // a colour bar right.
  size_t row_chars = 0, col_chars = 0;
  for (const auto& s : map.row_labels) row_chars = std::max(row_chars, s.size());
  for (const auto& s : map.col_labels) col_chars = std::max(col_chars, s.size());
  const double colorbar_w = 90;
  const double left = (chart.y.label.empty() ? 12 : 34) + row_chars * kCharWidth + 10;
  const double top = chart.title.empty() ? 16 : 46;
  const double avail_w = chart.width - left - colorbar_w - 16;
  double cell = avail_w / static_cast<double>(cols);
  bool slanted = col_chars * kCharWidth + 6 > cell;
  double label_h = slanted ? col_chars * kCharWidth * 0.71 + 16 : 22;
  const double bottom_margin = label_h + (chart.x.label.empty() ? 8 : 30);
  cell = std::min(cell, (chart.height - top - bottom_margin) / static_cast<double>(rows));
  TINYML_CHECK(cell >= 4,
               "{}: {}x{} pixels leave {:.1f}-pixel cells for {} x {} cells; make the chart larger", fn,
               chart.width, chart.height, cell, rows, cols);
  slanted = col_chars * kCharWidth + 6 > cell;
  const double grid_w = cell * static_cast<double>(cols), grid_h = cell * static_cast<double>(rows);
  const double bottom = top + grid_h;

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
      chart.width, chart.height);
  out += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", chart.width, chart.height);
  if (!chart.title.empty())
    out += fmt::format(
        "<text x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        num(chart.width / 2.0), esc(chart.title));

  // Cells, with their text in white on dark cells.
  const double font = std::clamp(cell / 3.6, 7.0, 12.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      const double v = map.values[r * cols + c];
      const double x = left + cell * static_cast<double>(c), y = top + cell * static_cast<double>(r);
      const double t = std::isfinite(v) ? intensity(v) : 0.0;
      out +=
          fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"white\"/>\n",
                      num(x), num(y), num(cell), num(cell), std::isfinite(v) ? blend(rgb, t) : "#bbbbbb");
      if (!map.cell_text.empty() && !map.cell_text[r * cols + c].empty())
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{}\">{}</text>\n",
            num(x + cell / 2), num(y + cell / 2 + font * 0.35), num(font), t > 0.55 ? "white" : "#222",
            esc(map.cell_text[r * cols + c]));
    }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
                     num(left), num(top), num(grid_w), num(grid_h));

  for (size_t r = 0; r < rows; ++r)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(left - 6),
                       num(top + cell * (static_cast<double>(r) + 0.5) + 4), esc(map.row_labels[r]));
  for (size_t c = 0; c < cols; ++c) {
    const double cx = left + cell * (static_cast<double>(c) + 0.5);
    if (slanted)
      out += fmt::format("<text transform=\"translate({} {}) rotate(-45)\" text-anchor=\"end\">{}</text>\n",
                         num(cx + 4), num(bottom + 10), esc(map.col_labels[c]));
    else
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(cx),
                         num(bottom + 16), esc(map.col_labels[c]));
  }
  const double label_bottom = bottom + (slanted ? col_chars * kCharWidth * 0.71 + 16 : 22);
  if (!chart.x.label.empty())
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
                       num(left + grid_w / 2), num(label_bottom + 14), esc(chart.x.label));
  if (!chart.y.label.empty())
    out += fmt::format(
        "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
        "font-size=\"13\">{}</text>\n",
        num(top + grid_h / 2), esc(chart.y.label));

  // Colour bar: thin slices from lo (bottom) to hi (top), ticks at nice values.
  const double bx = left + grid_w + 18, bw = 14;
  constexpr int kSlices = 64;
  for (int i = 0; i < kSlices; ++i) {
    const double t0 = static_cast<double>(i) / kSlices;
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", num(bx),
                       num(bottom - grid_h * (t0 + 1.0 / kSlices)), num(bw), num(grid_h / kSlices + 0.3),
                       blend(rgb, std::pow(t0 + 0.5 / kSlices, map.gamma)));
  }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
                     num(bx), num(top), num(bw), num(grid_h));
  const std::vector<double> ticks = nice_ticks(lo, hi, 5);
  const double tstep = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  for (double v : ticks) {
    // The bar is linear in t, so a value sits at its fraction of the range.
    const double py = bottom - grid_h * (v - lo) / (hi - lo);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n", num(bx + bw),
                       num(py), num(bx + bw + 4));
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(bx + bw + 7), num(py + 4),
                       esc(tick_label(v, tstep, false)));
  }
  if (!map.scale_label.empty())
    out += fmt::format(
        "<text transform=\"translate({} {}) rotate(-90)\" text-anchor=\"middle\" "
        "font-size=\"12\">{}</text>\n",
        num(bx + bw + 60), num(top + grid_h / 2), esc(map.scale_label));
  return out + "</svg>\n";
}

std::string scatter(const Chart& chart, const std::vector<Series>& series) {
  return xy_chart(chart, series, /*lines=*/true, "svg::scatter");
}

std::string line_chart(const Chart& chart, const std::vector<Series>& series) {
  return xy_chart(chart, series, /*lines=*/true, "svg::line_chart");
}

void write_file(const std::string& path, const std::string& svg) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  TINYML_CHECK(f.good(), "svg: cannot open '{}' for writing", path);
  f << svg;
  f.close();
  TINYML_CHECK(f.good(), "svg: writing '{}' failed", path);
}

Bins bin_values(const std::vector<float>& values, double lo, double hi, int bins) {
  TINYML_CHECK(bins >= 1 && std::isfinite(lo) && std::isfinite(hi) && hi > lo,
               "svg::bin_values: needs bins >= 1 and finite lo < hi, got {} bins over [{}, {}]", bins, lo,
               hi);
  Bins h;
  for (int i = 0; i <= bins; ++i) h.edges.push_back(lo + (hi - lo) * i / bins);
  h.counts.assign(static_cast<size_t>(bins), 0.0);
  for (const float x : values) {
    const auto k = static_cast<int64_t>(std::floor((x - lo) / (hi - lo) * bins));
    if (k >= 0 && k < bins)
      h.counts[static_cast<size_t>(k)] += 1.0;
    else if (x == hi)
      h.counts.back() += 1.0;
  }
  return h;
}

Bins rebin(const Bins& b, size_t factor) {
  TINYML_CHECK(
      factor >= 1 && b.edges.size() == b.counts.size() + 1,
      "svg::rebin: needs factor >= 1 and one more edge than counts, got factor {}, {} edges, {} counts",
      factor, b.edges.size(), b.counts.size());
  Bins r;
  for (size_t i = 0; i < b.counts.size(); i += factor) {
    r.edges.push_back(b.edges[i]);
    double c = 0;
    for (size_t k = i; k < std::min(i + factor, b.counts.size()); ++k) c += b.counts[k];
    r.counts.push_back(c);
  }
  r.edges.push_back(b.edges.back());
  return r;
}

}  // namespace tinyml::plot
