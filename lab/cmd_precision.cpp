// `tinyml precision`: the precision lab: error pictures (SVG) and tables of formats and bit widths.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/support.hpp"
#include "lab/precision.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

void run_precision(const precision::Options& o) {
  apply_threads(o.threads);
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  TINYML_CHECK(std::filesystem::is_directory(o.out), "precision: cannot create the output directory '{}'",
               o.out);
  const precision::Results r = precision::compute(o);
  precision::write_figures(r, o.out);
  fmt::print("{}", o.json ? precision::render_json(r, o.out) : precision::render_text(r, o.out));
}

}  // namespace

void register_precision(CLI::App& app) {
  auto o = std::make_shared<precision::Options>();
  CLI::App* cmd = app.add_subcommand(
      "precision",
      "Precision lab: quantization error pictures (SVG) and tables of formats and bit widths on an MLP");
  cmd->add_option("--out", o->out, "Directory for the SVG figures (created if missing)")->required();
  cmd->add_option("--bits", o->bits, "Bit width of the error pictures and the activation range, 2..8")
      ->check(int_in_range(2, 8))
      ->capture_default_str();
  cmd->add_option("--model", o->model, "Float model file to study (default: train a small MLP here)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", o->dataset,
                  "Data for training here and for the activations: fashion-mnist | xor | spirals")
      ->check(CLI::IsMember(dataset_names()))
      ->capture_default_str();
  cmd->add_option("--train-limit", o->train_limit, "Training examples used")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Epochs when training here")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_option("--observer", o->observer, "How the activation range is chosen")
      ->check(CLI::IsMember(quant::per_tensor_observer_names()))
      ->capture_default_str();
  cmd->add_option("--calib-batches", o->calib_batches, "Batches of 256 training examples for the activations")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the training, the shuffling and the argmax experiment")
      ->check(seed_value())
      ->capture_default_str();
  add_threads_option(cmd, o->threads);
  cmd->add_flag("--json", o->json, "Print every table as one JSON object instead");
  cmd->callback([o] { run_precision(*o); });
}

}  // namespace tinyml::cli
