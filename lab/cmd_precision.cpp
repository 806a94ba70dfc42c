// `tinyml precision`: the precision lab: error pictures (SVG) and tables of formats and bit widths.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/plot/svg.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/quant/precision.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

namespace svg = tinyml::plot;

struct PrecisionOptions {
  std::string out;
  int bits = 4;
  std::string model;  // empty: train a small MLP here
  std::string dataset = "fashion-mnist";
  int64_t train_limit = 10000;
  int64_t epochs = 1;
  std::string observer = "histogram";
  int64_t calib_batches = 8;
  uint64_t seed = 0;
  int threads = 1;
  bool json = false;
};

quant::QuantSpec symmetric(int b) {
  return {b, quant::Scheme::Symmetric, quant::Granularity::PerTensor, 0, true};
}
quant::QuantSpec affine(int b) { return {b, quant::Scheme::Affine, quant::Granularity::PerTensor, 0, false}; }

double snr_at(const Tensor& x, const quant::QuantSpec& spec) {
  return quant::snr_db(x, quant::QTensor::quantize(x, spec).dequantize());
}

// A JSON number, or null for ±Inf/NaN (JSON has neither).
nlohmann::json jnum(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

using Histogram = svg::Bins;

std::string histogram_table(const Histogram& h, const char* value_format) {
  const double peak = *std::max_element(h.counts.begin(), h.counts.end());
  std::string s = fmt::format("  {:>23}  {:>8}\n", "bin", "count");
  for (size_t i = 0; i < h.counts.size(); ++i) {
    const int bar = peak > 0 ? static_cast<int>(std::lround(40.0 * h.counts[i] / peak)) : 0;
    s += fmt::format("  [{}, {})  {:>8.0f}{}\n", fmt::format(fmt::runtime(value_format), h.edges[i]),
                     fmt::format(fmt::runtime(value_format), h.edges[i + 1]), h.counts[i],
                     bar > 0 ? "  " + std::string(static_cast<size_t>(bar), '#') : std::string());
  }
  return s;
}

struct Lab {
  std::shared_ptr<nn::Sequential> model;
  std::string model_text;
  DataSplits data;
};

Lab get_model(const PrecisionOptions& o) {
  Lab lab;
  if (!o.model.empty()) {
    LoadedModel loaded = load_model_file(o.model);
    lab.model = std::dynamic_pointer_cast<nn::Sequential>(loaded.model);
    TINYML_CHECK(lab.model != nullptr, "precision: the model in '{}' is not a Sequential", o.model);
    const std::string name = loaded.dataset.empty() ? o.dataset : loaded.dataset;
    lab.data = load_dataset(name, /*train=*/true, static_cast<size_t>(o.train_limit));
    check_arch_fits(loaded.arch, lab.data, fmt::format("the model in '{}',", o.model).c_str());
    lab.model_text = fmt::format("MLP {} from {}", arch_string(loaded.arch), o.model);
    return lab;
  }
  lab.data = load_dataset(o.dataset, /*train=*/true, static_cast<size_t>(o.train_limit));
  const std::vector<int64_t> arch = parse_arch(lab.data.default_arch);
  Generator gen(o.seed);
  lab.model = make_mlp(arch, gen);
  auto opt = make_optimizer("adam", lab.model->parameters(), 1e-3, 0.0);
  data::DataLoader loader(lab.data.train, {.batch_size = 128, .shuffle = true, .seed = o.seed});
  for (int64_t e = 0; e < o.epochs; ++e) data::train_epoch(*lab.model, *opt, loader);
  lab.model_text = fmt::format("MLP {} trained here: {} epoch(s) of Adam 1e-3 on {} {} examples (seed {})",
                               arch_string(arch), o.epochs, lab.data.train->size(), lab.data.name, o.seed);
  return lab;
}

void run_precision(const PrecisionOptions& o) {
  apply_threads(o.threads);
  const int b = o.bits;
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  TINYML_CHECK(std::filesystem::is_directory(o.out), "precision: cannot create the output directory '{}'",
               o.out);

  Lab lab = get_model(o);
  nn::Sequential& model = *lab.model;
  model.eval();
  std::vector<std::pair<std::string, std::shared_ptr<nn::Linear>>> linears;
  for (const auto& [name, m] : model.named_modules())
    if (auto l = std::dynamic_pointer_cast<nn::Linear>(m)) linears.emplace_back(name, l);
  TINYML_CHECK(!linears.empty(), "precision: the model has no Linear layer");
  const auto& [w_name, first] = linears.front();
  const auto& [a_name, act_layer] = linears.size() > 1 ? linears[1] : linears.front();
  const Tensor W = first->weight.detach();

  // Calibration data, the first layer's inputs and the inputs of the activation layer.
  const std::vector<Tensor> batches = calibration_batches(lab.data.train, o.calib_batches, 256, o.seed);
  std::vector<Tensor> acts;
  {
    NoGradGuard no_grad;
    nn::HookHandle h = act_layer->register_forward_pre_hook(
        [&acts](nn::Module&, const Tensor& in) { acts.push_back(in.detach().contiguous()); });
    for (const Tensor& x : batches) model(x);
    h.remove();
  }
  const Tensor X0 = cat(batches, 0);
  const Tensor A = cat(acts, 0);

  // 1. Error histogram and 2. scatter of the first layer's weights at b bits (symmetric per tensor).
  const quant::QTensor qw = quant::QTensor::quantize(W, symmetric(b));
  const Tensor W_hat = qw.dequantize();
  const double step = qw.qparams().scale[0];
  const std::vector<float> wv = W.contiguous().to_vector(), whv = W_hat.to_vector();
  std::vector<float> err(wv.size());
  for (size_t i = 0; i < wv.size(); ++i) err[i] = whv[i] - wv[i];
  // Bins of Δ/40 over ±0.75Δ, so that ±Δ/2 fall on bin edges.
  const Histogram eh = svg::bin_values(err, -0.75 * step, 0.75 * step, 60);
  const std::string spec_text = fmt::format("int{} symmetric per-tensor", b);
  {
    svg::Chart c;
    c.title = fmt::format("Layer {} weights, {}: error ŵ − w", w_name, spec_text);
    c.x.label = fmt::format("quantization error (step Δ = {:.3g})", step);
    c.y.label = "count";
    svg::write_file(o.out + fmt::format("/error_hist_int{}.svg", b),
                    svg::histogram(c, eh.edges, eh.counts,
                                   {{-step / 2, "−Δ/2", "#d62728"}, {step / 2, "+Δ/2", "#d62728"}}));
  }
  {
    svg::Series pts{"weights", {}, {}, "#4c78a8", false, true, false, 1.8};
    const size_t stride = std::max<size_t>(1, wv.size() / 3000);
    for (size_t i = 0; i < wv.size(); i += stride) {
      pts.x.push_back(wv[i]);
      pts.y.push_back(whv[i]);
    }
    const double lo = *std::min_element(wv.begin(), wv.end()), hi = *std::max_element(wv.begin(), wv.end());
    svg::Series diag{"y = x", {lo, hi}, {lo, hi}, "#888888", true, false, true, 0};
    svg::Chart c;
    c.title = fmt::format("Layer {} weights, {}: reconstructed vs original", w_name, spec_text);
    c.x.label = "original weight w";
    c.y.label = "reconstructed ŵ";
    svg::write_file(o.out + fmt::format("/scatter_int{}.svg", b), svg::scatter(c, {diag, pts}));
  }

  // 3. SNR against bits, affine vs symmetric, for weights and for (post-ReLU) activations.
  std::vector<double> bits_axis, w_sym, w_aff, a_sym, a_aff;
  for (int k = 2; k <= 8; ++k) {
    bits_axis.push_back(k);
    w_sym.push_back(snr_at(W, symmetric(k)));
    w_aff.push_back(snr_at(W, affine(k)));
    a_sym.push_back(snr_at(A, symmetric(k)));
    a_aff.push_back(snr_at(A, affine(k)));
  }
  {
    svg::Chart c;
    c.title = "Signal-to-noise ratio against bit width (min/max ranges, per tensor)";
    c.x.label = "bits";
    c.y.label = "SNR (dB)";
    c.x.lo = 1.5;
    c.x.hi = 8.5;
    c.x.tick_step = 1;
    svg::write_file(
        o.out + "/snr_vs_bits.svg",
        svg::line_chart(c, {{fmt::format("layer {} weights, symmetric", w_name), bits_axis, w_sym, "#4c78a8"},
                            {fmt::format("layer {} weights, affine", w_name), bits_axis, w_aff, "#4c78a8",
                             true, true, true},
                            {fmt::format("layer {} inputs, symmetric", a_name), bits_axis, a_sym, "#f58518"},
                            {fmt::format("layer {} inputs, affine", a_name), bits_axis, a_aff, "#f58518",
                             true, true, true}}));
  }

  // 4. Activation histogram with the clipping range the observer chose at b bits.
  quant::CalibrationConfig cc;
  cc.observer = o.observer;
  cc.spec = affine(b);
  const quant::CalibrationResult cal = quant::calibrate(model, batches, cc);
  const quant::LayerStats& st = cal.at(a_name);
  Histogram ah;
  for (size_t i = 0; i <= st.histogram.size(); ++i)
    ah.edges.push_back(st.hist_lo + (static_cast<double>(st.hist_hi) - st.hist_lo) * static_cast<double>(i) /
                                        static_cast<double>(st.histogram.size()));
  for (int64_t c : st.histogram) ah.counts.push_back(static_cast<double>(c));
  // The calibration histogram spans a range rounded out past the largest value; drop the empty
  // tail so the picture and the table show the data (the chosen range lies inside it).
  size_t used = ah.counts.size();
  while (used > 1 && ah.counts[used - 1] == 0) --used;
  const size_t factor = std::max<size_t>(1, used / 60);
  used =
      std::min(ah.counts.size(), (used + factor - 1) / factor * factor + factor);  // one empty bin of margin
  ah.counts.resize(used);
  ah.edges.resize(used + 1);
  const Histogram ah64 = svg::rebin(ah, factor);
  {
    svg::Chart c;
    c.title =
        fmt::format("Inputs of layer {} ({} values): {} clipping at uint{}", a_name, st.count, o.observer, b);
    c.x.label = "activation value";
    c.y.label = "count (log scale)";
    c.y.log = true;
    svg::write_file(o.out + fmt::format("/activation_hist_int{}.svg", b),
                    svg::histogram(c, ah64.edges, ah64.counts,
                                   {{st.chosen.hi,
                                     fmt::format("clip at {:.3g} ({:.3g}% clipped)", st.chosen.hi,
                                                 100.0 * st.chosen.clipped_fraction),
                                     "#d62728"},
                                    {st.max, fmt::format("max {:.3g}", st.max), "#555555"}},
                                   "#f58518"));
  }

  // Tables.
  const auto table8 = quant::weight_error_table(model, 8);
  const auto table4 = quant::weight_error_table(model, 4);
  std::vector<quant::LayerError> table_b;
  if (b != 8 && b != 4) table_b = quant::weight_error_table(model, b);
  std::vector<quant::PrecisionReport> formats;
  for (auto f : {quant::NumberFormat::FP32, quant::NumberFormat::FP16, quant::NumberFormat::BF16,
                 quant::NumberFormat::INT8, quant::NumberFormat::INT4})
    formats.push_back(quant::analyze_layer_precision(W, X0, f));
  const std::vector<double> bounds{0.01, 0.02, 0.05, 0.1, 0.2};
  std::vector<quant::BitwidthChoice> choices;
  for (double e : bounds) choices.push_back(quant::find_optimal_bitwidth(W, e));
  Generator flip_gen(o.seed);
  const quant::FlipResult flips = quant::argmax_flip_experiment(flip_gen);

  if (o.json) {
    const auto layer_rows = [](const std::vector<quant::LayerError>& rows) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& r : rows)
        j.push_back({{"name", r.name},
                     {"shape", r.shape},
                     {"bits", r.bits},
                     {"mse", r.mse},
                     {"max_abs_error", r.max_abs_error},
                     {"mean_relative_error", r.mean_relative_error},
                     {"snr_db", jnum(r.snr_db)},
                     {"fp32_bytes", r.fp32_bytes},
                     {"quantized_bytes", r.quantized_bytes}});
      return j;
    };
    nlohmann::json j;
    j["model"] = lab.model_text;
    j["bits"] = b;
    j["out"] = o.out;
    j["error_histogram"] = {
        {"layer", w_name}, {"spec", spec_text}, {"step", step}, {"edges", eh.edges}, {"counts", eh.counts}};
    j["snr_vs_bits"] = {{"bits", bits_axis},           {"weights_symmetric", w_sym},
                        {"weights_affine", w_aff},     {"activations_symmetric", a_sym},
                        {"activations_affine", a_aff}, {"activation_layer", a_name}};
    j["activation"] = {{"layer", a_name},
                       {"observer", o.observer},
                       {"min", st.min},
                       {"max", st.max},
                       {"p99", st.p99},
                       {"p9999", st.p9999},
                       {"clip_lo", st.chosen.lo},
                       {"clip_hi", st.chosen.hi},
                       {"clipped_fraction", st.chosen.clipped_fraction},
                       {"edges", ah64.edges},
                       {"counts", ah64.counts}};
    j["weight_errors_int8"] = layer_rows(table8);
    j["weight_errors_int4"] = layer_rows(table4);
    if (!table_b.empty()) j[fmt::format("weight_errors_int{}", b)] = layer_rows(table_b);
    nlohmann::json fj = nlohmann::json::array();
    for (const auto& r : formats)
      fj.push_back({{"format", quant::to_string(r.format)},
                    {"mean_abs_error", r.mean_abs_error},
                    {"max_abs_error", r.max_abs_error},
                    {"mean_relative_error", r.mean_relative_error},
                    {"snr_db", jnum(r.snr_db)},
                    {"out_min", r.out_min},
                    {"out_max", r.out_max},
                    {"weight_bytes", r.weight_bytes}});
    j["formats"] = {{"layer", w_name}, {"rows", fj}};
    nlohmann::json cj = nlohmann::json::array();
    for (size_t i = 0; i < bounds.size(); ++i)
      cj.push_back({{"max_rel_error", bounds[i]},
                    {"found", choices[i].found},
                    {"bits", choices[i].bits},
                    {"relative_error", choices[i].relative_error},
                    {"compression_ratio", choices[i].compression_ratio}});
    j["bitwidth_choices"] = cj;
    j["argmax_flips"] = {{"samples", flips.samples},
                         {"inputs", flips.inputs},
                         {"hidden", flips.hidden},
                         {"classes", flips.classes},
                         {"flips_int8", flips.flips_int8},
                         {"flips_int4", flips.flips_int4},
                         {"mean_top2_gap", flips.mean_top2_gap},
                         {"logit_snr_int8_db", flips.logit_snr_int8_db},
                         {"logit_snr_int4_db", flips.logit_snr_int4_db}};
    fmt::print("{}\n", j.dump());
    return;
  }

  fmt::print("model   {}\n", lab.model_text);
  fmt::print("data    {} calibration batches of 256 {} training examples\n", batches.size(), lab.data.name);
  fmt::print(
      "figures {}/error_hist_int{}.svg, scatter_int{}.svg, snr_vs_bits.svg, activation_hist_int{}.svg\n\n",
      o.out, b, b, b);

  fmt::print("== Quantization error of layer {} weights, {} (step {:.4g}; all within ±step/2) ==\n", w_name,
             spec_text, step);
  fmt::print("{}\n", histogram_table(svg::rebin(eh, 5), "{:+.5f}"));

  fmt::print("== Reconstructed vs original, layer {} weights, {}: the staircase ==\n", w_name, spec_text);
  {
    const auto q = qw.values();
    const int32_t qmax = symmetric(b).qmax();
    fmt::print("  {:>5}  {:>10}  {:>8}  {:>22}\n", "q", "ŵ = s·q", "weights", "original range");
    const int32_t every = std::max(1, (2 * qmax + 1) / 24);  // at most ~25 rows
    for (int32_t level = -qmax; level <= qmax; ++level) {
      if ((level + qmax) % every != 0 && level != qmax) continue;
      size_t n = 0;
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (size_t i = 0; i < q.size(); ++i)
        if (q[i] == level) {
          ++n;
          lo = std::min(lo, wv[i]);
          hi = std::max(hi, wv[i]);
        }
      if (n == 0)
        fmt::print("  {:>5}  {:>+10.5f}  {:>8}\n", level, step * level, 0);
      else
        fmt::print("  {:>5}  {:>+10.5f}  {:>8}  [{:+.5f}, {:+.5f}]\n", level, step * level, n, lo, hi);
    }
    if (every > 1) fmt::print("  (every {}th level shown)\n", every);
  }

  fmt::print("\n== SNR (dB) against bits, min/max ranges per tensor ==\n");
  fmt::print("  {:>4}  {:>14}  {:>14}  {:>16}  {:>16}\n", "bits", "W sym", "W affine", "act sym",
             "act affine");
  for (size_t i = 0; i < bits_axis.size(); ++i)
    fmt::print("  {:>4.0f}  {:>14.2f}  {:>14.2f}  {:>16.2f}  {:>16.2f}\n", bits_axis[i], w_sym[i], w_aff[i],
               a_sym[i], a_aff[i]);
  fmt::print("  (W: layer {} weights; act: inputs of layer {})\n", w_name, a_name);

  fmt::print("\n== Inputs of layer {}: {} observer at uint{} ==\n", a_name, o.observer, b);
  fmt::print("  values {}, min {:.4g}, max {:.4g}, mean {:.4g}, p99 {:.4g}, p99.99 {:.4g}\n", st.count,
             st.min, st.max, st.mean, st.p99, st.p9999);
  fmt::print(
      "  chosen range [{:.4g}, {:.4g}] ({}), clips {:.4f}% of the values, scale {:.4g}, zero point {}\n",
      st.chosen.lo, st.chosen.hi, st.chosen.why, 100.0 * st.chosen.clipped_fraction, st.qparams.scale[0],
      st.qparams.zero_point[0]);
  fmt::print("{}\n", histogram_table(svg::rebin(ah, std::max<size_t>(1, ah.counts.size() / 16)), "{:9.4f}"));

  const auto print_layers = [](const std::vector<quant::LayerError>& rows) {
    fmt::print("  {:<8} {:>12} {:>11} {:>11} {:>9} {:>9} {:>10} {:>10}\n", "layer", "shape", "mse",
               "max |err|", "rel err", "SNR dB", "fp32 B", "stored B");
    for (const auto& r : rows)
      fmt::print("  {:<8} {:>12} {:>11.3e} {:>11.3e} {:>9.4f} {:>9.2f} {:>10} {:>10}\n", r.name,
                 fmt::format("{}x{}", r.shape[0], r.shape[1]), r.mse, r.max_abs_error, r.mean_relative_error,
                 r.snr_db, r.fp32_bytes, r.quantized_bytes);
  };
  fmt::print("== Weight errors per layer, int8 symmetric per-channel ==\n");
  print_layers(table8);
  fmt::print("\n== Weight errors per layer, int4 symmetric per-channel (packed) ==\n");
  print_layers(table4);
  if (!table_b.empty()) {
    fmt::print("\n== Weight errors per layer, int{} symmetric per-channel ==\n", b);
    print_layers(table_b);
  }

  fmt::print("\n== Layer {} in each number format: y = X·Wᵀ against fp32 (X: {} inputs) ==\n", w_name,
             X0.size(0));
  fmt::print("  {:<6} {:>11} {:>11} {:>9} {:>9} {:>21} {:>10}\n", "format", "mean |err|", "max |err|",
             "rel err", "SNR dB", "output range", "W bytes");
  for (const auto& r : formats)
    fmt::print("  {:<6} {:>11.3e} {:>11.3e} {:>9.5f} {:>9} {:>21} {:>10}\n", quant::to_string(r.format),
               r.mean_abs_error, r.max_abs_error, r.mean_relative_error,
               std::isfinite(r.snr_db) ? fmt::format("{:.2f}", r.snr_db) : "inf",
               fmt::format("[{:.3f}, {:.3f}]", r.approx_min, r.approx_max), r.weight_bytes);

  fmt::print("\n== Smallest bit width for layer {} weights (affine per tensor) ==\n", w_name);
  fmt::print("  {:>13}  {:>5}  {:>9}  {:>11}\n", "max rel err", "bits", "rel err", "compression");
  for (size_t i = 0; i < bounds.size(); ++i)
    fmt::print("  {:>13.2f}  {:>5}  {:>9.4f}  {:>10.2f}x\n", bounds[i],
               choices[i].found ? std::to_string(choices[i].bits) : "fp32", choices[i].relative_error,
               choices[i].compression_ratio);

  fmt::print("\n== Argmax flips: random MLP {}-{}-{}, {} inputs, weights only ==\n", flips.inputs,
             flips.hidden, flips.classes, flips.samples);
  fmt::print("  int8: {} of {} predictions change (logit SNR {:.1f} dB)\n", flips.flips_int8, flips.samples,
             flips.logit_snr_int8_db);
  fmt::print("  int4: {} of {} predictions change (logit SNR {:.1f} dB)\n", flips.flips_int4, flips.samples,
             flips.logit_snr_int4_db);
  fmt::print("  mean gap between the two largest fp32 logits: {:.4f}\n", flips.mean_top2_gap);
}

}  // namespace

void register_precision(CLI::App& app) {
  auto o = std::make_shared<PrecisionOptions>();
  CLI::App* cmd = app.add_subcommand(
      "precision",
      "Precision lab: quantization error pictures (SVG) and tables of formats and bit widths on an MLP");
  cmd->add_option("--out", o->out, "Directory for the SVG figures (created if missing)")->required();
  cmd->add_option("--bits", o->bits, "Bit width of the error pictures and the activation range, 2..8")
      ->check(CLI::Range(2, 8))
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
  cmd->add_option("--threads", o->threads, "kernel threads (OpenBLAS and oneDNN); default 1, 0 = all cores")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print every table as one JSON object instead");
  cmd->callback([o] { run_precision(*o); });
}

}  // namespace tinyml::cli
