// `tinyml demo`'s output: the comparison table (text and Markdown), the SVG figures and report.md.
#include "lab/demo_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/plot/svg.hpp"

namespace tinyml::cli::demo {

namespace {

namespace svg = tinyml::plot;
namespace fs = std::filesystem;

std::string kb(double bytes) { return fmt::format("{:.1f} KB", bytes / 1e3); }

using Histogram = svg::Bins;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  TINYML_CHECK(f.good(), "demo: cannot open '{}' for writing", path);
  f << text;
  f.close();
  TINYML_CHECK(f.good(), "demo: writing '{}' failed", path);
}

// An x axis of whole numbers from `lo` to `hi` with a tick at each (or every few, when many).
svg::Axis integer_axis(const std::string& label, double lo, double hi) {
  svg::Axis a;
  a.label = label;
  a.lo = lo - 0.5;
  a.hi = hi + 0.5;
  a.tick_step = std::max(1.0, std::ceil((hi - lo + 1) / 12));
  return a;
}

std::string figure_training_loss(const Results& r) {
  svg::Series s{"", {}, {}, "#4c78a8"};
  for (const Epoch& e : r.epochs) {
    s.x.push_back(static_cast<double>(e.epoch));
    s.y.push_back(e.train_loss);
  }
  svg::Chart c;
  c.title = "Training: mean cross-entropy per epoch";
  c.x = integer_axis("epoch", 1, static_cast<double>(r.epochs.size()));
  c.y.label = "training loss";
  c.width = 560;
  c.height = 360;
  return svg::line_chart(c, {s});
}

std::string figure_training_accuracy(const Results& r) {
  svg::Series s{"", {}, {}, "#f58518"};
  for (const Epoch& e : r.epochs) {
    s.x.push_back(static_cast<double>(e.epoch));
    s.y.push_back(100.0 * e.test_acc);
  }
  svg::Chart c;
  c.title = fmt::format("Test accuracy after each epoch ({} images)", r.test_n);
  c.x = integer_axis("epoch", 1, static_cast<double>(r.epochs.size()));
  c.y.label = "test accuracy (%)";
  c.width = 560;
  c.height = 360;
  return svg::line_chart(c, {s});
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
  Histogram h{a.edges, a.counts};
  // The calibration histogram reaches past the largest value; keep the data and one bin more,
  // in about 60 bars.
  size_t used = h.counts.size();
  while (used > 1 && h.counts[used - 1] == 0) --used;
  const size_t factor = std::max<size_t>(1, used / 60);
  used = std::min(h.counts.size(), (used + factor - 1) / factor * factor + factor);
  h.counts.resize(used);
  h.edges.resize(used + 1);
  const Histogram r = svg::rebin(h, factor);
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

std::string pct(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

}  // namespace

std::string table_text(const Results& r) {
  size_t w = 5;
  for (const Row& row : r.rows) w = std::max(w, row.name.size());
  std::string s = fmt::format("{:<{}}  {:>8}  {:>7}  {:>10}  {:>10}  {:>9}  {:>8}\n", "model", w, "accuracy",
                              "Δ pts", "memory", "file", "ms/1000", "speed-up");
  for (const Row& row : r.rows)
    s += fmt::format("{:<{}}  {:>8}  {:>+7.2f}  {:>10}  {:>10}  {:>9.2f}  {:>7.2f}x\n", row.name, w,
                     pct(row.accuracy), row.delta_points, kb(static_cast<double>(row.memory_bytes)),
                     kb(static_cast<double>(row.file_bytes)), row.ms_per_1000, row.speedup);
  return s;
}

std::string table_markdown(const Results& r) {
  std::string s =
      "| model | accuracy | Δ vs fp32 (points) | memory | file | ms / 1000 images | speed-up |\n"
      "|---|--:|--:|--:|--:|--:|--:|\n";
  for (const Row& row : r.rows)
    s += fmt::format("| {} | {} | {:+.2f} | {} | {} | {:.2f} | {:.2f}x |\n", row.name, pct(row.accuracy),
                     row.delta_points, kb(static_cast<double>(row.memory_bytes)),
                     kb(static_cast<double>(row.file_bytes)), row.ms_per_1000, row.speedup);
  return s;
}

std::string qat_note(const Results& r) {
  if (r.qat_control_accuracy < 0) return {};
  const Row* qat = nullptr;
  for (const Row& row : r.rows)
    if (row.key == "int4_qat") qat = &row;
  if (qat == nullptr) return {};
  return fmt::format(
      "int4 QAT trained {} more epoch{} than fp32; the fp32 model trained the same way scores {}, so "
      "against it int4 QAT is {:+.2f} points.",
      r.qat_epochs, r.qat_epochs == 1 ? "" : "s", pct(r.qat_control_accuracy),
      100.0 * (qat->accuracy - r.qat_control_accuracy));
}

std::vector<std::string> write_report(const Results& r, const std::string& dir) {
  TINYML_CHECK(!r.rows.empty() && !r.epochs.empty() && !r.bits.empty(),
               "demo::write_report: needs the table, the epochs and the bit-width sweep, got {} rows, {} "
               "epochs, {} bit widths",
               r.rows.size(), r.epochs.size(), r.bits.size());
  const size_t k = r.class_names.size();
  TINYML_CHECK(k > 0 && r.confusion.size() == k * k,
               "demo::write_report: {} classes need a {}x{} confusion matrix, got {} entries", k, k, k,
               r.confusion.size());
  const auto path = [&dir](const std::string& name) { return (fs::path(dir) / name).string(); };
  const std::vector<std::pair<std::string, std::string>> figures = {
      {"training_loss.svg", figure_training_loss(r)},
      {"training_accuracy.svg", figure_training_accuracy(r)},
      {"accuracy_vs_bits.svg", figure_bits(r)},
      {"weight_clipping_int4.svg", figure_clip(r.clip)},
      {"activation_range.svg", figure_activation(r.activation)},
      {"weight_error.svg", figure_error(r.error)},
      {"confusion_fp32.svg", figure_confusion(r)},
  };
  std::vector<std::string> names;
  for (const auto& [name, text] : figures) {
    svg::write_file(path(name), text);
    names.push_back(name);
  }

  const Row& fp = r.rows.front();
  std::string md;
  md += "# tinyml demo\n\n";
  md += fmt::format("Made by `{}` in {:.1f} s.\n\n", r.command, r.total_seconds);
  md += fmt::format("- data: {}\n- model: {}\n- machine: {}\n- calibration: {}\n\n", r.dataset, r.model,
                    r.machine, r.calibration);

  md += "## Float model against its quantized copies\n\n";
  md += table_markdown(r);
  md += fmt::format(
      "\nAccuracy on the {} test images; Δ in percentage points against fp32; memory = the bytes the model "
      "holds (`quant::model_bytes`: integer weights, scales, biases, cached sums); file = its `.safetensors` "
      "in this folder; ms = forward time per 1000 test images in batches of 1000, the median of {} "
      "passes (differences of a few percent are noise); speed-up = fp32's time over the model's.\n\n",
      r.test_n, r.repeat);
  for (const Row& row : r.rows) md += fmt::format("- **{}** (`{}`): {}.\n", row.name, row.file, row.how);
  if (const std::string note = qat_note(r); !note.empty()) md += "\n" + note + "\n";
  md += "\nEach file loads back with `tinyml eval FILE` (or `io::load_model`) and scores the same.\n\n";

  md += "## Training\n\n";
  md += "![training loss](training_loss.svg) ![test accuracy](training_accuracy.svg)\n\n";
  md += "| epoch | seconds | training loss | test accuracy |\n|--:|--:|--:|--:|\n";
  for (const Epoch& e : r.epochs)
    md += fmt::format("| {} | {:.2f} | {:.4f} | {} |\n", e.epoch, e.seconds, e.train_loss, pct(e.test_acc));

  md += "\n## Accuracy against bit width\n\n![accuracy against bits](accuracy_vs_bits.svg)\n\n";
  md +=
      "Every Linear quantized at 2 to 8 bits (symmetric weights, one scale per output channel; dynamic int8 "
      "inputs, as the table's int4 rows). "
      "With the min/max range one large weight sets the step of its whole channel; the MSE range gives up "
      "the extremes for finer steps where the weights are.\n\n";
  md += "| bits | min/max | MSE |\n|--:|--:|--:|\n";
  for (const BitsPoint& p : r.bits)
    md += fmt::format("| {} | {} | {} |\n", p.bits, pct(p.acc_minmax), pct(p.acc_mse));

  const ClipPicture& c = r.clip;
  size_t clipped = 0;
  for (float w : c.weights) clipped += std::fabs(w) > c.mse_clip ? 1 : 0;
  md += "\n## Choosing the int4 range\n\n![int4 clipping](weight_clipping_int4.svg)\n\n";
  md += fmt::format(
      "Output channel {} of layer {} ({} weights). Its largest |w| is {:.4f}; int4 has {} levels on each "
      "side "
      "of zero, so min/max steps by {:.4f}. The MSE criterion chose ±{:.4f} ({:.0f}% of the range): {} "
      "weights "
      "({:.1f}%) are clipped, and every other weight is rounded to a step of {:.4f}.\n",
      c.channel, c.layer, c.weights.size(), c.minmax_clip, (1 << (c.bits - 1)) - 1,
      c.minmax_clip / ((1 << (c.bits - 1)) - 1), c.mse_clip, 100.0 * c.mse_clip / c.minmax_clip, clipped,
      100.0 * static_cast<double>(clipped) / static_cast<double>(c.weights.size()),
      c.mse_clip / ((1 << (c.bits - 1)) - 1));

  const ActivationPicture& a = r.activation;
  md += "\n## The static model's input range\n\n![activation range](activation_range.svg)\n\n";
  md += fmt::format(
      "The inputs of layer {} over the calibration images ({} values, after ReLU, so many are exactly 0). "
      "The "
      "{} observer chose [{:.4g}, {:.4g}] for uint{} where the largest value is {:.4g}: {:.3f}% of the "
      "values "
      "are clipped, and the step is {:.4g} instead of {:.4g}.\n",
      a.layer, a.count, a.observer, a.lo, a.hi, a.bits, a.max, 100.0 * a.clipped_fraction,
      (a.hi - std::min(a.lo, 0.0)) / ((1 << a.bits) - 1),
      (a.max - std::min(a.min, 0.0)) / ((1 << a.bits) - 1));

  const ErrorPicture& e = r.error;
  double sse8 = 0, sse4 = 0;
  for (float v : e.err8) sse8 += static_cast<double>(v) * v;
  for (float v : e.err4) sse4 += static_cast<double>(v) * v;
  md += "\n## Weight errors: int8 against int4\n\n![weight error](weight_error.svg)\n\n";
  md += fmt::format(
      "The error ŵ − w of every weight of layer {} (min/max range per channel). Each int4 step is 127/7 ≈ 18 "
      "times an int8 step, so the errors are too: RMS {:.3g} at int8, {:.3g} at int4 ({:.1f}x).\n",
      e.layer, std::sqrt(sse8 / static_cast<double>(std::max<size_t>(1, e.err8.size()))),
      std::sqrt(sse4 / static_cast<double>(std::max<size_t>(1, e.err4.size()))),
      sse8 > 0 ? std::sqrt(sse4 / sse8) : 0.0);

  size_t bi = 0, bj = 1;
  int64_t worst = -1;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j)
      if (i != j && r.confusion[i * k + j] > worst) {
        worst = r.confusion[i * k + j];
        bi = i;
        bj = j;
      }
  md += "\n## Where the float model errs\n\n![confusion matrix](confusion_fp32.svg)\n\n";
  md += fmt::format(
      "Rows are the true classes, columns the predictions of the fp32 model ({} of {} right). The most "
      "frequent mistake: {} {} taken for {}.\n",
      fp.correct, fp.n, worst, r.class_names[bi], r.class_names[bj]);

  write_text(path("report.md"), md);
  return names;
}

}  // namespace tinyml::cli::demo
