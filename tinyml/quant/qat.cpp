#include "tinyml/quant/qat.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/quant/sites.hpp"

namespace tinyml::quant {

namespace {

void check_config(const QuantConfig& config, const char* fn) {
  config.weight_spec.validate(fn);
  config.activation_spec.validate(fn);
  TINYML_CHECK(
      config.mode == QuantMode::Static,
      "{}: QAT trains the activation ranges that a static QuantizedLinear uses, so config.mode must be "
      "static, got {} (qat_config(bits) sets it)",
      fn, to_string(config.mode));
  TINYML_CHECK(
      config.weight_range == "minmax",
      "{}: QAT follows each weight's min/max at every step; weight_range must be \"minmax\", got \"{}\"", fn,
      config.weight_range);
  TINYML_CHECK(config.activation_spec.granularity == Granularity::PerTensor,
               "{}: activations are quantized per tensor, got activation spec {}", fn,
               config.activation_spec.to_string());
  TINYML_CHECK(
      config.weight_spec.granularity == Granularity::PerTensor || config.weight_spec.axis == 0,
      "{}: a per-channel weight spec must use axis 0 (the output channel of a Linear weight), got {}", fn,
      config.weight_spec.to_string());
  make_observer(config.observer, config.activation_spec);  // an unknown name throws here
}

// The same integers and scales in signed storage, which QuantizedLinear's integer path needs:
// signed weights are kept as they are (2..4 bits stay packed, two per byte); unsigned b-bit
// values move into the signed b-bit range by −2^(b−1) together with their zero points, which
// leaves every q − z, hence every dequantized value, as it was.
QTensor as_signed_weight(const QTensor& w) {
  const QuantSpec& spec = w.spec();
  if (spec.signed_range()) return w;
  QParams qp = w.qparams();
  qp.spec.is_signed = true;
  const int32_t shift = -(1 << (spec.bits - 1));
  std::vector<int32_t> v = w.values();
  for (int32_t& q : v) q += shift;
  for (int32_t& z : qp.zero_point) z += shift;
  return QTensor::from_values(v, w.shape(), qp);
}

}  // namespace

QuantConfig qat_config(int bits) {
  QuantConfig c;
  c.weight_spec = QuantSpec{bits, Scheme::Symmetric, Granularity::PerChannel, 0, true};
  c.activation_spec = QuantSpec{bits, Scheme::Affine, Granularity::PerTensor, 0, false};
  c.weight_spec.validate("qat_config");
  c.mode = QuantMode::Static;
  c.observer = "moving-average";
  c.weight_range = "minmax";
  return c;
}

// ---------------------------------------------------------------------------------------------
// QatLinear

QatLinear::QatLinear(std::shared_ptr<nn::Linear> linear, std::shared_ptr<FakeQuantize> input_fake_quant,
                     std::shared_ptr<FakeQuantize> weight_fake_quant)
    : linear_(std::move(linear)),
      input_fq_(std::move(input_fake_quant)),
      weight_fq_(std::move(weight_fake_quant)) {
  TINYML_CHECK(linear_ != nullptr, "QatLinear: got a null Linear");
  TINYML_CHECK(input_fq_ != nullptr && weight_fq_ != nullptr, "QatLinear: got a null FakeQuantize");
  TINYML_CHECK(input_fq_->spec().granularity == Granularity::PerTensor,
               "QatLinear: the input is quantized per tensor, got input spec {}",
               input_fq_->spec().to_string());
  // The same tensor handles: registering keeps the storage and the autograd leaf.
  weight = register_parameter("weight", linear_->weight, linear_->weight.requires_grad());
  bias = register_parameter("bias", linear_->bias, linear_->bias.defined() && linear_->bias.requires_grad());
  register_module("input_fake_quant", input_fq_);
  register_module("weight_fake_quant", weight_fq_);
  // The weight is known now: with qparams from the start, the layer also runs in eval mode before
  // any training step (e.g. to measure accuracy straight after prepare_qat and calibration).
  weight_fq_->observe(weight);
  train(linear_->is_training());
}

QatLinear::QatLinear(std::shared_ptr<nn::Linear> linear, const QuantConfig& config)
    : QatLinear(
          std::move(linear),
          [&config] {
            check_config(config, "QatLinear");
            return std::make_shared<FakeQuantize>(config.activation_spec, config.observer, true);
          }(),
          FakeQuantize::for_weight(config.weight_spec)) {}

Tensor QatLinear::forward(const Tensor& input) {
  TINYML_CHECK(input.defined(), "QatLinear::forward: got an undefined input");
  TINYML_CHECK(input.dim() >= 1 && input.size(-1) == in_features(),
               "QatLinear::forward: expected an input of shape (..., {}), got {}", in_features(),
               shape_str(input.shape()));
  const Tensor x = (*input_fq_)(input);
  const Tensor w = (*weight_fq_)(weight);
  const Tensor b = fake_quantized_bias();
  if (x.dim() == 2) return tinyml::linear(x, w, b);
  // As nn::Linear: fold every leading dimension into N (none for a 1-D input).
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(out_features());
  return tinyml::linear(x.reshape({x.numel() / in_features(), in_features()}), w, b).reshape(out_shape);
}

Tensor QatLinear::fake_quantized_bias() const {
  if (!bias.defined() || !input_fq_->fake_quant_enabled() || !weight_fq_->fake_quant_enabled() ||
      !input_fq_->has_qparams() || !weight_fq_->has_qparams())
    return bias;
  const float s_x = input_fq_->qparams().scale[0];
  const std::vector<float>& s_w = weight_fq_->qparams().scale;
  const std::vector<float> b = bias.detach().to_vector();
  std::vector<float> delta(b.size());
  for (size_t j = 0; j < b.size(); ++j) {
    // In double, as QuantizedLinear rounds its int32 bias (float would lose integer steps past 2^24).
    const double step = static_cast<double>(s_x) * static_cast<double>(s_w[s_w.size() == 1 ? 0 : j]);
    // Ties to even (nearbyint in the default rounding mode), saturated to int32 as QuantizedLinear does.
    const double q = std::clamp(std::nearbyint(static_cast<double>(b[j]) / step),
                                static_cast<double>(std::numeric_limits<int32_t>::min()),
                                static_cast<double>(std::numeric_limits<int32_t>::max()));
    delta[j] = static_cast<float>(q * step) - b[j];
  }
  // b + (b̂ − b) with the difference a constant: the value is b̂, the gradient reaches b unchanged
  // (the int32 range never clamps, so the straight-through mask is all ones).
  return bias + Tensor::from_vector(delta, bias.shape());
}

std::string QatLinear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features(), out_features(),
                     bias.defined() ? "True" : "False");
}

// ---------------------------------------------------------------------------------------------
// prepare / convert

std::vector<std::string> prepare_qat(nn::Module& model, const QuantConfig& config) {
  constexpr const char* fn = "prepare_qat";
  check_config(config, fn);
  const auto sites = sites_of<nn::Linear>(model);
  TINYML_CHECK(!sites.empty(), "{}: the {} holds no Linear layer", fn, model.type_name());
  const std::set<std::string> skipped = resolve_skip(config.skip, sites, fn);
  TINYML_CHECK(skipped.size() < sites.size(), "{}: every Linear layer ({}) is skipped; nothing to prepare",
               fn, sites.size());

  // Build every replacement before touching the tree, so a throw leaves the model as it was.
  std::vector<std::pair<const Site*, nn::ModulePtr>> plan;
  for (const auto& s : sites)
    if (skipped.count(s.name) == 0)
      plan.emplace_back(&s, std::make_shared<QatLinear>(s.as<nn::Linear>(), config));
  std::vector<std::string> done;
  for (auto& [s, m] : plan) {
    s->parent->replace_module(s->child_name, m);
    done.push_back(s->name);
  }
  return done;
}

std::vector<std::string> convert(nn::Module& model, bool fuse_relu) {
  constexpr const char* fn = "convert";
  const auto sites = sites_of<QatLinear>(model);
  TINYML_CHECK(!sites.empty(), "{}: the {} holds no QatLinear (run prepare_qat first)", fn,
               model.type_name());

  std::vector<std::pair<const Site*, std::shared_ptr<QuantizedLinear>>> plan;
  for (const auto& s : sites) {
    const QatLinear& q = *s.as<QatLinear>();
    TINYML_CHECK(
        q.input_fake_quant().has_qparams(),
        "{}: QatLinear '{}' has not seen any input yet, so it has no activation range; run training (or "
        "calibration) forward passes in training mode before converting",
        fn, s.name);
    const bool fuse = fuse_relu && !s.relu_child.empty();
    const QTensor w = as_signed_weight(QTensor::quantize(q.weight.detach(), q.weight_fake_quant().qparams()));
    auto ql = QuantizedLinear::from_parts(w, q.bias.defined() ? q.bias.detach() : Tensor(), QuantMode::Static,
                                          q.input_fake_quant().qparams(), fuse);
    ql->train(q.is_training());
    plan.emplace_back(&s, std::move(ql));
  }
  std::vector<std::string> done;
  for (auto& [s, ql] : plan) {
    s->parent->replace_module(s->child_name, ql);
    if (ql->fused_relu()) s->parent->replace_module(s->relu_child, std::make_shared<nn::Identity>());
    done.push_back(s->name);
  }
  return done;
}

namespace {
int for_each_fake_quant(nn::Module& model, const std::function<void(FakeQuantize&)>& f) {
  int n = 0;
  for (const auto& [name, m] : model.named_modules())
    if (auto fq = std::dynamic_pointer_cast<FakeQuantize>(m)) {
      f(*fq);
      ++n;
    }
  return n;
}
}  // namespace

int enable_observers(nn::Module& model, bool on) {
  return for_each_fake_quant(model, [on](FakeQuantize& fq) { fq.enable_observer(on); });
}

int enable_fake_quant(nn::Module& model, bool on) {
  return for_each_fake_quant(model, [on](FakeQuantize& fq) { fq.enable_fake_quant(on); });
}

void observe_ranges(nn::Module& model, const std::vector<Tensor>& batches) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.train();
  for (const Tensor& b : batches) model(b);
  model.train(was_training);
}

}  // namespace tinyml::quant
