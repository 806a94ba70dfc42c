// `tinyml quantize`: post-training quantization of a saved model, with accuracy before/after and the file
// written.
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

struct QuantizeOptions {
  std::string in;
  std::string out;
  bool force = false;  // --out may be the input file
  int bits = 8;
  std::string scheme = "symmetric";
  std::string granularity = "per-channel";
  std::string mode = "dynamic";
  std::string observer = "histogram";
  std::string weight_range = "minmax";
  int64_t calib_batches = 10;
  int64_t calib_batch_size = 128;
  std::string skip;     // comma-separated
  std::string dataset;  // empty: the one named in the file
  int64_t limit = 0;    // 0: the whole test split
  int threads = 1;
  bool json = false;
};

quant::QuantConfig make_config(const QuantizeOptions& o) {
  quant::QuantConfig c;
  c.mode = quant::parse_quant_mode(o.mode);
  // Weights are signed whatever the scheme: the int8 GEMM takes int8 weights, and a signed
  // affine range centres on the (mostly symmetric) weight distribution as well as an unsigned one.
  c.weight_spec = {o.bits, quant::parse_scheme(o.scheme), quant::parse_granularity(o.granularity), 0, true};
  c.observer = o.observer;
  c.weight_range = o.weight_range;
  c.skip = split_list(o.skip);
  return c;
}

std::string kb(uintmax_t bytes) { return fmt::format("{:.1f} KB", static_cast<double>(bytes) / 1e3); }

// Everything `tinyml quantize` measures; compute() fills it, render() prints it.
struct QuantizeResults {
  QuantizeOptions options;
  quant::QuantConfig config;
  std::vector<int64_t> arch;
  std::string quantization;  // as written to the file's metadata
  bool calibrated = false;   // calibrated on training batches (static mode, --weight-range mse)
  size_t calib_batches = 0;
  quant::QuantReport report;
  EvalResult before, after;
  uintmax_t in_size = 0;
  uintmax_t out_size = 0;
  double file_ratio() const { return static_cast<double>(out_size) / static_cast<double>(in_size); }
};

// "dynamic int8 symmetric per-channel(axis=0)", and the activations' spec and observer when static.
std::string quantization_label(const QuantizeOptions& o, const quant::QuantConfig& c) {
  return fmt::format("{} {}{}{}", o.mode, c.weight_spec.to_string(),
                     o.weight_range == "mse" ? " output-mse" : "",
                     c.mode == quant::QuantMode::Static
                         ? fmt::format(", activations {} by {}", c.activation_spec.to_string(), o.observer)
                         : std::string());
}

QuantizeResults compute(const QuantizeOptions& o) {
  apply_threads(o.threads);
  QuantizeResults r;
  r.options = o;
  r.config = make_config(o);
  // Static mode calibrates its input ranges on training data; MSE clipping measures on it the
  // output error each weight range causes.
  r.calibrated = r.config.mode == quant::QuantMode::Static || o.weight_range == "mse";
  check_output_file(o.in, o.out, o.force, "quantize");
  r.in_size = std::filesystem::file_size(o.in);  // measured now: with --force the save replaces the input
  LoadedModel loaded;
  auto model = load_sequential(o.in, "quantize", &loaded);
  r.arch = loaded.arch;
  const std::string name = o.dataset.empty() ? loaded.dataset : o.dataset;
  TINYML_CHECK(!name.empty(), "quantize: '{}' does not say which dataset it was trained on; pass --dataset",
               o.in);
  const DataSplits data =
      load_dataset(name, /*train=*/r.calibrated, std::nullopt,
                   o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt);
  check_arch_fits(loaded.arch, data, fmt::format("the model in '{}',", o.in).c_str());

  r.before = evaluate(*model, *data.test);
  std::vector<Tensor> batches;
  if (r.calibrated) batches = calibration_batches(data.train, o.calib_batches, o.calib_batch_size);
  r.calib_batches = batches.size();
  r.report = quant::quantize_model(*model, r.config, batches);
  r.after = evaluate(*model, *data.test);

  std::map<std::string, std::string> meta = io::user_metadata(loaded.metadata);
  meta["arch"] = arch_string(loaded.arch);
  meta["dataset"] = name;
  meta["quantization"] = r.quantization = quantization_label(o, r.config);
  io::save_model(*model, o.out, meta);
  r.out_size = std::filesystem::file_size(o.out);
  return r;
}

std::string render_json(const QuantizeResults& r) {
  const nlohmann::json out = {
      {"in", r.options.in},
      {"out", r.options.out},
      {"quantization", r.quantization},
      {"skip", r.config.skip},
      {"calib_batches", static_cast<int64_t>(r.calib_batches)},
      {"test_n", r.after.n},
      {"acc_before", r.before.accuracy},
      {"acc_after", r.after.accuracy},
      {"infer_ms_per_1000_before", r.before.ms_per_1000},
      {"infer_ms_per_1000_after", r.after.ms_per_1000},
      {"file_bytes_before", r.in_size},
      {"file_bytes_after", r.out_size},
      {"file_ratio", r.file_ratio()},
      {"report", r.report.to_json()},
  };
  return out.dump() + "\n";
}

std::string render_text(const QuantizeResults& r) {
  const QuantizeOptions& o = r.options;
  std::string s = fmt::format("model      MLP {} from {}\n", arch_string(r.arch), o.in);
  s += fmt::format("quantized  {}\n", r.quantization);
  if (r.calibrated)
    s += fmt::format("calibrated on {} batches of {} training images\n", r.calib_batches, o.calib_batch_size);
  s += fmt::format("\n{}\n", r.report.table());
  s += fmt::format("test accuracy  {:.2f}% -> {:.2f}% ({:+.2f} points, {} images)\n",
                   100.0 * r.before.accuracy, 100.0 * r.after.accuracy,
                   100.0 * (r.after.accuracy - r.before.accuracy), r.after.n);
  s += fmt::format("inference      {:.2f} -> {:.2f} ms per 1000 images\n", r.before.ms_per_1000,
                   r.after.ms_per_1000);
  s += fmt::format("file           {} -> {} ({:.3f}x), saved {}\n", kb(r.in_size), kb(r.out_size),
                   r.file_ratio(), o.out);
  return s;
}

void render(const QuantizeResults& r, OutputFormat format) {
  print_now(format == OutputFormat::Json ? render_json(r) : render_text(r));
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Quantize the Linear layers of a saved model (post-training), report accuracy and size, save it");
  cmd->add_option("in", o->in, "Float model file (.safetensors, from `tinyml train --save`)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "Where to write the quantized model")->required();
  cmd->add_flag("--force", o->force, "Allow --out to be the input file (it is replaced)");
  cmd->add_option("--bits", o->bits, "Weight bits, 2..8 (2..4 stored two per byte)")
      ->check(int_in_range(2, 8))
      ->capture_default_str();
  cmd->add_option("--scheme", o->scheme, "Weight scheme: affine | symmetric")
      ->check(CLI::IsMember(quant::scheme_names()))
      ->capture_default_str();
  cmd->add_option("--granularity", o->granularity,
                  "Weight qparams per-tensor | per-channel (per output channel)")
      ->check(CLI::IsMember(quant::granularity_names()))
      ->capture_default_str();
  cmd->add_option(
         "--mode", o->mode,
         "weight-only (dequantize, float GEMM) | dynamic (activations per batch, int8 GEMM) | static "
         "(calibrated activations, int8 GEMM, int32 bias)")
      ->check(CLI::IsMember({"weight-only", "dynamic", "static"}))
      ->capture_default_str();
  cmd->add_option("--observer", o->observer, "Static mode: how activation ranges are chosen")
      ->check(CLI::IsMember(quant::per_tensor_observer_names()))
      ->capture_default_str();
  cmd->add_option("--weight-range", o->weight_range,
                  "minmax | mse (clip each weight channel for the least output error on calibration data)")
      ->check(CLI::IsMember({"minmax", "mse"}))
      ->capture_default_str();
  cmd->add_option("--calib-batches", o->calib_batches,
                  "Static mode and --weight-range mse: training batches to calibrate on")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--calib-batch-size", o->calib_batch_size,
                  "Static mode and --weight-range mse: images per calibration batch")
      ->check(int_at_least(1))
      ->capture_default_str();
  add_skip_option(cmd, o->skip);
  add_model_dataset_option(cmd, o->dataset);
  cmd->add_option("--limit", o->limit, "Evaluate on the first N test examples only (default: all)")
      ->check(int_at_least(1));
  add_threads_option(cmd, o->threads);
  cmd->add_flag("--json", o->json,
                "Print one JSON object: accuracy before/after, file sizes and the per-layer report");
  cmd->callback([o] { render(compute(*o), format_of(o->json)); });
}

}  // namespace tinyml::cli
