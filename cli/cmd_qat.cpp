// `tinyml qat`: quantization-aware training of a saved float model, compared with PTQ at the same bits.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "commands.hpp"
#include "tinyml/autograd/grad_mode.hpp"
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

void run_qat(const QatOptions& o) {
  apply_threads(o.threads);
  const bool human = !o.json;
  quant::QuantConfig config = quant::qat_config(o.bits);
  config.observer = o.observer;
  config.skip = split_list(o.skip);

  check_output_file(o.in, o.out, o.force, "qat");
  // Measured now: with --force the save replaces the input.
  const uintmax_t in_size = std::filesystem::file_size(o.in);
  LoadedModel info;
  auto model = load_sequential(o.in, "qat", &info);
  const std::string name = o.dataset.empty() ? info.dataset : o.dataset;
  TINYML_CHECK(!name.empty(), "qat: '{}' does not say which dataset it was trained on; pass --dataset", o.in);
  const DataSplits data = load_dataset(
      name, /*train=*/true, o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt);
  check_arch_fits(info.arch, data, fmt::format("the model in '{}',", o.in).c_str());
  const std::vector<Tensor> calib = calibration_batches(data.train, o.calib_batches, o.batch, o.seed);
  const std::string quantization =
      fmt::format("weights {}, activations {} ({})", config.weight_spec.to_string(),
                  config.activation_spec.to_string(), config.observer);

  if (human) {
    fmt::print("model      MLP {} from {}\n", arch_string(info.arch), o.in);
    fmt::print("dataset    {}: {} train, {} test\n", data.description, data.train->size(), data.test->size());
    fmt::print("quantized  {}{}\n", quantization,
               config.skip.empty() ? std::string() : fmt::format(", float: {}", fmt::join(config.skip, ",")));
    fmt::print("ranges     first observed on {} training batches of {}\n", calib.size(), o.batch);
    std::fflush(stdout);
  }

  const EvalResult fp32 = evaluate(*model, *data.test);

  // Post-training quantization with the very same quantizers: observe, convert, no training.
  auto ptq_model = load_sequential(o.in, "qat");
  quant::prepare_qat(*ptq_model, config);
  quant::observe_ranges(*ptq_model, calib);
  quant::convert(*ptq_model);
  const EvalResult ptq = evaluate(*ptq_model, *data.test);
  // The library's own static PTQ with the same weight and activation specs, its input ranges
  // chosen by the histogram observer (least quantization error): the stronger baseline.
  const EvalResult ptq_hist = [&] {
    auto m = load_sequential(o.in, "qat");
    quant::QuantConfig pc = config;
    pc.observer = "histogram";
    quant::quantize_model(*m, pc, calib);
    return evaluate(*m, *data.test);
  }();

  // The control: the float model trained exactly as QAT trains (same epochs, rate, order), so that
  // what QAT gains from the extra training is not credited to quantization-awareness.
  std::optional<EvalResult> control;
  if (o.control) {
    auto m = load_sequential(o.in, "qat");
    auto opt = make_optimizer("adam", m->parameters(), o.lr, 0.0);
    data::DataLoader l(data.train,
                       {.batch_size = static_cast<size_t>(o.batch), .shuffle = true, .seed = o.seed});
    for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
      ProgressBar bar(fmt::format("fp32 control epoch {}/{}", epoch, o.epochs), l.size(), human && !o.quiet);
      data::train_epoch(*m, *opt, l, bar.epoch_progress());
      bar.finish();
    }
    control = evaluate(*m, *data.test);
  }

  // Quantization-aware training.
  quant::prepare_qat(*model, config);
  quant::observe_ranges(*model, calib);
  auto optimizer = make_optimizer("adam", model->parameters(), o.lr, 0.0);
  data::DataLoader loader(data.train,
                          {.batch_size = static_cast<size_t>(o.batch), .shuffle = true, .seed = o.seed});
  nlohmann::json epochs = nlohmann::json::array();
  if (human && o.epochs > 0)
    fmt::print("\n{:>5}  {:>8}  {:>10}  {:>17}\n", "epoch", "time_s", "train_loss", "test_acc (fq)");
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    ProgressBar bar(fmt::format("qat epoch {}/{}", epoch, o.epochs), loader.size(), human && !o.quiet);
    const auto t0 = std::chrono::steady_clock::now();
    const double train_loss = data::train_epoch(*model, *optimizer, loader, bar.epoch_progress()).loss;
    const double epoch_s = seconds_since(t0);
    bar.finish();
    const EvalResult fq = evaluate(*model, *data.test);
    epochs.push_back({{"epoch", epoch},
                      {"epoch_s", epoch_s},
                      {"train_loss", train_loss},
                      {"test_acc_fake_quant", fq.accuracy}});
    if (human)
      fmt::print("{:>5}  {:>8.3f}  {:>10.4f}  {:>16.2f}%\n", epoch, epoch_s, train_loss, 100.0 * fq.accuracy);
    std::fflush(stdout);
  }
  const EvalResult fake_quant = evaluate(*model, *data.test);
  const std::vector<std::string> converted = quant::convert(*model);
  const EvalResult qat = evaluate(*model, *data.test);

  std::map<std::string, std::string> meta = io::user_metadata(info.metadata);
  meta["arch"] = arch_string(info.arch);
  meta["dataset"] = name;
  meta["quantization"] = fmt::format("static, QAT {} epochs lr {}: {}", o.epochs, o.lr, quantization);
  io::save_model(*model, o.out, meta);
  const uintmax_t out_size = std::filesystem::file_size(o.out);

  if (o.json) {
    nlohmann::json out = {{"in", o.in},
                          {"out", o.out},
                          {"bits", o.bits},
                          {"quantization", quantization},
                          {"skip", config.skip},
                          {"epochs", o.epochs},
                          {"lr", o.lr},
                          {"test_n", qat.n},
                          {"acc_fp32", fp32.accuracy},
                          {"acc_ptq", ptq.accuracy},
                          {"acc_ptq_static_histogram", ptq_hist.accuracy},
                          {"acc_qat_fake_quant", fake_quant.accuracy},
                          {"acc_qat", qat.accuracy},
                          {"converted", converted},
                          {"epoch_log", epochs},
                          {"file_bytes_before", in_size},
                          {"file_bytes_after", out_size}};
    if (control) out["acc_fp32_control"] = control->accuracy;
    fmt::print("{}\n", out.dump());
    return;
  }
  fmt::print("\n{:<44} {:>8}\n", "", "test acc");
  fmt::print("{:<44} {:>7.2f}%\n", "fp32", 100.0 * fp32.accuracy);
  if (control)
    fmt::print("{:<44} {:>7.2f}%\n", fmt::format("fp32 + {} epoch(s) at lr {} (control)", o.epochs, o.lr),
               100.0 * control->accuracy);
  fmt::print("{:<44} {:>7.2f}%\n", fmt::format("PTQ int{} (same quantizers, no training)", o.bits),
             100.0 * ptq.accuracy);
  fmt::print("{:<44} {:>7.2f}%\n", fmt::format("PTQ int{} static, histogram observer", o.bits),
             100.0 * ptq_hist.accuracy);
  fmt::print("{:<44} {:>7.2f}%\n", fmt::format("QAT int{}, fake-quantized model", o.bits),
             100.0 * fake_quant.accuracy);
  fmt::print("{:<44} {:>7.2f}%  ({:+.2f} vs fp32, {:+.2f} vs PTQ)\n",
             fmt::format("QAT int{}, converted (static QuantizedLinear)", o.bits), 100.0 * qat.accuracy,
             100.0 * (qat.accuracy - fp32.accuracy), 100.0 * (qat.accuracy - ptq.accuracy));
  fmt::print("\nfile       {:.1f} KB -> {:.1f} KB, saved {}\n", static_cast<double>(in_size) / 1e3,
             static_cast<double>(out_size) / 1e3, o.out);
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
      ->check(CLI::Range(2, 8))
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
  cmd->add_option("--skip", o->skip,
                  "Linear layers kept in float, comma-separated: names like 0,4 or first,last");
  cmd->add_option("--dataset", o->dataset,
                  "fashion-mnist | xor | spirals (default: the one it was trained on)")
      ->check(CLI::IsMember(dataset_names()));
  cmd->add_option("--limit", o->limit, "Train on the first N training examples only (default: all)")
      ->check(int_at_least(1));
  cmd->add_option("--threads", o->threads, "kernel threads (OpenBLAS and oneDNN); default 1, 0 = all cores")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_flag("--control", o->control,
                "Also train the float model the same way (epochs, lr, order) and report it: what QAT gains "
                "from training alone");
  cmd->add_flag("--json", o->json,
                "Print one JSON object: accuracies (fp32, PTQ, QAT), the epoch log, file sizes");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress bar on stderr");
  cmd->callback([o] { run_qat(*o); });
}

}  // namespace tinyml::cli
