#include "tinyml/plot/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "tinyml/core/error.hpp"
#include "tinyml/plot/frame.hpp"

namespace tinyml::plot {

using namespace detail;

namespace {

std::string color_of(const Series& s, size_t i) { return s.color.empty() ? palette_color(i) : s.color; }

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

// Legend for histograms, right of the plot area: a colour swatch and the label per named Bars.
double bars_legend_width(const std::vector<Bars>& bars, const std::vector<Marker>& markers) {
  size_t chars = 0;
  for (const Bars& b : bars) chars = std::max(chars, b.label.size());
  for (const Marker& m : markers)
    if (m.in_legend) chars = std::max(chars, m.label.size());
  return chars == 0 ? 0.0 : 40 + chars * kCharWidth;
}

std::string bars_color(const Bars& b, size_t i) { return b.color.empty() ? palette_color(i) : b.color; }

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

}  // namespace

std::string histogram(const Chart& chart, const std::vector<double>& edges, const std::vector<double>& counts,
                      const std::vector<Marker>& markers, const std::string& bar_color) {
  return draw_histograms(chart, edges, {Bars{"", counts, bar_color}}, markers, "svg::histogram");
}

std::string histograms(const Chart& chart, const std::vector<double>& edges, const std::vector<Bars>& bars,
                       const std::vector<Marker>& markers) {
  return draw_histograms(chart, edges, bars, markers, "svg::histograms");
}

std::string scatter(const Chart& chart, const std::vector<Series>& series) {
  return xy_chart(chart, series, /*lines=*/true, "svg::scatter");
}

std::string line_chart(const Chart& chart, const std::vector<Series>& series) {
  return xy_chart(chart, series, /*lines=*/true, "svg::line_chart");
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
