#include "tinyml/quant/fake_quantize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml::quant {

Tensor fake_quantize_ste(const Tensor& x, const QParams& qp) {
  // BEGIN SOLUTION 09: fake_quantize_ste: x_hat and a backward that passes the gradient where not clamped
  constexpr const char* fn = "fake_quantize_ste";
  TINYML_CHECK(x.defined(), "{}: got an undefined tensor", fn);
  validate_qparams(qp, x.shape(), fn);
  const ChannelLayout l = channel_layout(x.shape(), qp.spec, fn);
  const auto qmin = static_cast<float>(qp.spec.qmin());
  const auto qmax = static_cast<float>(qp.spec.qmax());

  Tensor src;
  {
    NoGradGuard no_grad;  // only the values are read here; the graph is recorded below
    src = x.detach().contiguous();
  }
  const float* in = src.data();
  Tensor out = Tensor::empty(x.shape());
  // The mask is only needed by backward; skip it when no graph will be recorded.
  const bool need_mask = autograd::any_requires_grad({&x});
  Tensor mask = need_mask ? Tensor::empty(x.shape()) : Tensor();
  float* po = out.data();
  float* pm = need_mask ? mask.data() : nullptr;

  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c) {
      const auto k = static_cast<size_t>(qp.per_channel() ? c : 0);
      const float s = qp.scale[k];
      const float inv_scale = 1.0f / s;  // in float32, as quantize_value and PyTorch take it
      const auto z = static_cast<float>(qp.zero_point[k]);
      const int64_t start = (o * l.channels + c) * l.inner;
      for (int64_t i = start; i < start + l.inner; ++i) {
        const float v = in[i];
        TINYML_CHECK(!std::isnan(v), "{}: tensor of shape {} holds NaN at flat index {}", fn,
                     shape_str(x.shape()), i);
        // Computed in float exactly as quantize_value does, so that x̂ equals what QTensor and
        // QuantizedLinear produce from the same qparams.
        const float q = round_half_even(v * inv_scale) + z;
        const float qc = std::clamp(q, qmin, qmax);
        po[i] = s * (qc - z);
        if (pm) pm[i] = (q >= qmin && q <= qmax) ? 1.0f : 0.0f;
      }
    }

  if (!need_mask) return out;
  return autograd::record(out, "FakeQuantizeSteBackward0", {x},
                          [](autograd::Node& self, const Tensor& grad) -> std::vector<Tensor> {
                            return {mul(grad, self.saved[0])};
                          },
                          {mask});
  // END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// FakeQuantize

FakeQuantize::FakeQuantize(const QuantSpec& spec, const std::string& observer, bool accumulate)
    : spec_(spec), observer_(make_observer(observer, spec)), accumulate_(accumulate) {}

std::shared_ptr<FakeQuantize> FakeQuantize::for_activation(const QuantSpec& spec) {
  TINYML_CHECK(spec.granularity == Granularity::PerTensor,
               "FakeQuantize::for_activation: activations are quantized per tensor, got spec {}",
               spec.to_string());
  return std::make_shared<FakeQuantize>(spec, "moving-average", true);
}

std::shared_ptr<FakeQuantize> FakeQuantize::for_weight(const QuantSpec& spec) {
  const bool per_channel = spec.granularity == Granularity::PerChannel;
  return std::make_shared<FakeQuantize>(spec, per_channel ? "per-channel-minmax" : "minmax", false);
}

Tensor FakeQuantize::forward(const Tensor& input) {
  // BEGIN SOLUTION 09: FakeQuantize::forward: observe in training (observer on), then fake-quantize
  TINYML_CHECK(input.defined(), "FakeQuantize::forward: got an undefined tensor");
  if (is_training() && observer_enabled_) observe(input);
  if (!fake_quant_enabled_) return input;
  TINYML_CHECK(
      qparams_.has_value(),
      "FakeQuantize::forward: no qparams yet ({}): run it in training mode with the observer enabled "
      "first, or set_qparams()",
      spec_.to_string());
  return fake_quantize_ste(input, *qparams_);
  // END SOLUTION
}

void FakeQuantize::observe(const Tensor& x) {
  TINYML_CHECK(x.defined(), "FakeQuantize::observe: got an undefined tensor");
  if (!accumulate_) observer_->reset();
  observer_->observe(x.detach());  // throws on NaN/Inf or an empty tensor
  qparams_ = observer_->qparams();
}

std::string FakeQuantize::extra_repr() const {
  std::string s = fmt::format("{}, observer={}{}, observer_enabled={}, fake_quant_enabled={}",
                              spec_.to_string(), observer_->name(), accumulate_ ? "" : " (current tensor)",
                              observer_enabled_, fake_quant_enabled_);
  if (qparams_ && !qparams_->per_channel())
    s += fmt::format(", scale={:.6g}, zero_point={}", qparams_->scale[0], qparams_->zero_point[0]);
  else if (qparams_)
    s += fmt::format(", channels={}", qparams_->channels());
  return s;
}

const QParams& FakeQuantize::qparams() const {
  TINYML_CHECK(qparams_.has_value(),
               "FakeQuantize::qparams: nothing observed yet ({}); run a forward pass in training mode first",
               spec_.to_string());
  return *qparams_;
}

void FakeQuantize::set_qparams(const QParams& qp) {
  TINYML_CHECK(qp.spec == spec_, "FakeQuantize::set_qparams: qparams are for {}, this FakeQuantize uses {}",
               qp.spec.to_string(), spec_.to_string());
  TINYML_CHECK(!qp.scale.empty() && qp.scale.size() == qp.zero_point.size() &&
                   (qp.per_channel() || qp.scale.size() == 1),
               "FakeQuantize::set_qparams: got {} scale(s) and {} zero point(s) for {}", qp.scale.size(),
               qp.zero_point.size(), spec_.to_string());
  for (size_t c = 0; c < qp.scale.size(); ++c) {
    TINYML_CHECK(std::isfinite(qp.scale[c]) && qp.scale[c] > 0.0f,
                 "FakeQuantize::set_qparams: scale[{}] = {} must be finite and > 0", c, qp.scale[c]);
    TINYML_CHECK(qp.zero_point[c] >= spec_.qmin() && qp.zero_point[c] <= spec_.qmax(),
                 "FakeQuantize::set_qparams: zero_point[{}] = {} outside [{}, {}]", c, qp.zero_point[c],
                 spec_.qmin(), spec_.qmax());
  }
  qparams_ = qp;
}

void FakeQuantize::reset() {
  observer_->reset();
  qparams_.reset();
}

}  // namespace tinyml::quant
