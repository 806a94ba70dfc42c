#include "tinyml/quant/quantize_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/sites.hpp"

namespace tinyml::quant {

namespace {

// The fake-quantization error x − ŵ under one (scale, zero point), in the arithmetic of
// quantize_value; the values are known to be finite.
struct RoundTrip {
  float s, inv_scale, zf, lo, hi;
  RoundTrip(float scale, int32_t z, int32_t qmin, int32_t qmax)
      : s(scale),
        inv_scale(1.0f / scale),
        zf(static_cast<float>(z)),
        lo(static_cast<float>(qmin)),
        hi(static_cast<float>(qmax)) {}
  float error(float x) const {
    // round half to even in the default rounding mode
    const float q = std::clamp(std::nearbyint(x * inv_scale) + zf, lo, hi);
    return x - s * (q - zf);
  }
};

// Fake-quantization squared error of `v` under one (scale, zero point).
double squared_error(const std::vector<float>& v, const RoundTrip& rt) {
  double err = 0.0;
  for (const float x : v) {
    const float d = rt.error(x);
    err += static_cast<double>(d) * static_cast<double>(d);
  }
  return err;
}

std::string human_bytes(size_t b) {
  if (b < 1000) return fmt::format("{} B", b);
  if (b < 1000 * 1000) return fmt::format("{:.1f} KB", static_cast<double>(b) / 1e3);
  return fmt::format("{:.2f} MB", static_cast<double>(b) / 1e6);
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

// ---- weight ranges and errors ----

namespace {

// The checks of choose_weight_qparams_mse's arguments; the weight's values, flattened.
std::vector<float> checked_mse_weight(const Tensor& weight, const QuantSpec& spec, int steps, float min_ratio,
                                      const Tensor& input_moment, const ChannelLayout& l, const char* fn) {
  TINYML_CHECK(steps >= 1, "{}: steps must be >= 1, got {}", fn, steps);
  TINYML_CHECK(min_ratio > 0.0f && min_ratio <= 1.0f, "{}: min_ratio must lie in (0, 1], got {}", fn,
               min_ratio);
  std::vector<float> all = weight.to_vector();
  for (size_t t = 0; t < all.size(); ++t)
    TINYML_CHECK(std::isfinite(all[t]), "{}: weight of shape {} holds a non-finite value {} at flat index {}",
                 fn, shape_str(weight.shape()), all[t], t);
  if (!input_moment.defined()) return all;
  TINYML_CHECK(weight.dim() == 2 && l.axis <= 0,
               "{}: input moments weigh a Linear weight (out, in) quantized per tensor or per output "
               "channel (axis 0); got a weight of shape {} and spec {}",
               fn, shape_str(weight.shape()), spec.to_string());
  const int64_t in = weight.shape()[1];
  TINYML_CHECK(input_moment.shape() == Shape({in, in}),
               "{}: the input moment matrix must be (in, in) = ({}, {}) for a weight of shape {}, got {}", fn,
               in, in, shape_str(weight.shape()), shape_str(input_moment.shape()));
  const std::vector<float> m = input_moment.to_vector();
  TINYML_CHECK(std::all_of(m.begin(), m.end(), [](float x) { return std::isfinite(x); }),
               "{}: the input moment matrix ({}) holds a non-finite value", fn,
               shape_str(input_moment.shape()));
  return all;
}

// The values of channel c (every outer block's run of `inner` values), into v.
void gather_channel(const std::vector<float>& all, const ChannelLayout& l, int64_t c, std::vector<float>& v) {
  v.clear();
  for (int64_t o = 0; o < l.outer; ++o) {
    const float* p = all.data() + (o * l.channels + c) * l.inner;
    v.insert(v.end(), p, p + l.inner);
  }
}

// The shrink ratios tried: 1 down to min_ratio in `steps` even steps.
struct RatioGrid {
  int steps;
  float min_ratio;
  float operator()(int k) const {
    return steps == 1 ? 1.0f
                      : 1.0f - (1.0f - min_ratio) * static_cast<float>(k) / static_cast<float>(steps - 1);
  }
};

// Each channel's ratio of least squared error of the weight itself.
void best_ratios_of_weight(const std::vector<float>& all, const ChannelLayout& l, const RatioGrid& ratio,
                           const std::vector<float>& mn, const std::vector<float>& mx, const QuantSpec& one,
                           std::vector<float>& best_r) {
  const int32_t qmin = one.qmin(), qmax = one.qmax();
  std::vector<float> v;
  for (int64_t c = 0; c < l.channels; ++c) {
    gather_channel(all, l, c, v);
    const auto cu = static_cast<size_t>(c);
    double best = std::numeric_limits<double>::infinity();
    for (int k = 0; k < ratio.steps; ++k) {
      const float r = ratio(k);
      const QParams qp = choose_qparams(r * mn[cu], r * mx[cu], one);
      const double err = squared_error(v, RoundTrip(qp.scale[0], qp.zero_point[0], qmin, qmax));
      if (err < best) {  // strict: a tie keeps the wider range found first
        best = err;
        best_r[cu] = r;
      }
    }
  }
}

// The ratios of least error the weight causes in the output: for a row error d = w − ŵ and inputs
// x, E[(d·x)²] = d M dᵀ with M = E[x xᵀ]. Rows are independent, so each output channel takes the
// ratio of least d M dᵀ; per tensor, the ratio of least total.
void best_ratios_of_output(const std::vector<float>& all, const Shape& wshape, const ChannelLayout& l,
                           const RatioGrid& ratio, const std::vector<float>& mn, const std::vector<float>& mx,
                           const QuantSpec& one, const Tensor& input_moment, std::vector<float>& best_r) {
  const int64_t out = wshape[0], in = wshape[1];
  const int32_t qmin = one.qmin(), qmax = one.qmax();
  const Tensor moment = input_moment.contiguous();
  std::vector<float> d(all.size()), dm(all.size());
  std::vector<double> best(static_cast<size_t>(out), std::numeric_limits<double>::infinity());
  double best_total = std::numeric_limits<double>::infinity();
  for (int k = 0; k < ratio.steps; ++k) {
    const float r = ratio(k);
    for (int64_t c = 0; c < l.channels; ++c) {
      const QParams qp = choose_qparams(r * mn[static_cast<size_t>(c)], r * mx[static_cast<size_t>(c)], one);
      const RoundTrip rt(qp.scale[0], qp.zero_point[0], qmin, qmax);
      const int64_t row0 = l.channels == 1 ? 0 : c, rows = l.channels == 1 ? out : 1;
      for (int64_t i = row0 * in; i < (row0 + rows) * in; ++i)
        d[static_cast<size_t>(i)] = rt.error(all[static_cast<size_t>(i)]);
    }
    kernels::sgemm(false, false, out, in, in, 1.0f, d.data(), in, moment.data(), in, 0.0f, dm.data(), in);
    double total = 0.0;
    for (int64_t o = 0; o < out; ++o) {
      double e = 0.0;
      for (int64_t i = o * in; i < (o + 1) * in; ++i)
        e += static_cast<double>(dm[static_cast<size_t>(i)]) * static_cast<double>(d[static_cast<size_t>(i)]);
      total += e;
      if (l.channels > 1 && e < best[static_cast<size_t>(o)]) {
        best[static_cast<size_t>(o)] = e;
        best_r[static_cast<size_t>(o)] = r;
      }
    }
    if (l.channels == 1 && total < best_total) {
      best_total = total;
      best_r[0] = r;
    }
  }
}

}  // namespace

QParams choose_weight_qparams_mse(const Tensor& weight, const QuantSpec& spec, int steps, float min_ratio,
                                  const Tensor& input_moment) {
  constexpr const char* fn = "choose_weight_qparams_mse";
  spec.validate(fn);
  TINYML_CHECK(weight.defined() && weight.numel() > 0, "{}: needs a non-empty weight, got shape {}", fn,
               weight.defined() ? shape_str(weight.shape()) : std::string("undefined"));
  const ChannelLayout l = channel_layout(weight.shape(), spec, fn);
  const std::vector<float> all = checked_mse_weight(weight, spec, steps, min_ratio, input_moment, l, fn);
  QuantSpec one = spec;  // the per-range formula of choose_qparams, applied channel by channel
  one.granularity = Granularity::PerTensor;

  // Each channel's whole range, widened to include 0.
  std::vector<float> mn(static_cast<size_t>(l.channels)), mx(mn.size()), v;
  for (int64_t c = 0; c < l.channels; ++c) {
    gather_channel(all, l, c, v);
    const auto [mn_it, mx_it] = std::minmax_element(v.begin(), v.end());
    mn[static_cast<size_t>(c)] = std::min(*mn_it, 0.0f);
    mx[static_cast<size_t>(c)] = std::max(*mx_it, 0.0f);
  }
  std::vector<float> best_r(mn.size(), 1.0f);
  const RatioGrid ratio{steps, min_ratio};
  if (input_moment.defined())
    best_ratios_of_output(all, weight.shape(), l, ratio, mn, mx, one, input_moment, best_r);
  else
    best_ratios_of_weight(all, l, ratio, mn, mx, one, best_r);

  std::vector<float> los(mn.size()), his(mn.size());
  for (size_t c = 0; c < mn.size(); ++c) {
    los[c] = best_r[c] * mn[c];
    his[c] = best_r[c] * mx[c];
  }
  if (spec.granularity == Granularity::PerTensor) return choose_qparams(los[0], his[0], spec);
  return choose_qparams(std::span<const float>(los), std::span<const float>(his), spec);
}

// ---- quantize_model ----

namespace {

void check_quant_config(const QuantConfig& config, const std::vector<Tensor>& calibration_batches,
                        const char* fn) {
  TINYML_CHECK(config.weight_range == "minmax" || config.weight_range == "mse",
               "{}: weight_range must be 'minmax' or 'mse', got '{}'", fn, config.weight_range);
  config.weight_spec.validate(fn);
  if (config.mode != QuantMode::Static) return;
  config.activation_spec.validate(fn);
  TINYML_CHECK(
      config.activation_spec.granularity == Granularity::PerTensor,
      "{}: static mode quantizes each input with one scale, so the activation spec must be per tensor, "
      "got {}",
      fn, config.activation_spec.to_string());
  TINYML_CHECK(!calibration_batches.empty(),
               "{}: static mode needs calibration batches (got none) to choose "
               "each Linear's input range",
               fn);
}

// The report row of a Linear as it is before quantization (a skipped layer keeps it).
LayerReport float_layer_row(const Site& s, const nn::Linear& lin) {
  LayerReport r;
  r.name = s.name;
  r.in_features = lin.in_features();
  r.out_features = lin.out_features();
  r.bytes_before =
      static_cast<size_t>(lin.weight.numel() + (lin.has_bias() ? lin.bias.numel() : 0)) * sizeof(float);
  r.act_lo = r.act_hi = std::numeric_limits<float>::quiet_NaN();
  r.kind = "Linear (skipped)";
  r.bytes_after = r.bytes_before;
  r.weight_snr_db = std::numeric_limits<double>::quiet_NaN();
  r.weight_spec = "fp32";
  return r;
}

// The QuantizedLinear that replaces the Linear at `s`, and its row of the report.
std::shared_ptr<QuantizedLinear> build_layer(const Site& s, const QuantConfig& config,
                                             const CalibrationResult& calib, bool output_mse, LayerReport& r,
                                             const char* fn) {
  const nn::Linear& lin = *s.as<nn::Linear>();
  const bool is_static = config.mode == QuantMode::Static;
  std::optional<QParams> wq;
  if (config.weight_range == "mse")
    wq = choose_weight_qparams_mse(lin.weight.detach(), config.weight_spec, 100, 0.3f,
                                   output_mse ? calib.at(s.name).input_moment : Tensor());
  std::optional<QParams> iq;
  if (is_static) {
    const LayerStats& st = calib.at(s.name);
    iq = st.qparams;
    r.act_lo = st.chosen.lo;
    r.act_hi = st.chosen.hi;
    r.observer = st.observer;
  }
  const bool fuse = is_static && config.fuse_relu && !s.relu_child.empty();
  std::shared_ptr<QuantizedLinear> q;
  try {
    q = QuantizedLinear::from_float(lin, config.weight_spec, config.mode, iq, fuse, wq);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: layer '{}' ({}): {}", fn, s.name, lin.extra_repr(), e.what()));
  }
  r.kind = fmt::format("QuantizedLinear({}{})", to_string(config.mode), fuse ? "+relu" : "");
  r.bytes_after = q->memory_usage().total();
  r.weight_snr_db = snr_db(lin.weight.detach(), q->unpacked_weight().dequantize());
  r.weight_spec = config.weight_spec.to_string() + (output_mse                     ? " output-mse"
                                                    : config.weight_range == "mse" ? " mse"
                                                                                   : "");
  return q;
}

}  // namespace

QuantReport quantize_model(nn::Sequential& model, const QuantConfig& config,
                           const std::vector<Tensor>& calibration_batches) {
  constexpr const char* fn = "quantize_model";
  check_quant_config(config, calibration_batches, fn);
  const bool is_static = config.mode == QuantMode::Static;
  const std::vector<Site> sites = sites_of<nn::Linear>(model);
  TINYML_CHECK(!sites.empty(), "{}: the model holds no Linear layer to quantize", fn);
  const std::set<std::string> skipped = resolve_skip(config.skip, sites, fn);

  // Static mode needs each input's range; MSE clipping with data weighs weight errors by each
  // input's second moments. One calibration pass gathers what is needed.
  const bool output_mse = config.weight_range == "mse" && !calibration_batches.empty();
  CalibrationResult calib;
  if (is_static || output_mse) {
    CalibrationConfig cc;
    cc.observer = is_static ? config.observer : "minmax";
    cc.spec = config.activation_spec;
    cc.observe_inputs = true;
    cc.input_moments = output_mse;
    calib = calibrate(model, calibration_batches, cc);
  }

  QuantReport report;
  report.bytes_before = model_bytes(model);
  // Every replacement is built before any is put in place, so an error leaves the model as it was.
  std::vector<std::shared_ptr<QuantizedLinear>> built(sites.size());
  for (size_t i = 0; i < sites.size(); ++i) {
    LayerReport r = float_layer_row(sites[i], *sites[i].as<nn::Linear>());
    if (skipped.count(sites[i].name) == 0) built[i] = build_layer(sites[i], config, calib, output_mse, r, fn);
    report.layers.push_back(std::move(r));
  }

  // BEGIN SOLUTION 08: quantize_model: put each built layer in place via its parent (fused ReLU: Identity)
  for (size_t i = 0; i < sites.size(); ++i) {
    if (!built[i]) continue;
    sites[i].parent->replace_module(sites[i].child_name, built[i]);
    if (built[i]->fused_relu())
      sites[i].parent->replace_module(sites[i].relu_child, std::make_shared<nn::Identity>());
  }
  // END SOLUTION
  report.bytes_after = model_bytes(model);
  return report;
}

std::string QuantReport::table() const {
  size_t wn = 5, wk = 11;
  for (const LayerReport& l : layers) {
    wn = std::max(wn, l.name.size());
    wk = std::max(wk, l.kind.size());
  }
  // The last column is not padded, so no line ends in spaces.
  std::string out =
      fmt::format("{:<{}}  {:<{}}  {:>11}  {:>10}  {:>10}  {:>7}  {:>21}  {:<10}  {}\n", "layer", wn, "kind",
                  wk, "in -> out", "before", "after", "SNR dB", "input range", "observer", "weight spec");
  size_t before = 0, after = 0;
  for (const LayerReport& l : layers) {
    const std::string snr = std::isnan(l.weight_snr_db)   ? "-"
                            : std::isinf(l.weight_snr_db) ? (l.weight_snr_db > 0 ? "inf" : "-inf")
                                                          : fmt::format("{:.1f}", l.weight_snr_db);
    const std::string range =
        std::isnan(l.act_lo) ? "-" : fmt::format("[{:.4g}, {:.4g}]", l.act_lo, l.act_hi);
    out += fmt::format("{:<{}}  {:<{}}  {:>11}  {:>10}  {:>10}  {:>7}  {:>21}  {:<10}  {}\n", l.name, wn,
                       l.kind, wk, fmt::format("{} -> {}", l.in_features, l.out_features),
                       human_bytes(l.bytes_before), human_bytes(l.bytes_after), snr, range,
                       l.observer.empty() ? "-" : l.observer, l.weight_spec);
    before += l.bytes_before;
    after += l.bytes_after;
  }
  out += fmt::format(
      "{:<{}}  {:<{}}  {:>11}  {:>10}  {:>10}  ratio {:.3f} (Linear layers {} -> {})\n", "total", wn,
      "whole model", wk, "", human_bytes(bytes_before), human_bytes(bytes_after),
      bytes_before == 0 ? 0.0 : static_cast<double>(bytes_after) / static_cast<double>(bytes_before),
      human_bytes(before), human_bytes(after));
  return out;
}

nlohmann::json QuantReport::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const LayerReport& l : layers) {
    layers_json.push_back({{"name", l.name},
                           {"kind", l.kind},
                           {"in_features", l.in_features},
                           {"out_features", l.out_features},
                           {"bytes_before", l.bytes_before},
                           {"bytes_after", l.bytes_after},
                           {"weight_snr_db", number_or_null(l.weight_snr_db)},
                           {"act_lo", number_or_null(l.act_lo)},
                           {"act_hi", number_or_null(l.act_hi)},
                           {"observer", l.observer},
                           {"weight_spec", l.weight_spec}});
  }
  const double ratio = bytes_before == 0
                           ? std::numeric_limits<double>::quiet_NaN()
                           : static_cast<double>(bytes_after) / static_cast<double>(bytes_before);
  return {{"layers", layers_json},
          {"bytes_before", bytes_before},
          {"bytes_after", bytes_after},
          {"ratio", number_or_null(ratio)}};
}

// ---- sizes ----

size_t model_bytes(const nn::Module& model) {
  // BEGIN SOLUTION 08: model_bytes: 4 bytes per fp32 parameter/buffer (each once) + QuantizedLinear memory
  size_t total = 0;
  std::set<const TensorImpl*> counted;
  const auto count_tensor = [&](const Tensor& t) {
    if (t.defined() && counted.insert(t.impl().get()).second)
      total += static_cast<size_t>(t.numel()) * sizeof(float);
  };
  for (const auto& [name, t] : model.named_parameters(/*recurse=*/true)) count_tensor(t);
  for (const auto& [name, t] : model.named_buffers(/*recurse=*/true)) count_tensor(t);
  // QuantizedLinear registers no parameters or buffers: its integer storage is counted here.
  std::set<const nn::Module*> seen;
  std::vector<const nn::Module*> stack{&model};
  while (!stack.empty()) {
    const nn::Module* m = stack.back();
    stack.pop_back();
    if (!seen.insert(m).second) continue;
    if (const auto* q = dynamic_cast<const QuantizedLinear*>(m)) total += q->memory_usage().total();
    for (const auto& [name, child] : m->named_children()) stack.push_back(child.get());
  }
  return total;
  // END SOLUTION
}

std::string SizeComparison::to_string() const {
  return fmt::format("{} -> {} ({:.3f}x, {:.2f}x smaller)", human_bytes(a_bytes), human_bytes(b_bytes), ratio,
                     ratio > 0.0 ? 1.0 / ratio : 0.0);
}

SizeComparison compare_model_sizes(const nn::Module& a, const nn::Module& b) {
  SizeComparison c;
  c.a_bytes = model_bytes(a);
  c.b_bytes = model_bytes(b);
  TINYML_CHECK(c.a_bytes > 0,
               "compare_model_sizes: the first model holds no bytes (no parameters), so there is no "
               "ratio to take");
  c.ratio = static_cast<double>(c.b_bytes) / static_cast<double>(c.a_bytes);
  return c;
}

}  // namespace tinyml::quant
