// `tinyml precision`: the measurements, from the model (loaded or trained here) to the results.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "lab/histogram_bins.hpp"
#include "lab/precision.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli::precision {

using namespace tinyml::train;

namespace {

quant::QuantSpec symmetric(int b) {
  return {b, quant::Scheme::Symmetric, quant::Granularity::PerTensor, 0, true};
}
quant::QuantSpec affine(int b) { return {b, quant::Scheme::Affine, quant::Granularity::PerTensor, 0, false}; }

double snr_at(const Tensor& x, const quant::QuantSpec& spec) {
  return quant::snr_db(x, quant::QTensor::quantize(x, spec).dequantize());
}

struct Lab {
  std::shared_ptr<nn::Sequential> model;
  std::string model_text;
  DataSplits data;
};

// The model of --model, or a small MLP trained here on --dataset, with the training data.
Lab load_or_train(const Options& o) {
  Lab lab;
  if (!o.model.empty()) {
    LoadedModel loaded;
    lab.model = load_sequential(o.model, "precision", &loaded);
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

// The inputs `layer` receives while `model` runs on `batches`, stacked.
Tensor layer_inputs(nn::Module& model, nn::Module& layer, const std::vector<Tensor>& batches) {
  std::vector<Tensor> acts;
  NoGradGuard no_grad;
  nn::HookHandle h = layer.register_forward_pre_hook(
      [&acts](nn::Module&, const Tensor& in) { acts.push_back(in.detach().contiguous()); });
  for (const Tensor& x : batches) model(x);
  h.remove();
  return cat(acts, 0);
}

// The weights on each quantization level of `q` (every `every`th level, and the last).
std::vector<Stair> staircase(const quant::QTensor& q, const std::vector<float>& w, double step, int32_t qmax,
                             int32_t every) {
  const std::vector<int32_t> levels = q.values();
  std::vector<Stair> out;
  for (int32_t level = -qmax; level <= qmax; ++level) {
    if ((level + qmax) % every != 0 && level != qmax) continue;
    Stair s{level, step * level, 0, std::numeric_limits<float>::infinity(),
            -std::numeric_limits<float>::infinity()};
    for (size_t i = 0; i < levels.size(); ++i)
      if (levels[i] == level) {
        ++s.n;
        s.lo = std::min(s.lo, w[i]);
        s.hi = std::max(s.hi, w[i]);
      }
    out.push_back(s);
  }
  return out;
}

// The first layer's weights at r.bits bits, symmetric per tensor: errors and the staircase.
void weight_errors(Results& r, const Tensor& W) {
  const quant::QTensor qw = quant::QTensor::quantize(W, symmetric(r.bits));
  r.step = qw.qparams().scale[0];
  r.w = W.contiguous().to_vector();
  r.w_hat = qw.dequantize().to_vector();
  std::vector<float> err(r.w.size());
  for (size_t i = 0; i < r.w.size(); ++i) err[i] = r.w_hat[i] - r.w[i];
  // Bins of Δ/40 over ±0.75Δ, so that ±Δ/2 fall on bin edges.
  r.error_hist = plot::bin_values(err, -0.75 * r.step, 0.75 * r.step, 60);
  const int32_t qmax = symmetric(r.bits).qmax();
  r.stair_every = std::max(1, (2 * qmax + 1) / 24);  // at most ~25 rows
  r.stairs = staircase(qw, r.w, r.step, qmax, r.stair_every);
}

void snr_sweep(Results& r, const Tensor& W, const Tensor& A) {
  for (int k = 2; k <= 8; ++k) {
    r.bits_axis.push_back(k);
    r.w_sym.push_back(snr_at(W, symmetric(k)));
    r.w_aff.push_back(snr_at(W, affine(k)));
    r.a_sym.push_back(snr_at(A, symmetric(k)));
    r.a_aff.push_back(snr_at(A, affine(k)));
  }
}

void activation_range(Results& r, nn::Module& model, const std::vector<Tensor>& batches) {
  quant::CalibrationConfig cc;
  cc.observer = r.observer;
  cc.spec = affine(r.bits);
  r.act = quant::calibrate(model, batches, cc).at(r.a_name);
  const TrimmedBins t = trim_empty_tail(calibration_bins(r.act), 60);
  r.act_hist = t.bins;
  r.act_hist_figure = plot::rebin(t.bins, t.factor);
}

void tables(Results& r, const nn::Module& model, const Tensor& W, const Tensor& X0, uint64_t seed) {
  r.table8 = quant::weight_error_table(model, 8);
  r.table4 = quant::weight_error_table(model, 4);
  if (r.bits != 8 && r.bits != 4) r.table_b = quant::weight_error_table(model, r.bits);
  for (auto f : {quant::NumberFormat::FP32, quant::NumberFormat::FP16, quant::NumberFormat::BF16,
                 quant::NumberFormat::INT8, quant::NumberFormat::INT4})
    r.formats.push_back(quant::analyze_layer_precision(W, X0, f));
  r.format_inputs = X0.size(0);
  r.bounds = {0.01, 0.02, 0.05, 0.1, 0.2};
  for (double e : r.bounds) r.choices.push_back(quant::find_optimal_bitwidth(W, e));
  Generator flip_gen(seed);
  r.flips = argmax_flip_experiment(flip_gen);
}

}  // namespace

Results compute(const Options& o) {
  Lab lab = load_or_train(o);
  nn::Sequential& model = *lab.model;
  model.eval();
  std::vector<std::pair<std::string, std::shared_ptr<nn::Linear>>> linears;
  for (const auto& [name, m] : model.named_modules())
    if (auto l = std::dynamic_pointer_cast<nn::Linear>(m)) linears.emplace_back(name, l);
  TINYML_CHECK(!linears.empty(), "precision: the model has no Linear layer");
  const auto& [w_name, first] = linears.front();
  const auto& [a_name, act_layer] = linears.size() > 1 ? linears[1] : linears.front();
  const Tensor W = first->weight.detach();

  Results r;
  r.bits = o.bits;
  r.observer = o.observer;
  r.model_text = lab.model_text;
  r.data_name = lab.data.name;
  r.w_name = w_name;
  r.a_name = a_name;
  r.spec_text = fmt::format("int{} symmetric per-tensor", o.bits);
  // Calibration data: the first layer's inputs, and the inputs of the activation layer.
  const std::vector<Tensor> batches = calibration_batches(lab.data.train, o.calib_batches, 256, o.seed);
  r.calib_batches = batches.size();
  const Tensor A = layer_inputs(model, *act_layer, batches);
  weight_errors(r, W);
  snr_sweep(r, W, A);
  activation_range(r, model, batches);
  tables(r, model, W, cat(batches, 0), o.seed);
  return r;
}

}  // namespace tinyml::cli::precision
