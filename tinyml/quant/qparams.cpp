#include "tinyml/quant/qparams.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tinyml/core/error.hpp"

namespace tinyml::quant {

namespace {

constexpr float kEps = std::numeric_limits<float>::epsilon();  // torch.finfo(torch.float32).eps

// Scale and zero point of one range; spec already validated, bounds already checked.
std::pair<float, int32_t> qparams_of_range(float min, float max, const QuantSpec& spec, const char* fn) {
  // BEGIN SOLUTION 08: qparams_of_range: scale and zero point of a range widened to include 0
  const int32_t qmin = spec.qmin(), qmax = spec.qmax();
  // Widening to include 0 makes 0.0 exactly representable (q = z) and keeps z inside
  // [qmin, qmax] without moving the range: min⁻/s lies in [−(qmax − qmin), 0].
  const float lo = std::min(min, 0.0f);
  const float hi = std::max(max, 0.0f);
  if (spec.scheme == Scheme::Symmetric) {
    const float amax = std::max(-lo, hi);
    const float s = std::max(amax / static_cast<float>(qmax), kEps);
    TINYML_CHECK(std::isfinite(s), "{}: range [{}, {}] is too wide for float32 scales", fn, min, max);
    return {s, 0};
  }
  // Every step in float32, in PyTorch's order, so the result matches it bit for bit.
  const float s = std::max((hi - lo) / static_cast<float>(qmax - qmin), kEps);
  TINYML_CHECK(std::isfinite(s), "{}: range [{}, {}] is too wide for float32 scales", fn, min, max);
  const auto z = static_cast<int32_t>(static_cast<float>(qmin) - round_half_even(lo / s));
  // The clamp only guards float rounding at the ends; it never fires for a widened range.
  return {s, std::clamp(z, qmin, qmax)};
  // END SOLUTION
}

void check_range(float min, float max, const char* fn) {
  TINYML_CHECK(std::isfinite(min) && std::isfinite(max), "{}: range bounds must be finite, got [{}, {}]", fn,
               min, max);
  TINYML_CHECK(min <= max, "{}: min {} > max {}", fn, min, max);
}

}  // namespace

namespace detail {
void check_no_nan(const Tensor& x, const char* fn) {
  if (!x.defined()) return;  // reported by the caller's own check
  const Tensor c = x.detach().contiguous();
  const float* p = c.data();
  const int64_t n = c.numel();
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) bad |= static_cast<int>(p[i] != p[i]);  // branch-free: vectorizes
  if (bad == 0) return;
  for (int64_t i = 0; i < n; ++i)
    TINYML_CHECK(p[i] == p[i],
                 "{}: tensor of shape {} holds NaN at flat index {}; NaN has no quantized value", fn,
                 shape_str(x.shape()), i);
}
}  // namespace detail

// ---- names ----

namespace {

template <class E>
struct Named {
  E value;
  const char* name;
};
constexpr Named<Scheme> kSchemes[] = {{Scheme::Affine, "affine"}, {Scheme::Symmetric, "symmetric"}};
constexpr Named<Granularity> kGranularities[] = {{Granularity::PerTensor, "per-tensor"},
                                                 {Granularity::PerChannel, "per-channel"}};

template <class E, size_t N>
const char* name_of(const Named<E> (&table)[N], E value) {
  for (const Named<E>& e : table)
    if (e.value == value) return e.name;
  return "unknown";
}

template <class E, size_t N>
std::vector<std::string> names_of(const Named<E> (&table)[N]) {
  std::vector<std::string> out;
  for (const Named<E>& e : table) out.emplace_back(e.name);
  return out;
}

template <class E, size_t N>
E parse_name(const Named<E> (&table)[N], const std::string& name, const char* fn, const char* what) {
  for (const Named<E>& e : table)
    if (name == e.name) return e.value;
  throw Error(
      fmt::format("{}: unknown {} '{}'; expected {}", fn, what, name, fmt::join(names_of(table), " or ")));
}

}  // namespace

const char* to_string(Scheme scheme) { return name_of(kSchemes, scheme); }
const char* to_string(Granularity granularity) { return name_of(kGranularities, granularity); }
Scheme parse_scheme(const std::string& name) { return parse_name(kSchemes, name, "parse_scheme", "scheme"); }
Granularity parse_granularity(const std::string& name) {
  return parse_name(kGranularities, name, "parse_granularity", "granularity");
}
std::vector<std::string> scheme_names() { return names_of(kSchemes); }
std::vector<std::string> granularity_names() { return names_of(kGranularities); }

// ---- QuantSpec ----

int32_t QuantSpec::qmin() const {
  validate("QuantSpec::qmin");  // a shift by an out-of-range width would be undefined
  if (scheme == Scheme::Symmetric) return -((1 << (bits - 1)) - 1);
  return is_signed ? -(1 << (bits - 1)) : 0;
}

int32_t QuantSpec::qmax() const {
  validate("QuantSpec::qmax");
  if (scheme == Scheme::Affine && !is_signed) return (1 << bits) - 1;
  return (1 << (bits - 1)) - 1;
}

void QuantSpec::validate(const char* fn) const {
  TINYML_CHECK(bits >= 2 && bits <= 8, "{}: bits must be in 2..8, got {} (spec {})", fn, bits, to_string());
}

std::string QuantSpec::to_string() const {
  const std::string type = fmt::format("{}int{}", signed_range() ? "" : "u", bits);
  const char* sch = quant::to_string(scheme);
  if (granularity == Granularity::PerTensor)
    return fmt::format("{} {} {}", type, sch, quant::to_string(granularity));
  return fmt::format("{} {} {}(axis={})", type, sch, quant::to_string(granularity), axis);
}

bool operator==(const QuantSpec& a, const QuantSpec& b) {
  return a.bits == b.bits && a.scheme == b.scheme && a.granularity == b.granularity &&
         a.signed_range() == b.signed_range() &&
         (a.granularity == Granularity::PerTensor || a.axis == b.axis);
}

// ---- helpers shared with QTensor ----

ChannelLayout channel_layout(const Shape& shape, const QuantSpec& spec, const char* fn) {
  ChannelLayout l;
  if (spec.granularity == Granularity::PerTensor) {
    l.inner = numel_of(shape);
    return l;
  }
  const auto dim = static_cast<int64_t>(shape.size());
  TINYML_CHECK(spec.axis >= -dim && spec.axis < dim,
               "{}: channel axis {} is out of range for shape {} (expected {} <= axis < {})", fn, spec.axis,
               shape_str(shape), -dim, dim);
  l.axis = spec.axis < 0 ? spec.axis + dim : spec.axis;
  for (int64_t d = 0; d < l.axis; ++d) l.outer *= shape[static_cast<size_t>(d)];
  l.channels = shape[static_cast<size_t>(l.axis)];
  for (int64_t d = l.axis + 1; d < dim; ++d) l.inner *= shape[static_cast<size_t>(d)];
  return l;
}

void validate_qparams(const QParams& qp, const Shape& shape, const char* fn) {
  qp.spec.validate(fn);
  const ChannelLayout l = channel_layout(shape, qp.spec, fn);
  const size_t expected = qp.per_channel() ? static_cast<size_t>(l.channels) : 1;
  TINYML_CHECK(qp.scale.size() == expected && qp.zero_point.size() == expected,
               "{}: {} qparams for shape {} need {} scale(s) and zero point(s), got {} and {}", fn,
               qp.spec.to_string(), shape_str(shape), expected, qp.scale.size(), qp.zero_point.size());
  for (size_t c = 0; c < expected; ++c) {
    TINYML_CHECK(std::isfinite(qp.scale[c]) && qp.scale[c] > 0.0f,
                 "{}: scale[{}] = {} must be finite and > 0", fn, c, qp.scale[c]);
    TINYML_CHECK(qp.zero_point[c] >= qp.spec.qmin() && qp.zero_point[c] <= qp.spec.qmax(),
                 "{}: zero_point[{}] = {} outside [{}, {}] of {}", fn, c, qp.zero_point[c], qp.spec.qmin(),
                 qp.spec.qmax(), qp.spec.to_string());
  }
}

// ---- the arithmetic ----

float round_half_even(float x) {
  // BEGIN SOLUTION 08: round_half_even: round to nearest, halves to the even neighbour (2.5 -> 2)
  // Written out rather than std::nearbyint, which follows the current rounding mode.
  const float r = std::round(x);                                                 // halves away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5f) return 2.0f * std::round(x * 0.5f);  // x/2 is exact
  return r;
  // END SOLUTION
}

int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  // BEGIN SOLUTION 08: quantize_value: clamp(round_half_even(x * (1/s)) + zero_point, qmin, qmax); NaN throws
  TINYML_CHECK(!std::isnan(x), "quantize_value: got NaN (scale {}, zero point {})", scale, zero_point);
  // x times the inverse scale, both in float32, as PyTorch computes it: x / scale rounds
  // differently near halves (0.01 / 7.8431374e-05 is 127.49999 in float32, while
  // 0.01 * (1 / 7.8431374e-05) is the tie 127.5, which goes to 128). Clamped while still a float,
  // so ±Inf and huge products never reach the integer conversion.
  const float inv_scale = 1.0f / scale;
  const float v = round_half_even(x * inv_scale) + static_cast<float>(zero_point);
  return static_cast<int32_t>(std::clamp(v, static_cast<float>(qmin), static_cast<float>(qmax)));
  // END SOLUTION
}

QParams choose_qparams(float min, float max, const QuantSpec& spec) {
  constexpr const char* fn = "choose_qparams";
  spec.validate(fn);
  TINYML_CHECK(spec.granularity == Granularity::PerTensor,
               "{}: one (min, max) pair makes per-tensor qparams, got spec {}; pass one range per channel",
               fn, spec.to_string());
  check_range(min, max, fn);
  const auto [s, z] = qparams_of_range(min, max, spec, fn);
  return QParams{spec, {s}, {z}};
}

QParams choose_qparams(std::span<const float> mins, std::span<const float> maxs, const QuantSpec& spec) {
  constexpr const char* fn = "choose_qparams (per-channel)";
  spec.validate(fn);
  TINYML_CHECK(spec.granularity == Granularity::PerChannel, "{}: needs a per-channel spec, got {}", fn,
               spec.to_string());
  TINYML_CHECK(mins.size() == maxs.size() && !mins.empty(),
               "{}: needs one min and one max per channel, got {} mins and {} maxs", fn, mins.size(),
               maxs.size());
  QParams qp{spec, {}, {}};
  qp.scale.reserve(mins.size());
  qp.zero_point.reserve(mins.size());
  for (size_t c = 0; c < mins.size(); ++c) {
    TINYML_CHECK(std::isfinite(mins[c]) && std::isfinite(maxs[c]) && mins[c] <= maxs[c],
                 "{}: channel {} has range [{}, {}]; expected finite bounds with min <= max", fn, c, mins[c],
                 maxs[c]);
    const auto [s, z] = qparams_of_range(mins[c], maxs[c], spec, fn);
    qp.scale.push_back(s);
    qp.zero_point.push_back(z);
  }
  return qp;
}

QParams choose_qparams(const Tensor& x, const QuantSpec& spec) {
  constexpr const char* fn = "choose_qparams";
  spec.validate(fn);
  TINYML_CHECK(x.defined(), "{}: got an undefined tensor", fn);
  TINYML_CHECK(x.numel() > 0, "{}: got an empty tensor of shape {}; there is no range to quantize", fn,
               shape_str(x.shape()));
  const ChannelLayout l = channel_layout(x.shape(), spec, fn);
  const std::vector<float> v = x.to_vector();
  std::vector<float> mins(static_cast<size_t>(l.channels), std::numeric_limits<float>::infinity());
  std::vector<float> maxs(mins.size(), -std::numeric_limits<float>::infinity());
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c) {
      const float* p = v.data() + (o * l.channels + c) * l.inner;
      float& mn = mins[static_cast<size_t>(c)];
      float& mx = maxs[static_cast<size_t>(c)];
      for (int64_t i = 0; i < l.inner; ++i) {
        TINYML_CHECK(std::isfinite(p[i]),
                     "{}: tensor of shape {} holds a non-finite value {} at flat index {}", fn,
                     shape_str(x.shape()), p[i], (o * l.channels + c) * l.inner + i);
        mn = std::min(mn, p[i]);
        mx = std::max(mx, p[i]);
      }
    }
  if (spec.granularity == Granularity::PerTensor) return choose_qparams(mins[0], maxs[0], spec);
  return choose_qparams(std::span<const float>(mins), std::span<const float>(maxs), spec);
}

Tensor fake_quantize(const Tensor& x, const QParams& qp) {
  detail::check_no_nan(x, "fake_quantize");
  // BEGIN SOLUTION 09: fake_quantize: x_hat = s * (clamp(round(x * (1/s)) + z, qmin, qmax) - z), no gradient
  constexpr const char* fn = "fake_quantize";
  TINYML_CHECK(x.defined(), "{}: got an undefined tensor", fn);
  validate_qparams(qp, x.shape(), fn);
  const ChannelLayout l = channel_layout(x.shape(), qp.spec, fn);
  const int32_t qmin = qp.spec.qmin(), qmax = qp.spec.qmax();
  std::vector<float> v = x.to_vector();
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c) {
      const float s = qp.scale[static_cast<size_t>(qp.per_channel() ? c : 0)];
      const int32_t z = qp.zero_point[static_cast<size_t>(qp.per_channel() ? c : 0)];
      float* p = v.data() + (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i)
        p[i] = dequantize_value(quantize_value(p[i], s, z, qmin, qmax), s, z);
    }
  return Tensor::from_vector(v, x.shape());
  // END SOLUTION
}

}  // namespace tinyml::quant
