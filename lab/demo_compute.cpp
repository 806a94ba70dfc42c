// `tinyml demo`'s measurements: the float model trained, its six quantized copies made, timed and
// saved, the bit-width sweep, and what the figures show. Prints nothing but progress bars.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "lab/demo.hpp"
#include "lab/demo_pictures.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/io/dot.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/qat.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli::demo {

using namespace tinyml::train;

namespace {

namespace fs = std::filesystem;

constexpr double kLr = 1e-3;
constexpr double kQatLr = 1e-4;  // fine-tuning a trained model: a tenth of the training rate
constexpr int64_t kBatch = 128;
const std::vector<int64_t> kArch{784, 256, 128, 10};

std::optional<size_t> limit_of(int64_t v) {
  return v > 0 ? std::optional<size_t>(static_cast<size_t>(v)) : std::nullopt;
}

std::string plural(int64_t n) { return n == 1 ? "" : "s"; }

// Weights of `bits` bits, symmetric per channel (2..4 bits packed two per byte), in dynamic mode:
// the integer GEMM, each call widening a packed weight to bytes.
quant::QuantConfig low_bit(int bits, const std::string& range) {
  quant::QuantConfig c;
  c.mode = quant::QuantMode::Dynamic;
  c.weight_spec = {bits, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  c.weight_range = range;
  return c;
}

// The state of one run: the data, the calibration batches, the results so far.
struct Runner {
  const Options& o;
  const Events& events;
  DataSplits data;
  std::vector<Tensor> calib;
  std::string fp32_path;
  Results res;
  std::unique_ptr<ProgressBar> bar;  // the quantization steps
  size_t done = 0;

  void step(const std::string& what) { bar->update(++done, what); }

  // Evaluates `model` o.repeat times (the accuracy is the same each time; the time is the median),
  // saves it as <key>.safetensors and appends its row.
  const Row& add_row(nn::Sequential& model, std::string name, std::string key, std::string how,
                     const std::string& quantization) {
    Row row;
    row.name = std::move(name);
    row.key = std::move(key);
    row.how = std::move(how);
    std::vector<double> ms;
    for (int64_t i = 0; i < o.repeat; ++i) {
      const EvalResult e = evaluate(model, *data.test);
      if (i == 0) {
        row.accuracy = e.accuracy;
        row.correct = e.correct;
        row.n = e.n;
      }
      TINYML_CHECK(e.correct == row.correct, "demo: '{}' scored {} then {} correct on the same images",
                   row.name, row.correct, e.correct);
      ms.push_back(e.ms_per_1000);
    }
    row.ms_per_1000 = median(ms);
    row.memory_bytes = quant::model_bytes(model);
    row.file = row.key + ".safetensors";
    std::map<std::string, std::string> meta = model_metadata(kArch, "fashion-mnist");
    meta["quantization"] = quantization;
    const std::string path = (fs::path(o.out) / row.file).string();
    io::save_model(model, path, meta);
    row.file_bytes = fs::file_size(path);
    const Row* fp32 = res.rows.empty() ? &row : &res.rows.front();
    row.delta_points = 100.0 * (row.accuracy - fp32->accuracy);
    row.speedup = row.ms_per_1000 > 0 ? fp32->ms_per_1000 / row.ms_per_1000 : 0.0;
    res.rows.push_back(row);
    return res.rows.back();
  }

  // A copy of the trained float model, as saved.
  std::shared_ptr<nn::Sequential> fp32_copy() const { return io::load_model(fp32_path); }

  // A copy of the trained float model, quantized with `config` on the calibration batches.
  std::shared_ptr<nn::Sequential> quantized(const quant::QuantConfig& config) {
    auto m = fp32_copy();
    quant::quantize_model(*m, config, calib);
    return m;
  }

  // `epochs` epochs of Adam at `lr` over the training set in the order of seed + 1 (QAT's order).
  void fine_tune(nn::Sequential& m, int64_t epochs, const std::string& label) {
    auto optimizer = make_optimizer("adam", m.parameters(), kQatLr, 0.0);
    data::DataLoader loader(data.train,
                            {.batch_size = static_cast<size_t>(kBatch), .shuffle = true, .seed = o.seed + 1});
    for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
      ProgressBar b(fmt::format("{} {}/{}", label, epoch, epochs), loader.size(), events.progress);
      data::train_epoch(m, *optimizer, loader, b.epoch_progress());
      b.finish();
    }
  }
};

void describe(Runner& run) {
  const Options& o = run.o;
  Results& res = run.res;
  res.command = o.command.empty() ? std::string("tinyml demo") : o.command;
  res.machine = fmt::format("{}, {} kernel thread{}; {}", cpu_model(),
                            o.threads == 0 ? "all" : std::to_string(o.threads), o.threads == 1 ? "" : "s",
                            kernels::blas_info());
  res.dataset = fmt::format("{}: {} train, {} test images", run.data.description, run.data.train->size(),
                            run.data.test->size());
  res.model = fmt::format("MLP {} (ReLU), Adam lr {}, batch {}, {} epoch{}, seed {}", arch_string(kArch), kLr,
                          kBatch, o.epochs, plural(o.epochs), o.seed);
  res.out = o.out;
  res.train_n = run.data.train->size();
  res.test_n = run.data.test->size();
  res.repeat = o.repeat;
  res.qat_epochs = o.qat_epochs;
  res.qat_lr = kQatLr;
  for (std::string_view c : data::FashionMNIST::class_names()) res.class_names.emplace_back(c);
}

// 1. The float model, trained from the seed; one Epoch per epoch.
std::shared_ptr<nn::Sequential> train_float(Runner& run) {
  const Options& o = run.o;
  manual_seed(o.seed);
  Generator init_gen(o.seed);
  auto model = make_mlp(kArch, init_gen);
  auto optimizer = make_optimizer("adam", model->parameters(), kLr, 0.0);
  data::DataLoader loader(run.data.train,
                          {.batch_size = static_cast<size_t>(kBatch), .shuffle = true, .seed = o.seed});
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    ProgressBar bar(fmt::format("epoch {}/{}", epoch, o.epochs), loader.size(), run.events.progress);
    const auto t0 = std::chrono::steady_clock::now();
    const double train_loss = data::train_epoch(*model, *optimizer, loader, bar.epoch_progress()).loss;
    const double seconds = seconds_since(t0);
    bar.finish();
    const EvalResult test = evaluate(*model, *run.data.test);
    run.res.epochs.push_back({epoch, seconds, train_loss, test.accuracy});
    if (run.events.epoch_done) run.events.epoch_done(run.res.epochs.back());
  }
  return model;
}

void add_int8_rows(Runner& run) {
  run.add_row(
      *run.quantized(quant::QuantConfig{}), "int8 dynamic", "int8_dynamic",
      "weights int8 symmetric per channel; each batch's inputs quantized on the fly (uint8), int8 GEMM",
      "dynamic int8 symmetric per-channel");
  run.step("int8 dynamic");
  quant::QuantConfig c;
  c.mode = quant::QuantMode::Static;
  c.observer = "histogram";
  run.add_row(
      *run.quantized(c), "int8 static", "int8_static",
      "as dynamic, but input ranges calibrated once (histogram observer, least-MSE range), int32 bias, "
      "fused ReLU",
      "static int8 symmetric per-channel, activations uint8 by histogram");
  run.step("int8 static");
}

// The two int4 models of the table, for the figures, and their accuracies, for the sweep.
struct Int4Models {
  std::shared_ptr<nn::Sequential> minmax, mse;
  double acc_minmax = 0.0, acc_mse = 0.0;
};

Int4Models add_int4_rows(Runner& run) {
  Int4Models m{run.quantized(low_bit(4, "minmax")), nullptr};
  m.acc_minmax =
      run.add_row(*m.minmax, "int4 dynamic min/max", "int4_minmax",
                  "weights int4 symmetric per channel (two per byte), range = each channel's largest |w|; "
                  "widened to bytes for the int8 GEMM on each call, inputs as int8 dynamic",
                  "dynamic int4 symmetric per-channel minmax")
          .accuracy;
  run.step("int4 min/max");
  m.mse = run.quantized(low_bit(4, "mse"));
  m.acc_mse = run.add_row(*m.mse, "int4 dynamic MSE", "int4_mse",
                          "as min/max, but each channel's range clipped for the least output error on the "
                          "calibration images",
                          "dynamic int4 symmetric per-channel mse")
                  .accuracy;
  run.step("int4 MSE");
  quant::QuantConfig c = low_bit(4, "mse");
  c.skip = {"first", "last"};
  run.add_row(*run.quantized(c), "mixed: fp32 first/last, int4", "mixed",
              "first and last Linear kept in float, the others int4 dynamic MSE",
              "mixed: first and last Linear fp32, the others dynamic int4 symmetric per-channel mse");
  run.step("mixed precision");
  return m;
}

void add_qat_row(Runner& run) {
  const int64_t n = run.o.qat_epochs;
  auto m = run.fp32_copy();
  quant::prepare_qat(*m, quant::qat_config(4));
  quant::observe_ranges(*m, run.calib);
  run.fine_tune(*m, n, "QAT epoch");
  quant::convert(*m);
  run.add_row(
      *m, fmt::format("int4 QAT ({} epoch{})", n, plural(n)), "int4_qat",
      fmt::format("trained {} more epoch{} (Adam lr {}) through int4 fake quantization of weights and "
                  "inputs, then converted to static QuantizedLinear (int4 weights packed two per byte)",
                  n, plural(n), kQatLr),
      fmt::format("static, QAT {} epochs lr {}: weights int4 symmetric per-channel, activations uint4", n,
                  kQatLr));
  run.step("int4 QAT");
  if (n > 0) {
    // The control: the float model trained exactly as QAT trained (epochs, rate, order).
    auto c = run.fp32_copy();
    run.fine_tune(*c, n, "fp32 control epoch");
    run.res.qat_control_accuracy = evaluate(*c, *run.data.test).accuracy;
  }
  run.step("fp32 control");
}

// 3. Accuracy against bit width, as the table's int4 rows are run (dynamic, per channel); 4 bits
// are those rows.
void bit_sweep(Runner& run, const Int4Models& int4) {
  for (int bits = 2; bits <= 8; ++bits) {
    BitsPoint p{bits, int4.acc_minmax, int4.acc_mse};
    if (bits != 4) {
      for (const std::string range : {"minmax", "mse"}) {
        auto m = run.quantized(low_bit(bits, range));
        (range == "mse" ? p.acc_mse : p.acc_minmax) = evaluate(*m, *run.data.test).accuracy;
        run.step(fmt::format("int{} {}", bits, range));
      }
    }
    run.res.bits.push_back(p);
  }
}

}  // namespace

Results compute(const Options& o, const Events& events) {
  const auto t_start = std::chrono::steady_clock::now();
  Runner run{o,
             events,
             load_dataset("fashion-mnist", /*train=*/true, limit_of(o.train_limit), limit_of(o.test_limit)),
             {},
             (fs::path(o.out) / "fp32.safetensors").string(),
             {},
             nullptr,
             0};
  describe(run);
  if (events.started) events.started(run.res);
  auto model = train_float(run);

  // 2. Quantized copies. The steps are counted for the progress bar: table rows and QAT's control,
  // the other bit widths, figures.
  run.bar = std::make_unique<ProgressBar>("quantize and compare", 7 + 2 * 6 + 2, events.progress);
  run.calib = calibration_batches(run.data.train, o.calib_batches, kBatch, o.seed);
  run.res.calibration =
      fmt::format("{} batches of {} training images (a seeded shuffle)", run.calib.size(), kBatch);
  model->eval();
  run.add_row(*model, "fp32", "fp32", "the trained float model", "none (fp32)");
  add_int8_rows(run);
  const Int4Models int4 = add_int4_rows(run);
  add_qat_row(run);
  bit_sweep(run, int4);
  run.res.clip = clip_picture(*model, *int4.mse);
  run.res.error = error_picture(*model, *run.quantized(quant::QuantConfig{}), *int4.minmax);
  run.res.activation = activation_picture(*model, run.calib);
  run.step("activation statistics");
  run.res.confusion = train::confusion_matrix(*model, *run.data.test, run.data.classes);
  run.step("confusion matrix");
  run.bar->finish();
  run.res.model_dot = io::model_to_dot(*model, kBatch);
  run.res.total_seconds = seconds_since(t_start);
  return std::move(run.res);
}

}  // namespace tinyml::cli::demo
