// Quantization parameters: QuantSpec (bits, scheme, granularity), QParams and choose_qparams.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml::quant {

enum class Scheme { Affine, Symmetric };
enum class Granularity { PerTensor, PerChannel };

// The names of the schemes and granularities, one table for QuantSpec::to_string, model files,
// DOT pictures and the command line.
const char* to_string(Scheme scheme);            // "affine", "symmetric"
const char* to_string(Granularity granularity);  // "per-tensor", "per-channel"
// The inverses; any other name throws an Error that lists the names.
Scheme parse_scheme(const std::string& name);
Granularity parse_granularity(const std::string& name);
// Every name, in enum order: the choices of a command-line option.
std::vector<std::string> scheme_names();
std::vector<std::string> granularity_names();

// What to quantize to. Affine: q = clamp(round_half_even(x·(1/s)) + z, qmin, qmax).
// Symmetric: z = 0, restricted range [-qmax, qmax] (always signed).
struct QuantSpec {
  int bits = 8;  // 2..8
  Scheme scheme = Scheme::Affine;
  Granularity granularity = Granularity::PerTensor;
  int64_t axis = 0;        // channel axis for PerChannel (0 = output channel of a Linear weight)
  bool is_signed = false;  // affine only: int range instead of uint range

  int32_t qmin() const;  // affine unsigned: 0; affine signed: -2^(b-1); symmetric: -(2^(b-1)-1)
  int32_t qmax() const;  // affine unsigned: 2^b-1; otherwise 2^(b-1)-1
  // Whether the integers are signed: is_signed for affine, always for symmetric (is_signed is
  // ignored there, so {8, Scheme::Symmetric} needs no is_signed = true).
  bool signed_range() const { return scheme == Scheme::Symmetric || is_signed; }
  // Throws tinyml::Error naming `fn` when bits are outside 2..8. The axis is checked against a
  // shape where there is one (negative axes count from the end, as in PyTorch).
  void validate(const char* fn) const;
  // "uint8 affine per-tensor", "int8 affine per-tensor", "int4 symmetric per-channel(axis=0)"
  std::string to_string() const;

  static QuantSpec int8_affine() { return {8, Scheme::Affine, Granularity::PerTensor, 0, false}; }
  static QuantSpec int8_symmetric_per_channel(int64_t axis = 0) {
    return {8, Scheme::Symmetric, Granularity::PerChannel, axis, true};
  }
};

// Equal when they quantize alike: bits, scheme, granularity, signed_range(), and axis if per channel.
bool operator==(const QuantSpec& a, const QuantSpec& b);

// Scale(s) and zero point(s): one entry per tensor, or one per channel along spec.axis.
struct QParams {
  QuantSpec spec;
  std::vector<float> scale;
  std::vector<int32_t> zero_point;

  bool per_channel() const { return spec.granularity == Granularity::PerChannel; }
  size_t channels() const { return scale.size(); }
};

// How a row-major tensor splits around the channel axis: element (o, c, i) sits at flat index
// (o·channels + c)·inner + i and uses qparams entry c. Per tensor: outer = channels = 1, inner = numel.
struct ChannelLayout {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
  int64_t axis = -1;  // wrapped into [0, dim) for per-channel; -1 per tensor
};
// Throws naming `fn`, the axis and the shape when a per-channel axis is outside [−dim, dim).
ChannelLayout channel_layout(const Shape& shape, const QuantSpec& spec, const char* fn);

// Throws naming `fn` unless qp fits a tensor of `shape`: a valid spec, one scale and zero point per
// tensor or per channel along the axis, scales finite and > 0, zero points inside [qmin, qmax].
void validate_qparams(const QParams& qp, const Shape& shape, const char* fn);

// IEEE round-half-to-even of a float (what torch.round and nearbyint in the default mode do).
float round_half_even(float x);

// Affine / symmetric qparams for one range (the formulas of PyTorch's
// MinMaxObserver for affine): widen to include 0, s = max(eps, (max⁺ − min⁻)/(qmax − qmin)),
// z = clamp(qmin − round(min⁻/s), qmin, qmax). eps = float32 machine epsilon.
// min > max or a non-finite bound throws.
QParams choose_qparams(float min, float max, const QuantSpec& spec);
// Per-channel: one (min, max) per channel; spec must be PerChannel.
QParams choose_qparams(std::span<const float> mins, std::span<const float> maxs, const QuantSpec& spec);
// From a tensor's own min/max (per tensor, or per channel along spec.axis).
QParams choose_qparams(const Tensor& x, const QuantSpec& spec);

// One value: clamp(round_half_even(x·(1/scale)) + zp, qmin, qmax), and back: scale · (q − zp).
// ±Inf clamp to qmin / qmax; NaN has no integer and throws.
int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);
inline float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(q - zero_point);
}

// Quantize → dequantize in float (the "fake quantization" x̂), per tensor or per channel.
// A new tensor without autograd history (FakeQuantize in QAT adds the straight-through gradient).
Tensor fake_quantize(const Tensor& x, const QParams& qp);

namespace detail {
// Throws naming `fn`, the shape and the first flat index when `x` holds NaN, which has no
// quantized value (quantize_value alone could not say whose tensor or which element). ±Inf is
// fine: it clamps to qmin / qmax. An undefined `x` is left to the caller's own check.
void check_no_nan(const Tensor& x, const char* fn);
}  // namespace detail

}  // namespace tinyml::quant
