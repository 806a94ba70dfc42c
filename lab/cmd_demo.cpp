// `tinyml demo`: trains the reference Fashion-MNIST MLP, quantizes it six ways and compares them in one table
// and a report with figures.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "lab/demo_report.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/qat.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  int64_t epochs = 5;
  int64_t qat_epochs = 1;
  std::string out = "out/demo";
  uint64_t seed = 0;
  int threads = 1;
  int64_t train_limit = 0;  // 0: the whole split
  int64_t test_limit = 0;
  int64_t calib_batches = 10;
  int64_t repeat = 5;
  bool json = false;
  bool quiet = false;
};

constexpr double kLr = 1e-3;
constexpr double kQatLr = 1e-4;  // fine-tuning a trained model: a tenth of the training rate
constexpr int64_t kBatch = 128;
const std::vector<int64_t> kArch{784, 256, 128, 10};

std::optional<size_t> limit_of(int64_t v) {
  return v > 0 ? std::optional<size_t>(static_cast<size_t>(v)) : std::nullopt;
}

std::shared_ptr<nn::Sequential> load_copy(const std::string& path) { return io::load_model(path); }

template <typename T>
std::shared_ptr<T> layer(nn::Sequential& model, const std::string& name) {
  for (const auto& [n, m] : model.named_modules())
    if (n == name)
      if (auto p = std::dynamic_pointer_cast<T>(m)) return p;
  TINYML_CHECK(false, "demo: the model has no layer '{}' of the expected type", name);
  return nullptr;
}

// Class counts: rows the true class, columns the predicted one (argmax), in batches of 1000 as
// evaluate() runs them.
std::vector<int64_t> confusion_matrix(nn::Module& model, const data::Dataset& test, int64_t classes) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<int64_t> m(static_cast<size_t>(classes * classes), 0);
  for (size_t start = 0; start < test.size(); start += 1000) {
    std::vector<size_t> idx(std::min<size_t>(1000, test.size() - start));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = start + i;
    const data::Batch b = test.get_batch(idx);
    const std::vector<float> pred = model(b.data).argmax(1).to_vector();
    const std::vector<float> target = b.target.to_vector();
    for (size_t i = 0; i < pred.size(); ++i) {
      const auto t = static_cast<int64_t>(target[i]), p = static_cast<int64_t>(pred[i]);
      TINYML_CHECK(t >= 0 && t < classes && p >= 0 && p < classes,
                   "demo: class {} predicted as {}, expected both in [0, {})", t, p, classes);
      ++m[static_cast<size_t>(t * classes + p)];
    }
  }
  model.train(was_training);
  return m;
}

struct Runner {
  const DemoOptions& o;
  DataSplits data;
  std::vector<Tensor> calib;
  std::string fp32_path;
  demo::Results res;

  // Evaluates `model` o.repeat times (the accuracy is the same each time; the time is the median),
  // saves it as <key>.safetensors and appends its row.
  demo::Row add_row(nn::Sequential& model, std::string name, std::string key, std::string how,
                    const std::string& quantization) {
    demo::Row row;
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
    const demo::Row* fp32 = res.rows.empty() ? &row : &res.rows.front();
    row.delta_points = 100.0 * (row.accuracy - fp32->accuracy);
    row.speedup = row.ms_per_1000 > 0 ? fp32->ms_per_1000 / row.ms_per_1000 : 0.0;
    res.rows.push_back(row);
    return res.rows.back();
  }

  // A copy of the trained float model, quantized with `config` on the calibration batches.
  std::shared_ptr<nn::Sequential> quantized(const quant::QuantConfig& config) {
    auto m = load_copy(fp32_path);
    quant::quantize_model(*m, config, calib);
    return m;
  }
};

// Weights of `bits` bits, symmetric per channel (2..4 bits packed two per byte), in dynamic mode:
// the integer GEMM, each call widening a packed weight to bytes.
quant::QuantConfig low_bit(int bits, const std::string& range) {
  quant::QuantConfig c;
  c.mode = quant::QuantMode::Dynamic;
  c.weight_spec = {bits, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  c.weight_range = range;
  return c;
}

std::vector<float> weight_error(const quant::QuantizedLinear& q, const nn::Linear& fp) {
  const std::vector<float> w_hat = q.weight().dequantize().to_vector();
  const std::vector<float> w = fp.weight.detach().contiguous().to_vector();
  std::vector<float> e(w.size());
  for (size_t i = 0; i < w.size(); ++i) e[i] = w_hat[i] - w[i];
  return e;
}

double max_scale(const quant::QuantizedLinear& q) {
  const std::vector<float>& s = q.weight().qparams().scale;
  return *std::max_element(s.begin(), s.end());
}

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

std::string command_line(const DemoOptions& o) {
  std::string s = "tinyml demo";
  if (o.epochs != 5) s += fmt::format(" --epochs {}", o.epochs);
  if (o.qat_epochs != 1) s += fmt::format(" --qat-epochs {}", o.qat_epochs);
  if (o.seed != 0) s += fmt::format(" --seed {}", o.seed);
  if (o.threads != 1) s += fmt::format(" --threads {}", o.threads);
  if (o.train_limit > 0) s += fmt::format(" --train-limit {}", o.train_limit);
  if (o.test_limit > 0) s += fmt::format(" --test-limit {}", o.test_limit);
  if (o.calib_batches != 10) s += fmt::format(" --calib-batches {}", o.calib_batches);
  if (o.repeat != 5) s += fmt::format(" --repeat {}", o.repeat);
  s += fmt::format(" --out {}", o.out);
  return s;
}

void run_demo(const DemoOptions& o) {
  const auto t_start = std::chrono::steady_clock::now();
  apply_threads(o.threads);
  const bool human = !o.json;
  const bool chatty = human && !o.quiet;
  {
    std::error_code ec;
    fs::create_directories(o.out, ec);
    TINYML_CHECK(fs::is_directory(o.out, ec), "demo: cannot create the output folder '{}'{}", o.out,
                 ec ? ": " + ec.message() : std::string());
  }

  Runner run{o,
             load_dataset("fashion-mnist", /*train=*/true, limit_of(o.train_limit), limit_of(o.test_limit)),
             {},
             (fs::path(o.out) / "fp32.safetensors").string(),
             {}};
  demo::Results& res = run.res;
  const DataSplits& data = run.data;
  res.command = command_line(o);
  res.machine = fmt::format("{}, {} kernel thread{}; {}", cpu_model(),
                            o.threads == 0 ? "all" : std::to_string(o.threads), o.threads == 1 ? "" : "s",
                            kernels::blas_info());
  res.dataset =
      fmt::format("{}: {} train, {} test images", data.description, data.train->size(), data.test->size());
  res.model = fmt::format("MLP {} (ReLU), Adam lr {}, batch {}, {} epoch{}, seed {}", arch_string(kArch), kLr,
                          kBatch, o.epochs, o.epochs == 1 ? "" : "s", o.seed);
  res.test_n = data.test->size();
  res.repeat = o.repeat;
  for (std::string_view c : data::FashionMNIST::class_names()) res.class_names.emplace_back(c);

  if (human) {
    fmt::print("tinyml demo: train the reference MLP, quantize it six ways, compare\n\n");
    fmt::print("dataset    {}\n", res.dataset);
    fmt::print("model      {}\n", res.model);
    fmt::print("machine    {}\n", res.machine);
    if (const std::string w = kernels::blas_warning(); !w.empty() && !o.quiet)
      fmt::print(stderr, "warning: {}\n", w);
    fmt::print("\n{:>5}  {:>8}  {:>10}  {:>8}\n", "epoch", "time_s", "train_loss", "test_acc");
    std::fflush(stdout);
  }

  // 1. The float model.
  manual_seed(o.seed);
  Generator init_gen(o.seed);
  auto model = make_mlp(kArch, init_gen);
  {
    auto optimizer = make_optimizer("adam", model->parameters(), kLr, 0.0);
    data::DataLoader loader(data.train,
                            {.batch_size = static_cast<size_t>(kBatch), .shuffle = true, .seed = o.seed});
    for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
      ProgressBar bar(fmt::format("epoch {}/{}", epoch, o.epochs), loader.size(), chatty);
      const auto t0 = std::chrono::steady_clock::now();
      const double train_loss = data::train_epoch(*model, *optimizer, loader, bar.epoch_progress()).loss;
      const double seconds = seconds_since(t0);
      bar.finish();
      const EvalResult test = evaluate(*model, *data.test);
      res.epochs.push_back({epoch, seconds, train_loss, test.accuracy});
      if (human)
        fmt::print("{:>5}  {:>8.3f}  {:>10.4f}  {:>7.2f}%\n", epoch, seconds, train_loss,
                   100.0 * test.accuracy);
      std::fflush(stdout);
    }
  }

  // 2. Quantized copies. The steps are counted for the progress bar.
  const int64_t steps = 7 + 2 * 6 + 2;  // table rows and QAT's control, the other bit widths, figures
  ProgressBar bar("quantize and compare", static_cast<size_t>(steps), chatty);
  size_t done = 0;
  const auto step = [&](const std::string& what) { bar.update(++done, what); };

  run.calib = calibration_batches(data.train, o.calib_batches, kBatch, o.seed);
  res.calibration =
      fmt::format("{} batches of {} training images (a seeded shuffle)", run.calib.size(), kBatch);
  model->eval();
  run.add_row(*model, "fp32", "fp32", "the trained float model", "none (fp32)");

  {
    quant::QuantConfig c;  // dynamic, int8 symmetric per-channel weights
    auto m = run.quantized(c);
    run.add_row(
        *m, "int8 dynamic", "int8_dynamic",
        "weights int8 symmetric per channel; each batch's inputs quantized on the fly (uint8), int8 GEMM",
        "dynamic int8 symmetric per-channel");
    step("int8 dynamic");
  }
  {
    quant::QuantConfig c;
    c.mode = quant::QuantMode::Static;
    c.observer = "histogram";
    auto m = run.quantized(c);
    run.add_row(
        *m, "int8 static", "int8_static",
        "as dynamic, but input ranges calibrated once (histogram observer, least-MSE range), int32 bias, "
        "fused ReLU",
        "static int8 symmetric per-channel, activations uint8 by histogram");
    step("int8 static");
  }
  std::shared_ptr<nn::Sequential> int4_minmax = run.quantized(low_bit(4, "minmax"));
  const demo::Row row_minmax =
      run.add_row(*int4_minmax, "int4 dynamic min/max", "int4_minmax",
                  "weights int4 symmetric per channel (two per byte), range = each channel's largest |w|; "
                  "widened to bytes for the int8 GEMM on each call, inputs as int8 dynamic",
                  "dynamic int4 symmetric per-channel minmax");
  const double acc4_minmax = row_minmax.accuracy;
  step("int4 min/max");
  std::shared_ptr<nn::Sequential> int4_mse = run.quantized(low_bit(4, "mse"));
  const demo::Row row_mse =
      run.add_row(*int4_mse, "int4 dynamic MSE", "int4_mse",
                  "as min/max, but each channel's range clipped for the least output error "
                  "on the calibration images",
                  "dynamic int4 symmetric per-channel mse");
  const double acc4_mse = row_mse.accuracy;
  step("int4 MSE");
  {
    quant::QuantConfig c = low_bit(4, "mse");
    c.skip = {"first", "last"};
    auto m = run.quantized(c);
    run.add_row(*m, "mixed: fp32 first/last, int4", "mixed",
                "first and last Linear kept in float, the others int4 dynamic MSE",
                "mixed: first and last Linear fp32, the others dynamic int4 symmetric per-channel mse");
    step("mixed precision");
  }
  {
    auto m = load_copy(run.fp32_path);
    quant::prepare_qat(*m, quant::qat_config(4));
    quant::observe_ranges(*m, run.calib);
    auto optimizer = make_optimizer("adam", m->parameters(), kQatLr, 0.0);
    data::DataLoader loader(data.train,
                            {.batch_size = static_cast<size_t>(kBatch), .shuffle = true, .seed = o.seed + 1});
    for (int64_t epoch = 1; epoch <= o.qat_epochs; ++epoch) {
      ProgressBar qbar(fmt::format("QAT epoch {}/{}", epoch, o.qat_epochs), loader.size(), chatty);
      data::train_epoch(*m, *optimizer, loader, qbar.epoch_progress());
      qbar.finish();
    }
    quant::convert(*m);
    run.add_row(
        *m, fmt::format("int4 QAT ({} epoch{})", o.qat_epochs, o.qat_epochs == 1 ? "" : "s"), "int4_qat",
        fmt::format("trained {} more epoch{} (Adam lr {}) through int4 fake quantization of weights and "
                    "inputs, then converted to static QuantizedLinear (int4 weights packed two per byte)",
                    o.qat_epochs, o.qat_epochs == 1 ? "" : "s", kQatLr),
        fmt::format("static, QAT {} epochs lr {}: weights int4 symmetric per-channel, activations uint4",
                    o.qat_epochs, kQatLr));
    step("int4 QAT");
    res.qat_epochs = o.qat_epochs;
    if (o.qat_epochs > 0) {
      // The control: the float model trained exactly as QAT trained (epochs, rate, order).
      auto c = load_copy(run.fp32_path);
      auto copt = make_optimizer("adam", c->parameters(), kQatLr, 0.0);
      data::DataLoader cl(data.train,
                          {.batch_size = static_cast<size_t>(kBatch), .shuffle = true, .seed = o.seed + 1});
      for (int64_t epoch = 1; epoch <= o.qat_epochs; ++epoch) {
        ProgressBar cbar(fmt::format("fp32 control epoch {}/{}", epoch, o.qat_epochs), cl.size(), chatty);
        data::train_epoch(*c, *copt, cl, cbar.epoch_progress());
        cbar.finish();
      }
      res.qat_control_accuracy = evaluate(*c, *data.test).accuracy;
    }
    step("fp32 control");
  }

  // 3. Accuracy against bit width, as the table's int4 rows are run (dynamic, per channel); 4 bits
  // are those rows.
  for (int bits = 2; bits <= 8; ++bits) {
    demo::BitsPoint p{bits, acc4_minmax, acc4_mse};
    if (bits != 4) {
      for (const std::string range : {"minmax", "mse"}) {
        auto m = run.quantized(low_bit(bits, range));
        (range == "mse" ? p.acc_mse : p.acc_minmax) = evaluate(*m, *data.test).accuracy;
        step(fmt::format("int{} {}", bits, range));
      }
    }
    res.bits.push_back(p);
  }

  // 4. What the figures show.
  {
    auto fp_first = layer<nn::Linear>(*model, "0");
    auto q_mse = layer<quant::QuantizedLinear>(*int4_mse, "0");
    const std::vector<float> w = fp_first->weight.detach().contiguous().to_vector();
    const int64_t out = fp_first->out_features(), in = fp_first->in_features();
    const int32_t qmax = q_mse->weight().spec().qmax();
    const std::vector<float>& scale = q_mse->weight().qparams().scale;
    // A typical clipped channel: the one at the first quartile of clip/max ratios (the smallest
    // ratios are the extreme cases, the largest barely clip).
    std::vector<std::pair<double, int64_t>> ratio;
    std::vector<double> amax(static_cast<size_t>(out), 0.0);
    for (int64_t r = 0; r < out; ++r) {
      for (int64_t c = 0; c < in; ++c)
        amax[static_cast<size_t>(r)] = std::max(
            amax[static_cast<size_t>(r)], static_cast<double>(std::fabs(w[static_cast<size_t>(r * in + c)])));
      const double clip = static_cast<double>(scale[static_cast<size_t>(r)]) * qmax;
      ratio.emplace_back(amax[static_cast<size_t>(r)] > 0 ? clip / amax[static_cast<size_t>(r)] : 1.0, r);
    }
    std::sort(ratio.begin(), ratio.end());
    const int64_t ch = ratio[ratio.size() / 4].second;
    res.clip.layer = "0";
    res.clip.channel = ch;
    res.clip.bits = 4;
    res.clip.weights.assign(w.begin() + ch * in, w.begin() + (ch + 1) * in);
    res.clip.minmax_clip = amax[static_cast<size_t>(ch)];
    res.clip.mse_clip = static_cast<double>(scale[static_cast<size_t>(ch)]) * qmax;

    auto q8 = layer<quant::QuantizedLinear>(*run.quantized(quant::QuantConfig{}), "0");
    auto q4 = layer<quant::QuantizedLinear>(*int4_minmax, "0");
    res.error.layer = "0";
    res.error.err8 = weight_error(*q8, *fp_first);
    res.error.err4 = weight_error(*q4, *fp_first);
    res.error.max_step8 = max_scale(*q8);
    res.error.max_step4 = max_scale(*q4);
  }
  {
    quant::CalibrationConfig cc;
    cc.observer = "histogram";
    cc.spec = quant::QuantSpec::int8_affine();
    const quant::CalibrationResult cal = quant::calibrate(*model, run.calib, cc);
    const quant::LayerStats& st = cal.at("2");
    demo::ActivationPicture& a = res.activation;
    a.layer = "2";
    a.observer = st.observer;
    a.bits = 8;
    a.count = st.count;
    const size_t bins = st.histogram.size();
    for (size_t i = 0; i <= bins; ++i)
      a.edges.push_back(st.hist_lo + (static_cast<double>(st.hist_hi) - st.hist_lo) * static_cast<double>(i) /
                                         static_cast<double>(bins));
    for (int64_t c : st.histogram) a.counts.push_back(static_cast<double>(c));
    a.min = st.min;
    a.max = st.max;
    a.lo = st.chosen.lo;
    a.hi = st.chosen.hi;
    a.clipped_fraction = st.chosen.clipped_fraction;
    step("activation statistics");
  }
  res.confusion = confusion_matrix(*model, *data.test, data.classes);
  step("confusion matrix");
  bar.finish();

  res.total_seconds = seconds_since(t_start);
  const std::vector<std::string> figures = demo::write_report(res, o.out);
  const std::string report_path = (fs::path(o.out) / "report.md").string();

  if (o.json) {
    nlohmann::ordered_json j;
    j["out"] = o.out;
    j["report"] = report_path;
    j["figures"] = figures;
    j["train_n"] = data.train->size();
    j["test_n"] = data.test->size();
    nlohmann::ordered_json ep = nlohmann::ordered_json::array();
    for (const demo::Epoch& e : res.epochs)
      ep.push_back({{"epoch", e.epoch},
                    {"epoch_s", e.seconds},
                    {"train_loss", e.train_loss},
                    {"test_acc", e.test_acc}});
    j["epochs"] = ep;
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const demo::Row& r : res.rows)
      rows.push_back({{"model", r.name},
                      {"key", r.key},
                      {"accuracy", r.accuracy},
                      {"correct", r.correct},
                      {"n", r.n},
                      {"delta_points", r.delta_points},
                      {"memory_bytes", r.memory_bytes},
                      {"file", (fs::path(o.out) / r.file).string()},
                      {"file_bytes", r.file_bytes},
                      {"ms_per_1000", r.ms_per_1000},
                      {"speedup", r.speedup}});
    j["rows"] = rows;
    nlohmann::ordered_json bits = nlohmann::ordered_json::array();
    for (const demo::BitsPoint& p : res.bits)
      bits.push_back({{"bits", p.bits}, {"minmax", p.acc_minmax}, {"mse", p.acc_mse}});
    j["accuracy_vs_bits"] = bits;
    if (res.qat_control_accuracy >= 0)
      j["qat_control"] = {{"epochs", res.qat_epochs}, {"lr", kQatLr}, {"accuracy", res.qat_control_accuracy}};
    j["total_s"] = res.total_seconds;
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("\n{}", demo::table_text(res));
  fmt::print(
      "\naccuracy on {} test images; memory = bytes the model holds; file = its .safetensors on disk;\n"
      "ms = forward time per 1000 images (median of {} passes); speed-up against fp32.\n",
      res.test_n, o.repeat);
  if (const std::string note = demo::qat_note(res); !note.empty()) fmt::print("{}", wrap(note, 100));
  fmt::print("\nreport     {} ({} figures)\nmodels     {}/*.safetensors (try `tinyml eval {}`)\n",
             report_path, figures.size(), o.out, (fs::path(o.out) / "int8_static.safetensors").string());
  fmt::print("total      {:.1f} s\n", res.total_seconds);
}

}  // namespace

void register_demo(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
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
  cmd->add_option("--threads", o->threads, "kernel threads (OpenBLAS and oneDNN); default 1, 0 = all cores")
      ->check(int_at_least(0))
      ->capture_default_str();
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
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace tinyml::cli
