// `tinyml demo`'s SVG figures: training curves, accuracy against bits, the int4 range of one weight
// channel, the static activation range, int8 against int4 weight errors, the confusion matrix.
#include "lab/demo_figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "lab/histogram_bins.hpp"
#include "tinyml/plot/svg.hpp"

namespace tinyml::cli::demo {

namespace {

namespace svg = tinyml::plot;

using Histogram = svg::Bins;

// An x axis of whole numbers from `lo` to `hi` with a tick at each (or every few, when many).
svg::Axis integer_axis(const std::string& label, double lo, double hi) {
  svg::Axis a;
  a.label = label;
  a.lo = lo - 0.5;
  a.hi = hi + 0.5;
  a.tick_step = std::max(1.0, std::ceil((hi - lo + 1) / 12));
  return a;
}

// A training curve: `value` of each epoch against the epoch.
std::string figure_per_epoch(const Results& r, std::string title, std::string y_label, const char* colour,
                             double (*value)(const Epoch&)) {
  svg::Series s{"", {}, {}, colour};
  for (const Epoch& e : r.epochs) {
    s.x.push_back(static_cast<double>(e.epoch));
    s.y.push_back(value(e));
  }
  svg::Chart c;
  c.title = std::move(title);
  c.x = integer_axis("epoch", 1, static_cast<double>(r.epochs.size()));
  c.y.label = std::move(y_label);
  c.width = 560;
  c.height = 360;
  return svg::line_chart(c, {s});
}

std::string figure_training_loss(const Results& r) {
  return figure_per_epoch(r, "Training: mean cross-entropy per epoch", "training loss", "#4c78a8",
                          [](const Epoch& e) { return e.train_loss; });
}

std::string figure_training_accuracy(const Results& r) {
  return figure_per_epoch(r, fmt::format("Test accuracy after each epoch ({} images)", r.test_n),
                          "test accuracy (%)", "#f58518", [](const Epoch& e) { return 100.0 * e.test_acc; });
}

std::string figure_bits(const Results& r) {
  svg::Series mm{"min/max range", {}, {}, "#4c78a8"};
  svg::Series mse{"MSE-clipped range", {}, {}, "#e45756"};
  for (const BitsPoint& p : r.bits) {
    mm.x.push_back(p.bits);
    mm.y.push_back(100.0 * p.acc_minmax);
    mse.x.push_back(p.bits);
    mse.y.push_back(100.0 * p.acc_mse);
  }
  const double fp = 100.0 * r.rows.front().accuracy;
  svg::Series ref{fmt::format("fp32 ({:.2f}%)", fp), {1.5, 8.5}, {fp, fp}, "#555555", true, false, true, 0};
  svg::Chart c;
  c.title = "Test accuracy against weight bits (dynamic, per channel)";
  c.x = integer_axis("weight bits", 2, 8);
  c.y.label = "test accuracy (%)";
  return svg::line_chart(c, {ref, mm, mse});
}

std::string figure_clip(const ClipPicture& p) {
  const double a = p.minmax_clip;
  const Histogram h = svg::bin_values(p.weights, -a, a, 64);
  svg::Chart c;
  c.title = fmt::format("Layer {}, output channel {}: its {} weights and two int{} ranges", p.layer,
                        p.channel, p.weights.size(), p.bits);
  c.width = 820;
  c.x.label = "weight value";
  c.y.label = "weights per bin";
  const std::string grey = "#666666", red = "#d62728";
  const int levels = (1 << (p.bits - 1)) - 1;
  return svg::histogram(
      c, h.edges, h.counts,
      {{-a, "", grey},
       {a, fmt::format("min/max range ±{:.3f} (step {:.4f})", a, a / levels), grey, true},
       {-p.mse_clip, "", red},
       {p.mse_clip, fmt::format("MSE range ±{:.3f} (step {:.4f})", p.mse_clip, p.mse_clip / levels), red,
        true}});
}

std::string figure_activation(const ActivationPicture& a) {
  // The calibration histogram reaches past the largest value: the data in about 60 bars.
  const TrimmedBins t = trim_empty_tail({a.edges, a.counts}, 60);
  const Histogram r = svg::rebin(t.bins, t.factor);
  svg::Chart c;
  c.title =
      fmt::format("Inputs of layer {} ({} values) and the static int{} range", a.layer, a.count, a.bits);
  c.x.label = "activation value (after ReLU)";
  c.y.label = "values per bin (log scale)";
  c.y.log = true;
  return svg::histogram(c, r.edges, r.counts,
                        {{a.hi,
                          fmt::format("{} range [{:.3g}, {:.3g}]: {:.3f}% clipped", a.observer, a.lo, a.hi,
                                      100.0 * a.clipped_fraction),
                          "#d62728"},
                         {a.max, fmt::format("largest value {:.3g}", a.max), "#555555"}},
                        "#f58518");
}

std::string figure_error(const ErrorPicture& e) {
  // Bins of a 40th of the widest int4 step, so that the int8 errors (steps 18 times smaller)
  // still fill a few bins.
  const double half = 0.5 * e.max_step4;
  const Histogram h8 = svg::bin_values(e.err8, -1.05 * half, 1.05 * half, 84);
  const Histogram h4 = svg::bin_values(e.err4, -1.05 * half, 1.05 * half, 84);
  svg::Chart c;
  c.title = fmt::format("Layer {} weights: reconstruction error ŵ − w, symmetric per channel", e.layer);
  c.x.label = "error ŵ − w (each channel's error lies within ± its step / 2)";
  c.y.label = "weights per bin (log scale)";
  c.y.log = true;
  return svg::histograms(c, h8.edges,
                         {{fmt::format("int8 (steps ≤ {:.2g})", e.max_step8), h8.counts, "#4c78a8"},
                          {fmt::format("int4 (steps ≤ {:.2g})", e.max_step4), h4.counts, "#e45756"}});
}

std::string figure_confusion(const Results& r) {
  const size_t k = r.class_names.size();
  svg::HeatMap m;
  m.row_labels = r.class_names;
  m.col_labels = r.class_names;
  for (size_t i = 0; i < k * k; ++i) {
    m.values.push_back(static_cast<double>(r.confusion[i]));
    m.cell_text.push_back(std::to_string(r.confusion[i]));
  }
  m.gamma = 0.4;  // the few mistakes stay visible next to the diagonal's hundreds
  m.scale_label = "test images";
  m.lo = 0.0;
  svg::Chart c;
  c.title = "Where the fp32 model errs: confusion matrix on the test images";
  c.x.label = "predicted class";
  c.y.label = "true class";
  c.width = 760;
  c.height = 660;
  return svg::heatmap(c, m);
}

}  // namespace

std::vector<Figure> draw_figures(const Results& r) {
  return {
      {"training_loss.svg", figure_training_loss(r)},
      {"training_accuracy.svg", figure_training_accuracy(r)},
      {"accuracy_vs_bits.svg", figure_bits(r)},
      {"weight_clipping_int4.svg", figure_clip(r.clip)},
      {"activation_range.svg", figure_activation(r.activation)},
      {"weight_error.svg", figure_error(r.error)},
      {"confusion_fp32.svg", figure_confusion(r)},
  };
}

}  // namespace tinyml::cli::demo
