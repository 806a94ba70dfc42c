#include "tinyml/plot/frame.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"

namespace tinyml::plot {

namespace detail {

const char* palette_color(size_t i) {
  constexpr const char* kPalette[] = {"#4c78a8", "#f58518", "#54a24b", "#e45756",
                                      "#72b7b2", "#b279a2", "#9d755d"};
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

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

std::string num(double v) { return fmt::format("{:.2f}", v); }

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

namespace {
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  for (double e = std::floor(std::log10(lo)); e <= std::ceil(std::log10(hi)) + 1e-9; e += 1.0)
    t.push_back(std::pow(10.0, e));
  return t;
}

}  // namespace

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

std::string svg_open(const Chart& c) {
  return fmt::format(
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
             "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
             c.width, c.height) +
         fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", c.width, c.height);
}

std::string svg_title(const Chart& c) {
  if (c.title.empty()) return "";
  return fmt::format(
      "<text x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
      num(c.width / 2.0), esc(c.title));
}

Frame::Frame(const Chart& c, double xmin, double xmax, double ymin, double ymax, double legend_width) {
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

  out += svg_open(c);
  out += fmt::format(
      "<defs><clipPath id=\"plot\"><rect x=\"{}\" y=\"{}\" width=\"{}\" "
      "height=\"{}\"/></clipPath></defs>\n",
      num(left), num(top), num(right - left), num(bottom - top));
  out += svg_title(c);
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
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n", num(left - 5),
                       num(py), num(left));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(left - 8), num(py + 4),
                       esc(tick_label(v, ystep, c.y.log)));
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

}  // namespace detail

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

void write_file(const std::string& path, const std::string& svg) {
  write_file_atomic(path, std::string_view(svg), "svg");
}

}  // namespace tinyml::plot
