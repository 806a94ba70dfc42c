// `tinyml precision`'s SVG figures: the weight error histogram, the staircase scatter, SNR against
// bits, the activation histogram with its clipping range.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "lab/precision.hpp"

namespace tinyml::cli::precision {

namespace {

namespace svg = tinyml::plot;

std::string error_histogram(const Results& r) {
  svg::Chart c;
  c.title = fmt::format("Layer {} weights, {}: error ŵ − w", r.w_name, r.spec_text);
  c.x.label = fmt::format("quantization error (step Δ = {:.3g})", r.step);
  c.y.label = "count";
  return svg::histogram(c, r.error_hist.edges, r.error_hist.counts,
                        {{-r.step / 2, "−Δ/2", "#d62728"}, {r.step / 2, "+Δ/2", "#d62728"}});
}

std::string scatter(const Results& r) {
  svg::Series pts{"weights", {}, {}, "#4c78a8", false, true, false, 1.8};
  const size_t stride = std::max<size_t>(1, r.w.size() / 3000);
  for (size_t i = 0; i < r.w.size(); i += stride) {
    pts.x.push_back(r.w[i]);
    pts.y.push_back(r.w_hat[i]);
  }
  const double lo = *std::min_element(r.w.begin(), r.w.end()), hi = *std::max_element(r.w.begin(), r.w.end());
  svg::Series diag{"y = x", {lo, hi}, {lo, hi}, "#888888", true, false, true, 0};
  svg::Chart c;
  c.title = fmt::format("Layer {} weights, {}: reconstructed vs original", r.w_name, r.spec_text);
  c.x.label = "original weight w";
  c.y.label = "reconstructed ŵ";
  return svg::scatter(c, {diag, pts});
}

std::string snr_vs_bits(const Results& r) {
  svg::Chart c;
  c.title = "Signal-to-noise ratio against bit width (min/max ranges, per tensor)";
  c.x.label = "bits";
  c.y.label = "SNR (dB)";
  c.x.lo = 1.5;
  c.x.hi = 8.5;
  c.x.tick_step = 1;
  const std::string w = fmt::format("layer {} weights", r.w_name),
                    a = fmt::format("layer {} inputs", r.a_name);
  return svg::line_chart(c, {{w + ", symmetric", r.bits_axis, r.w_sym, "#4c78a8"},
                             {w + ", affine", r.bits_axis, r.w_aff, "#4c78a8", true, true, true},
                             {a + ", symmetric", r.bits_axis, r.a_sym, "#f58518"},
                             {a + ", affine", r.bits_axis, r.a_aff, "#f58518", true, true, true}});
}

std::string activation_histogram(const Results& r) {
  const quant::LayerStats& st = r.act;
  svg::Chart c;
  c.title = fmt::format("Inputs of layer {} ({} values): {} clipping at uint{}", r.a_name, st.count,
                        r.observer, r.bits);
  c.x.label = "activation value";
  c.y.label = "count (log scale)";
  c.y.log = true;
  const std::string clip =
      fmt::format("clip at {:.3g} ({:.3g}% clipped)", st.chosen.hi, 100.0 * st.chosen.clipped_fraction);
  return svg::histogram(
      c, r.act_hist_figure.edges, r.act_hist_figure.counts,
      {{st.chosen.hi, clip, "#d62728"}, {st.max, fmt::format("max {:.3g}", st.max), "#555555"}}, "#f58518");
}

}  // namespace

void write_figures(const Results& r, const std::string& dir) {
  svg::write_file(dir + fmt::format("/error_hist_int{}.svg", r.bits), error_histogram(r));
  svg::write_file(dir + fmt::format("/scatter_int{}.svg", r.bits), scatter(r));
  svg::write_file(dir + "/snr_vs_bits.svg", snr_vs_bits(r));
  svg::write_file(dir + fmt::format("/activation_hist_int{}.svg", r.bits), activation_histogram(r));
}

}  // namespace tinyml::cli::precision
