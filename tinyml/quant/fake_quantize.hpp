// Fake quantization for quantization-aware training: the differentiable x̂ op and the FakeQuantize module.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

// x̂ = (clamp(round_half_even(x·(1/s)) + z, qmin, qmax) − z) · s, per tensor or per channel along
// qp.spec.axis: the same numbers as fake_quantize(x, qp), but differentiable.
// Backward is the straight-through estimator: rounding is treated as the identity, so the gradient
// passes unchanged where round_half_even(x·(1/s)) + z lies inside [qmin, qmax] and is zero where the
// value was clamped — the mask of PyTorch's fake_quantize_per_tensor_affine / _per_channel_affine.
// The inverse scale is taken in float32, as PyTorch 1.13 and quantize_value do, so the integers are
// PyTorch's, ties included. NaN inputs throw; ±Inf clamp to the ends.
Tensor fake_quantize_ste(const Tensor& x, const QParams& qp);

// A module that fake-quantizes what passes through it, as used by quantization-aware training.
// In training mode, with the observer enabled, every forward first shows its input to the observer
// and takes fresh qparams from it; in eval mode (or with the observer disabled) the qparams stay
// frozen at the last ones chosen. With fake quantization disabled the input passes unchanged.
class FakeQuantize : public nn::Module {
 public:
  // `observer` is a make_observer() name that suits the spec (per-channel specs need
  // "per-channel-minmax"). `accumulate`: true keeps what the observer saw across forwards (an
  // activation's range, e.g. a moving average over batches); false resets the observer before
  // each observation, so the qparams follow the tensor as it is now (a weight, which the
  // optimizer moves at every step and whose old values no longer matter).
  explicit FakeQuantize(const QuantSpec& spec, const std::string& observer = "moving-average",
                        bool accumulate = true);
  // Activations: per-tensor spec, moving average of batch min/max (as PyTorch's default QAT qconfig).
  static std::shared_ptr<FakeQuantize> for_activation(const QuantSpec& spec = QuantSpec::int8_affine());
  // Weights: min/max of the current weight, per channel ("per-channel-minmax") or per tensor ("minmax").
  static std::shared_ptr<FakeQuantize> for_weight(
      const QuantSpec& spec = QuantSpec::int8_symmetric_per_channel(0));

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "FakeQuantize"; }
  std::string extra_repr() const override;

  void enable_observer(bool on = true) { observer_enabled_ = on; }
  void enable_fake_quant(bool on = true) { fake_quant_enabled_ = on; }
  bool observer_enabled() const { return observer_enabled_; }
  bool fake_quant_enabled() const { return fake_quant_enabled_; }
  bool accumulates() const { return accumulate_; }

  // Shows `x` to the observer and takes fresh qparams from it, in any mode and even with the
  // observer disabled (e.g. to give a weight its qparams before the first training step).
  void observe(const Tensor& x);
  // True once qparams were observed (or set).
  bool has_qparams() const { return qparams_.has_value(); }
  // The qparams forward uses now; throws if nothing was observed yet.
  const QParams& qparams() const;
  // Freezes given qparams (e.g. from calibration); they must match the spec. Observation in
  // training mode replaces them again unless the observer is disabled.
  void set_qparams(const QParams& qp);
  const QuantSpec& spec() const { return spec_; }
  const Observer& observer() const { return *observer_; }
  // Forgets what was observed and the qparams.
  void reset();

 private:
  QuantSpec spec_;
  std::unique_ptr<Observer> observer_;
  bool accumulate_;
  bool observer_enabled_ = true;
  bool fake_quant_enabled_ = true;
  std::optional<QParams> qparams_;
};

}  // namespace tinyml::quant
