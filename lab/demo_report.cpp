// `tinyml demo`'s report: the comparison table (text and Markdown), report.md with its figures, and
// the float model's graph (model.dot, drawn as model.svg when Graphviz is installed).
#include "lab/demo_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lab/demo_figures.hpp"
#include "lab/graphviz.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/plot/svg.hpp"

namespace tinyml::cli::demo {

namespace {

namespace fs = std::filesystem;

std::string kb(double bytes) { return fmt::format("{:.1f} KB", bytes / 1e3); }

std::string pct(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic(path, std::string_view(text), "demo");
}

std::string md_header(const Results& r) {
  std::string md = "# tinyml demo\n\n";
  md += fmt::format("Made by `{}` in {:.1f} s.\n\n", r.command, r.total_seconds);
  md += fmt::format("- data: {}\n- model: {}\n- machine: {}\n- calibration: {}\n\n", r.dataset, r.model,
                    r.machine, r.calibration);
  return md;
}

std::string md_table(const Results& r) {
  std::string md = "## Float model against its quantized copies\n\n" + table_markdown(r);
  md += fmt::format(
      "\nAccuracy on the {} test images; Δ in percentage points against fp32; memory = the bytes the model "
      "holds (`quant::model_bytes`: integer weights, scales, biases, cached sums); file = its `.safetensors` "
      "in this folder; ms = forward time per 1000 test images in batches of 1000, the median of {} "
      "passes (differences of a few percent are noise); speed-up = fp32's time over the model's.\n\n",
      r.test_n, r.repeat);
  for (const Row& row : r.rows) md += fmt::format("- **{}** (`{}`): {}.\n", row.name, row.file, row.how);
  if (const std::string note = qat_note(r); !note.empty()) md += "\n" + note + "\n";
  md += "\nEach file loads back with `tinyml eval FILE` (or `io::load_model`) and scores the same.\n\n";
  return md;
}

std::string md_training(const Results& r) {
  std::string md = "## Training\n\n";
  md += "![training loss](training_loss.svg) ![test accuracy](training_accuracy.svg)\n\n";
  md += "| epoch | seconds | training loss | test accuracy |\n|--:|--:|--:|--:|\n";
  for (const Epoch& e : r.epochs)
    md += fmt::format("| {} | {:.2f} | {:.4f} | {} |\n", e.epoch, e.seconds, e.train_loss, pct(e.test_acc));
  return md;
}

std::string md_bits(const Results& r) {
  std::string md = "\n## Accuracy against bit width\n\n![accuracy against bits](accuracy_vs_bits.svg)\n\n";
  md +=
      "Every Linear quantized at 2 to 8 bits (symmetric weights, one scale per output channel; dynamic int8 "
      "inputs, as the table's int4 rows). "
      "With the min/max range one large weight sets the step of its whole channel; the MSE range gives up "
      "the extremes for finer steps where the weights are.\n\n";
  md += "| bits | min/max | MSE |\n|--:|--:|--:|\n";
  for (const BitsPoint& p : r.bits)
    md += fmt::format("| {} | {} | {} |\n", p.bits, pct(p.acc_minmax), pct(p.acc_mse));
  return md;
}

std::string md_clip(const ClipPicture& c) {
  size_t clipped = 0;
  for (float w : c.weights) clipped += std::fabs(w) > c.mse_clip ? 1 : 0;
  const int levels = (1 << (c.bits - 1)) - 1;
  return "\n## Choosing the int4 range\n\n![int4 clipping](weight_clipping_int4.svg)\n\n" +
         fmt::format(
             "Output channel {} of layer {} ({} weights). Its largest |w| is {:.4f}; int4 has {} levels on "
             "each "
             "side of zero, so min/max steps by {:.4f}. The MSE criterion chose ±{:.4f} ({:.0f}% of the "
             "range): "
             "{} weights ({:.1f}%) are clipped, and every other weight is rounded to a step of {:.4f}.\n",
             c.channel, c.layer, c.weights.size(), c.minmax_clip, levels, c.minmax_clip / levels, c.mse_clip,
             100.0 * c.mse_clip / c.minmax_clip, clipped,
             100.0 * static_cast<double>(clipped) / static_cast<double>(c.weights.size()),
             c.mse_clip / levels);
}

std::string md_activation(const ActivationPicture& a) {
  return "\n## The static model's input range\n\n![activation range](activation_range.svg)\n\n" +
         fmt::format(
             "The inputs of layer {} over the calibration images ({} values, after ReLU, so many are exactly "
             "0). "
             "The {} observer chose [{:.4g}, {:.4g}] for uint{} where the largest value is {:.4g}: {:.3f}% "
             "of "
             "the values are clipped, and the step is {:.4g} instead of {:.4g}.\n",
             a.layer, a.count, a.observer, a.lo, a.hi, a.bits, a.max, 100.0 * a.clipped_fraction,
             (a.hi - std::min(a.lo, 0.0)) / ((1 << a.bits) - 1),
             (a.max - std::min(a.min, 0.0)) / ((1 << a.bits) - 1));
}

std::string md_error(const ErrorPicture& e) {
  double sse8 = 0, sse4 = 0;
  for (float v : e.err8) sse8 += static_cast<double>(v) * v;
  for (float v : e.err4) sse4 += static_cast<double>(v) * v;
  return "\n## Weight errors: int8 against int4\n\n![weight error](weight_error.svg)\n\n" +
         fmt::format(
             "The error ŵ − w of every weight of layer {} (min/max range per channel). Each int4 step is "
             "127/7 "
             "≈ 18 times an int8 step, so the errors are too: RMS {:.3g} at int8, {:.3g} at int4 "
             "({:.1f}x).\n",
             e.layer, std::sqrt(sse8 / static_cast<double>(std::max<size_t>(1, e.err8.size()))),
             std::sqrt(sse4 / static_cast<double>(std::max<size_t>(1, e.err4.size()))),
             sse8 > 0 ? std::sqrt(sse4 / sse8) : 0.0);
}

std::string md_confusion(const Results& r) {
  const size_t k = r.class_names.size();
  size_t bi = 0, bj = 1;
  int64_t worst = -1;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j)
      if (i != j && r.confusion[i * k + j] > worst) {
        worst = r.confusion[i * k + j];
        bi = i;
        bj = j;
      }
  const Row& fp = r.rows.front();
  return "\n## Where the float model errs\n\n![confusion matrix](confusion_fp32.svg)\n\n" +
         fmt::format(
             "Rows are the true classes, columns the predictions of the fp32 model ({} of {} right). The "
             "most "
             "frequent mistake: {} {} taken for {}.\n",
             fp.correct, fp.n, worst, r.class_names[bi], r.class_names[bj]);
}

std::string md_graph(const DotDrawing& drawing) {
  std::string md = "\n## The float model's layers\n\n";
  if (drawing.drawn)
    return md +
           "![model graph](model.svg)\n\nDrawn by Graphviz from [model.dot](model.dot) (`io::model_to_dot`): "
           "each "
           "box is a layer with its input and output shapes and its storage.\n";
  return md +
         fmt::format(
             "The layers are in [model.dot](model.dot) (`io::model_to_dot`), not drawn here: {}. Draw them "
             "with `dot -Tsvg model.dot -o model.svg` (`apt-get install graphviz`).\n",
             drawing.problem);
}

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

ReportFiles write_report(const Results& r, const std::string& dir) {
  TINYML_CHECK(!r.rows.empty() && !r.epochs.empty() && !r.bits.empty(),
               "demo::write_report: needs the table, the epochs and the bit-width sweep, got {} rows, {} "
               "epochs, {} bit widths",
               r.rows.size(), r.epochs.size(), r.bits.size());
  const size_t k = r.class_names.size();
  TINYML_CHECK(k > 0 && r.confusion.size() == k * k,
               "demo::write_report: {} classes need a {}x{} confusion matrix, got {} entries", k, k, k,
               r.confusion.size());
  const auto path = [&dir](const std::string& name) { return (fs::path(dir) / name).string(); };
  ReportFiles files{path("report.md"), {}, path("model.dot"), false};
  for (const Figure& f : draw_figures(r)) {
    plot::write_file(path(f.name), f.svg);
    files.figures.push_back(f.name);
  }
  write_text(files.graph, r.model_dot);
  const DotDrawing drawing = draw_dot_as_svg(files.graph, path("model.svg"));
  files.graph_drawn = drawing.drawn;
  if (drawing.drawn) files.figures.push_back("model.svg");
  write_text(files.report, md_header(r) + md_table(r) + md_training(r) + md_bits(r) + md_clip(r.clip) +
                               md_activation(r.activation) + md_error(r.error) + md_confusion(r) +
                               md_graph(drawing));
  return files;
}

}  // namespace tinyml::cli::demo
