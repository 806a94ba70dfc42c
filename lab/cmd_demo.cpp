// `tinyml demo`: trains the reference Fashion-MNIST MLP, quantizes it six ways and compares them in one table
// and a report with figures.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/support.hpp"
#include "lab/demo.hpp"
#include "lab/demo_report.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/sgemm.hpp"

namespace tinyml::cli {

namespace {

namespace fs = std::filesystem;

// The text appears as the run goes: the description, then each epoch, then the table.
demo::Events live_text(const demo::Options& o) {
  demo::Events events;
  events.progress = !o.json && !o.quiet;
  if (o.json) return events;
  events.started = [quiet = o.quiet](const demo::Results& r) {
    fmt::print("{}", demo::render_header(r));
    if (const std::string w = kernels::blas_warning(); !w.empty() && !quiet)
      fmt::print(stderr, "warning: {}\n", w);
    fmt::print("{}", demo::render_epoch_columns());
    std::fflush(stdout);
  };
  events.epoch_done = [](const demo::Epoch& e) {
    fmt::print("{}", demo::render_epoch(e));
    std::fflush(stdout);
  };
  return events;
}

void run_demo(const demo::Options& o) {
  apply_threads(o.threads);
  std::error_code ec;
  fs::create_directories(o.out, ec);
  TINYML_CHECK(fs::is_directory(o.out, ec), "demo: cannot create the output folder '{}'{}", o.out,
               ec ? ": " + ec.message() : std::string());
  const demo::Results r = demo::compute(o, live_text(o));
  const demo::ReportFiles files = demo::write_report(r, o.out);
  fmt::print("{}", o.json ? demo::render_json(r, files) : demo::render_summary(r, files));
}

}  // namespace

void register_demo(CLI::App& app) {
  auto o = std::make_shared<demo::Options>();
  CLI::App* cmd = app.add_subcommand("demo",
                                     "Train the reference Fashion-MNIST MLP, quantize it six ways (int8, "
                                     "int4, mixed, QAT) and compare accuracy, "
                                     "size and speed in one table and a report with figures");
  cmd->add_option("--epochs", o->epochs, "Training epochs of the float model")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--qat-epochs", o->qat_epochs, "Quantization-aware training epochs of the int4 QAT model")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_option("--out", o->out,
                  "Folder for report.md, the figures (SVG) and the models (created if missing)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the initialisation and the shuffling")
      ->check(seed_value())
      ->capture_default_str();
  add_threads_option(cmd, o->threads);
  cmd->add_option("--train-limit", o->train_limit, "Train on the first N training images only (default: all)")
      ->check(int_at_least(1));
  cmd->add_option("--test-limit", o->test_limit, "Evaluate on the first N test images only (default: all)")
      ->check(int_at_least(1));
  cmd->add_option(
         "--calib-batches", o->calib_batches,
         "Batches of 128 training images for calibration (static ranges, MSE clipping, QAT's first ranges)")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "Timed evaluations per model (the latency is their median)")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the results as one JSON object (no progress, no table)");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress bars or warnings on stderr");
  cmd->callback([o, cmd] {
    o->command = given_command_line(*cmd);
    run_demo(*o);
  });
}

}  // namespace tinyml::cli
