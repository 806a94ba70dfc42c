// `tinyml eval`: rebuilds a saved model and reports its test accuracy and inference speed.
#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

struct EvalOptions {
  std::string file;
  std::string dataset;  // empty: the one named in the file
  int64_t limit = 0;    // 0: the whole test split
  int64_t batch = 1000;
  int threads = 1;
  bool json = false;
};

// Everything `tinyml eval` measures; compute() fills it, render() prints it.
struct EvalReport {
  EvalOptions options;
  std::string model;  // "MLP 784-256-128-10", or the type of a model saved without its sizes
  std::string data_description;
  EvalResult result;
};

EvalReport compute(const EvalOptions& o) {
  apply_threads(o.threads);
  LoadedModel loaded = load_model_file(o.file);
  const std::string name = o.dataset.empty() ? loaded.dataset : o.dataset;
  TINYML_CHECK(!name.empty(), "eval: '{}' does not say which dataset it was trained on; pass --dataset",
               o.file);
  const DataSplits data =
      load_dataset(name, /*train=*/false, std::nullopt,
                   o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt);
  // The rebuilt model's own layer sizes (load_model_file), not only what its metadata says.
  if (!loaded.arch.empty())
    check_arch_fits(loaded.arch, data, fmt::format("the model in '{}',", o.file).c_str());
  EvalReport e;
  e.options = o;
  e.model =
      loaded.metadata.count("arch") == 0 ? loaded.model->type_name() : "MLP " + arch_string(loaded.arch);
  e.data_description = data.description;
  e.result = evaluate(*loaded.model, *data.test, static_cast<size_t>(o.batch));
  return e;
}

// The report on stdout, as JSON or text, and a warning on stderr when some outputs were not finite.
void render(const EvalReport& e, OutputFormat format) {
  const EvalResult& r = e.result;
  if (r.non_finite > 0)
    fmt::print(stderr,
               "warning: the model's outputs hold NaN or Inf for {} of the {} examples (counted as wrong)\n",
               r.non_finite, r.n);
  if (format == OutputFormat::Json) {
    const nlohmann::ordered_json out = {
        {"test_acc", r.accuracy}, {"n", r.n}, {"infer_ms_per_1000", r.ms_per_1000}};
    fmt::print("{}\n", out.dump());
    return;
  }
  fmt::print("model      {} from {}\n", e.model, e.options.file);
  fmt::print("dataset    {} (test split, {} examples)\n", e.data_description, r.n);
  fmt::print("test accuracy {:.2f}% ({}/{}), inference {:.2f} ms per 1000 images\n", 100.0 * r.accuracy,
             r.correct, r.n, r.ms_per_1000);
}

}  // namespace

void register_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate a saved model (from `tinyml train --save`, `quantize`, ...) on a test split");
  cmd->add_option("file", o->file, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  add_model_dataset_option(cmd, o->dataset);
  cmd->add_option("--limit", o->limit, "Evaluate on the first N test examples only (default: all)")
      ->check(int_at_least(1));
  cmd->add_option("--batch", o->batch, "Examples per forward pass")
      ->check(int_at_least(1))
      ->capture_default_str();
  add_threads_option(cmd, o->threads);
  cmd->add_flag("--json", o->json, "Print {test_acc, n, infer_ms_per_1000} as one JSON object");
  cmd->callback([o] { render(compute(*o), format_of(o->json)); });
}

}  // namespace tinyml::cli
