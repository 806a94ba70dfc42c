// `tinyml qat`: quantization-aware training of a saved float model, compared with PTQ at the same bits.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
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
#include "tinyml/nn/loss.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/quant/qat.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

struct QatOptions {
  std::string in;
  std::string out;
  bool force = false;  // --out may be the input file
  int bits = 8;
  int64_t epochs = 2;
  double lr = 1e-4;
  int64_t batch = 128;
  uint64_t seed = 0;
  std::string observer = "moving-average";
  int64_t calib_batches = 10;
  std::string skip;     // comma-separated
  std::string dataset;  // empty: the one named in the file
  int64_t limit = 0;    // 0: the whole training split
  int threads = 1;
  bool control = false;
  bool json = false;
  bool quiet = false;
};

// Everything `tinyml qat` measures; compute() fills it, the render functions print it.
struct QatResults {
  QatOptions options;
  std::vector<int64_t> arch;
  std::string data_description;
  size_t train_n = 0;
  size_t test_n = 0;
  quant::QuantConfig config;
  std::string quantization;  // "weights int8 ..., activations uint8 ... (moving-average)"
  size_t calib_batches = 0;
  EvalResult fp32, ptq, ptq_hist, fake_quant, qat;
  std::optional<EvalResult> control;  // --control
  std::vector<EpochRow> epochs;
  std::vector<std::string> converted;  // names of the Linear layers converted to QuantizedLinear
  uintmax_t in_size = 0;
  uintmax_t out_size = 0;
};

// What compute() reports while it runs (both optional): the setup, once known, and each QAT epoch.
struct QatListener {
  std::function<void(const QatResults&)> started;
  std::function<void(const QatResults&, const EpochRow&)> epoch;
};

// The model, its data and the calibration batches, loaded and checked.
struct QatInputs {
  LoadedModel info;
  std::shared_ptr<nn::Sequential> model;
  std::string dataset;
  DataSplits data;
  std::vector<Tensor> calib;
};

QatInputs load_inputs(const QatOptions& o) {
  QatInputs in;
  in.model = load_sequential(o.in, "qat", &in.info);
  in.dataset = o.dataset.empty() ? in.info.dataset : o.dataset;
  TINYML_CHECK(!in.dataset.empty(), "qat: '{}' does not say which dataset it was trained on; pass --dataset",
               o.in);
  in.data = load_dataset(in.dataset, /*train=*/true,
                         o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt);
  check_arch_fits(in.info.arch, in.data, fmt::format("the model in '{}',", o.in).c_str());
  in.calib = calibration_batches(in.data.train, o.calib_batches, o.batch, o.seed);
  return in;
}

// The two post-training baselines, each on a fresh copy of the float model. PTQ with the very same
// quantizers as QAT (observe, convert, no training); and the library's own static PTQ with the same
// specs, its input ranges chosen by the histogram observer (least quantization error): the
// stronger baseline.
void post_training_baselines(const QatOptions& o, const QatInputs& in, QatResults& r) {
  auto ptq_model = load_sequential(o.in, "qat");
  quant::prepare_qat(*ptq_model, r.config);
  quant::observe_ranges(*ptq_model, in.calib);
  quant::convert(*ptq_model);
  r.ptq = evaluate(*ptq_model, *in.data.test);
  auto m = load_sequential(o.in, "qat");
  quant::QuantConfig pc = r.config;
  pc.observer = "histogram";
  quant::quantize_model(*m, pc, in.calib);
  r.ptq_hist = evaluate(*m, *in.data.test);
}

// The control: the float model trained exactly as QAT trains (same epochs, rate, order), so that
// what QAT gains from the extra training is not credited to quantization-awareness.
EvalResult control_run(const QatOptions& o, const QatInputs& in) {
  auto m = load_sequential(o.in, "qat");
  auto opt = make_optimizer("adam", m->parameters(), o.lr, 0.0);
  data::DataLoader l(in.data.train,
                     {.batch_size = static_cast<size_t>(o.batch), .shuffle = true, .seed = o.seed});
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    ProgressBar bar(fmt::format("fp32 control epoch {}/{}", epoch, o.epochs), l.size(), !o.json && !o.quiet);
    data::train_epoch(*m, *opt, l, bar.epoch_progress());
    bar.finish();
  }
  return evaluate(*m, *in.data.test);
}

// Quantization-aware training of in.model, which ends converted to static QuantizedLinear layers.
void qat_run(const QatOptions& o, QatInputs& in, QatResults& r, const QatListener& listener) {
  quant::prepare_qat(*in.model, r.config);
  quant::observe_ranges(*in.model, in.calib);
  auto optimizer = make_optimizer("adam", in.model->parameters(), o.lr, 0.0);
  data::DataLoader loader(in.data.train,
                          {.batch_size = static_cast<size_t>(o.batch), .shuffle = true, .seed = o.seed});
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    ProgressBar bar(fmt::format("qat epoch {}/{}", epoch, o.epochs), loader.size(), !o.json && !o.quiet);
    const auto t0 = std::chrono::steady_clock::now();
    EpochRow e;
    e.epoch = epoch;
    e.train_loss = data::train_epoch(*in.model, *optimizer, loader, bar.epoch_progress()).loss;
    e.epoch_s = seconds_since(t0);
    bar.finish();
    e.test_acc = evaluate(*in.model, *in.data.test).accuracy;
    r.epochs.push_back(e);
    if (listener.epoch) listener.epoch(r, e);
  }
  r.fake_quant = evaluate(*in.model, *in.data.test);
  r.converted = quant::convert(*in.model);
  r.qat = evaluate(*in.model, *in.data.test);
}

void save_result(const QatOptions& o, const QatInputs& in, const QatResults& r) {
  std::map<std::string, std::string> meta = io::user_metadata(in.info.metadata);
  meta["arch"] = arch_string(in.info.arch);
  meta["dataset"] = in.dataset;
  meta["quantization"] = fmt::format("static, QAT {} epochs lr {}: {}", o.epochs, o.lr, r.quantization);
  io::save_model(*in.model, o.out, meta);
}

QatResults compute(const QatOptions& o, const QatListener& listener) {
  apply_threads(o.threads);
  QatResults r;
  r.options = o;
  r.config = quant::qat_config(o.bits);
  r.config.observer = o.observer;
  r.config.skip = split_list(o.skip);
  check_output_file(o.in, o.out, o.force, "qat");
  r.in_size = std::filesystem::file_size(o.in);  // measured now: with --force the save replaces the input
  QatInputs in = load_inputs(o);
  r.arch = in.info.arch;
  r.data_description = in.data.description;
  r.train_n = in.data.train->size();
  r.test_n = in.data.test->size();
  r.calib_batches = in.calib.size();
  r.quantization = fmt::format("weights {}, activations {} ({})", r.config.weight_spec.to_string(),
                               r.config.activation_spec.to_string(), r.config.observer);
  if (listener.started) listener.started(r);

  r.fp32 = evaluate(*in.model, *in.data.test);
  post_training_baselines(o, in, r);
  if (o.control) r.control = control_run(o, in);
  qat_run(o, in, r, listener);
  save_result(o, in, r);
  r.out_size = std::filesystem::file_size(o.out);
  return r;
}

// ---------------------------------------------------------------- output

std::string render_setup(const QatResults& r) {
  const QatOptions& o = r.options;
  std::string s = fmt::format("model      MLP {} from {}\n", arch_string(r.arch), o.in);
  s += fmt::format("dataset    {}: {} train, {} test\n", r.data_description, r.train_n, r.test_n);
  s += fmt::format(
      "quantized  {}{}\n", r.quantization,
      r.config.skip.empty() ? std::string() : fmt::format(", float: {}", fmt::join(r.config.skip, ",")));
  s += fmt::format("ranges     first observed on {} training batches of {}\n", r.calib_batches, o.batch);
  return s;
}

// One row of the epoch table, after its heading for the first epoch.
std::string render_epoch(const EpochRow& e) {
  std::string s = e.epoch == 1 ? fmt::format("\n{:>5}  {:>8}  {:>10}  {:>17}\n", "epoch", "time_s",
                                             "train_loss", "test_acc (fq)")
                               : std::string();
  return s + fmt::format("{:>5}  {:>8.3f}  {:>10.4f}  {:>16.2f}%\n", e.epoch, e.epoch_s, e.train_loss,
                         100.0 * e.test_acc);
}

std::string render_summary(const QatResults& r) {
  const QatOptions& o = r.options;
  const auto row = [](const std::string& label, const EvalResult& e) {
    return fmt::format("{:<44} {:>7.2f}%", label, 100.0 * e.accuracy);
  };
  std::string s = fmt::format("\n{:<44} {:>8}\n", "", "test acc") + row("fp32", r.fp32) + "\n";
  if (r.control)
    s += row(fmt::format("fp32 + {} epoch(s) at lr {} (control)", o.epochs, o.lr), *r.control) + "\n";
  s += row(fmt::format("PTQ int{} (same quantizers, no training)", o.bits), r.ptq) + "\n";
  s += row(fmt::format("PTQ int{} static, histogram observer", o.bits), r.ptq_hist) + "\n";
  s += row(fmt::format("QAT int{}, fake-quantized model", o.bits), r.fake_quant) + "\n";
  s += row(fmt::format("QAT int{}, converted (static QuantizedLinear)", o.bits), r.qat) +
       fmt::format("  ({:+.2f} vs fp32, {:+.2f} vs PTQ)\n", 100.0 * (r.qat.accuracy - r.fp32.accuracy),
                   100.0 * (r.qat.accuracy - r.ptq.accuracy));
  s += fmt::format("\nfile       {:.1f} KB -> {:.1f} KB, saved {}\n", static_cast<double>(r.in_size) / 1e3,
                   static_cast<double>(r.out_size) / 1e3, o.out);
  return s;
}

std::string render_json(const QatResults& r) {
  const QatOptions& o = r.options;
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochRow& e : r.epochs)
    epochs.push_back({{"epoch", e.epoch},
                      {"epoch_s", e.epoch_s},
                      {"train_loss", e.train_loss},
                      {"test_acc_fake_quant", e.test_acc}});
  nlohmann::json out = {{"in", o.in},
                        {"out", o.out},
                        {"bits", o.bits},
                        {"quantization", r.quantization},
                        {"skip", r.config.skip},
                        {"epochs", o.epochs},
                        {"lr", o.lr},
                        {"test_n", r.qat.n},
                        {"acc_fp32", r.fp32.accuracy},
                        {"acc_ptq", r.ptq.accuracy},
                        {"acc_ptq_static_histogram", r.ptq_hist.accuracy},
                        {"acc_qat_fake_quant", r.fake_quant.accuracy},
                        {"acc_qat", r.qat.accuracy},
                        {"converted", r.converted},
                        {"epoch_log", epochs},
                        {"file_bytes_before", r.in_size},
                        {"file_bytes_after", r.out_size}};
  if (r.control) out["acc_fp32_control"] = r.control->accuracy;
  return out.dump() + "\n";
}

void run_qat(const QatOptions& o) {
  if (o.json) {
    print_now(render_json(compute(o, {})));
    return;
  }
  // Text: the setup and each epoch's row are printed as soon as they are known.
  const QatListener listener{
      .started = [](const QatResults& r) { print_now(render_setup(r)); },
      .epoch = [](const QatResults&, const EpochRow& e) { print_now(render_epoch(e)); }};
  print_now(render_summary(compute(o, listener)));
}

}  // namespace
void register_qat(CLI::App& app) {
  auto o = std::make_shared<QatOptions>();
  CLI::App* cmd = app.add_subcommand("qat",
                                     "Quantization-aware training of a saved float model; compares with "
                                     "post-training quantization, saves it");
  cmd->add_option("in", o->in, "Float model file (.safetensors, from `tinyml train --save`)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "Where to write the quantized (static) model")->required();
  cmd->add_flag("--force", o->force, "Allow --out to be the input file (it is replaced)");
  cmd->add_option("--bits", o->bits, "Bits of weights (symmetric per channel) and activations (affine), 2..8")
      ->check(int_in_range(2, 8))
      ->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "QAT passes over the training set")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "Adam learning rate of the QAT epochs")
      ->check(positive_number())
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size (training and calibration)")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the shuffling")->check(seed_value())->capture_default_str();
  cmd->add_option("--observer", o->observer, "How activation ranges follow the data during training")
      ->check(CLI::IsMember(quant::per_tensor_observer_names()))
      ->capture_default_str();
  cmd->add_option("--calib-batches", o->calib_batches,
                  "Training batches observed before training (and for PTQ)")
      ->check(int_at_least(1))
      ->capture_default_str();
  add_skip_option(cmd, o->skip);
  add_model_dataset_option(cmd, o->dataset);
  cmd->add_option("--limit", o->limit, "Train on the first N training examples only (default: all)")
      ->check(int_at_least(1));
  add_threads_option(cmd, o->threads);
  cmd->add_flag("--control", o->control,
                "Also train the float model the same way (epochs, lr, order) and report it: what QAT gains "
                "from training alone");
  cmd->add_flag("--json", o->json,
                "Print one JSON object: accuracies (fp32, PTQ, QAT), the epoch log, file sizes");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress bar on stderr");
  cmd->callback([o] { run_qat(*o); });
}

}  // namespace tinyml::cli
