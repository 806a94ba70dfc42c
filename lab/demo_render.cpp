// `tinyml demo`'s results on the terminal: the text around the comparison table, or one JSON object.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "lab/demo.hpp"
#include "lab/demo_report.hpp"

namespace tinyml::cli::demo {

namespace {

namespace fs = std::filesystem;

// `text` broken into lines of at most `width` characters at spaces, each line ending in '\n'.
std::string wrap(const std::string& text, size_t width) {
  std::string out, line;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find(' ', pos), text.size());
    const std::string word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    pos = end + 1;
  }
  return out + line + "\n";
}

std::string in_out(const Results& r, const std::string& file) { return (fs::path(r.out) / file).string(); }

nlohmann::ordered_json rows_json(const Results& r) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const Row& row : r.rows)
    rows.push_back({{"model", row.name},
                    {"key", row.key},
                    {"accuracy", row.accuracy},
                    {"correct", row.correct},
                    {"n", row.n},
                    {"delta_points", row.delta_points},
                    {"memory_bytes", row.memory_bytes},
                    {"file", in_out(r, row.file)},
                    {"file_bytes", row.file_bytes},
                    {"ms_per_1000", row.ms_per_1000},
                    {"speedup", row.speedup}});
  return rows;
}

}  // namespace

std::string render_header(const Results& r) {
  return fmt::format(
      "tinyml demo: train the reference MLP, quantize it six ways, compare\n\n"
      "dataset    {}\nmodel      {}\nmachine    {}\n",
      r.dataset, r.model, r.machine);
}

std::string render_epoch_columns() {
  return fmt::format("\n{:>5}  {:>8}  {:>10}  {:>8}\n", "epoch", "time_s", "train_loss", "test_acc");
}

std::string render_epoch(const Epoch& e) {
  return fmt::format("{:>5}  {:>8.3f}  {:>10.4f}  {:>7.2f}%\n", e.epoch, e.seconds, e.train_loss,
                     100.0 * e.test_acc);
}

std::string render_summary(const Results& r, const ReportFiles& files) {
  std::string s = fmt::format("\n{}", table_text(r));
  s += fmt::format(
      "\naccuracy on {} test images; memory = bytes the model holds; file = its .safetensors on disk;\n"
      "ms = forward time per 1000 images (median of {} passes); speed-up against fp32.\n",
      r.test_n, r.repeat);
  if (const std::string note = qat_note(r); !note.empty()) s += wrap(note, 100);
  s += fmt::format("\nreport     {} ({} figures)\nmodels     {}/*.safetensors (try `tinyml eval {}`)\n",
                   files.report, files.figures.size(), r.out, in_out(r, "int8_static.safetensors"));
  s += fmt::format("total      {:.1f} s\n", r.total_seconds);
  return s;
}

std::string render_json(const Results& r, const ReportFiles& files) {
  nlohmann::ordered_json j;
  j["out"] = r.out;
  j["report"] = files.report;
  j["figures"] = files.figures;
  j["graph"] = files.graph;
  j["train_n"] = r.train_n;
  j["test_n"] = r.test_n;
  nlohmann::ordered_json ep = nlohmann::ordered_json::array();
  for (const Epoch& e : r.epochs)
    ep.push_back(
        {{"epoch", e.epoch}, {"epoch_s", e.seconds}, {"train_loss", e.train_loss}, {"test_acc", e.test_acc}});
  j["epochs"] = ep;
  j["rows"] = rows_json(r);
  nlohmann::ordered_json bits = nlohmann::ordered_json::array();
  for (const BitsPoint& p : r.bits)
    bits.push_back({{"bits", p.bits}, {"minmax", p.acc_minmax}, {"mse", p.acc_mse}});
  j["accuracy_vs_bits"] = bits;
  if (r.qat_control_accuracy >= 0)
    j["qat_control"] = {{"epochs", r.qat_epochs}, {"lr", r.qat_lr}, {"accuracy", r.qat_control_accuracy}};
  j["total_s"] = r.total_seconds;
  return j.dump() + "\n";
}

}  // namespace tinyml::cli::demo
