#include "tinyml/quant/quantized_linear.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <span>
#include <utility>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/accumulator.hpp"

namespace tinyml::quant {

namespace {

// Round half to even in double (the int32 bias is computed from a double quotient so that a
// large b / (s_x·s_w) keeps its integer part exactly; float would lose it past 2^24).
double round_half_even_d(double v) {
  // BEGIN SOLUTION 08: round_half_even_d: round_half_even in double (for the int32 bias)
  const double r = std::round(v);  // halves away from zero
  if (std::fabs(v - std::trunc(v)) == 0.5) return 2.0 * std::round(v * 0.5);
  return r;
  // END SOLUTION
}

// The int32 bias of Static mode: b_q[j] = round_half_even(b[j] / (s_x · s_w[j])), saturated to
// int32. Saturation only happens when the bias is over 2^31 steps of the product scale (e.g. a
// layer calibrated on all-zero inputs, s_x = eps); the accumulator could not hold it either.
std::vector<int32_t> quantize_bias(const Tensor& bias, float s_x, const std::vector<float>& s_w) {
  const std::vector<float> b = bias.to_vector();
  std::vector<int32_t> out(b.size());
  constexpr double lo = std::numeric_limits<int32_t>::min();
  constexpr double hi = std::numeric_limits<int32_t>::max();
  for (size_t j = 0; j < b.size(); ++j) {
    const double scale = static_cast<double>(s_x) * static_cast<double>(s_w[s_w.size() == 1 ? 0 : j]);
    const double q = round_half_even_d(static_cast<double>(b[j]) / scale);
    out[j] = static_cast<int32_t>(std::clamp(q, lo, hi));
  }
  return out;
}

// A copy in storage of exactly its own size, so memory_usage() can count it as numel · 4.
Tensor own_copy(const Tensor& t) {
  if (!t.defined()) return t;
  return Tensor::from_vector(t.detach().to_vector(), t.shape());
}

struct Range {
  float min;
  float max;
  bool finite;
};

// Min, max and finiteness of x[0, n) in one pass. A float min/max reduction does not vectorize
// on its own without -ffast-math (the order of comparisons is part of its meaning), so it runs in
// kLanes independent lanes, a vector's worth, combined at the end; `omp simd` on the lane loop
// lets GCC and clang alike turn it into vector min/max (a plain reduction loop vectorized under
// GCC only, the lanes alone under clang only). A NaN is caught by the integer flag (the min/max
// would skip over it), ±Inf by the extremes.
Range min_max(const float* x, int64_t n) {
  constexpr int64_t kLanes = 16;
  float mn[kLanes];
  float mx[kLanes];
  int bad[kLanes];
  for (int64_t l = 0; l < kLanes; ++l) {
    mn[l] = std::numeric_limits<float>::infinity();
    mx[l] = -std::numeric_limits<float>::infinity();
    bad[l] = 0;
  }
  const auto step = [&](int64_t l, float v) {
    mn[l] = v < mn[l] ? v : mn[l];
    mx[l] = v > mx[l] ? v : mx[l];
    bad[l] |= static_cast<int>(v != v);
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int64_t l = 0; l < kLanes; ++l) step(l, x[i + l]);
  }
  for (; i < n; ++i) step(0, x[i]);
  for (int64_t l = 1; l < kLanes; ++l) {
    mn[0] = mn[l] < mn[0] ? mn[l] : mn[0];
    mx[0] = mx[l] > mx[0] ? mx[l] : mx[0];
    bad[0] |= bad[l];
  }
  return {mn[0], mx[0], bad[0] == 0 && std::isfinite(mn[0]) && std::isfinite(mx[0])};
}

// q = clamp(round_half_even(x · (1/s)) + z, qmin, qmax) for n values in one pass, exactly as
// quantize_value computes it (the inverse scale in float32, as PyTorch, and the clamp in float),
// so this fast path and QTensor::quantize give the same integers. std::nearbyint rounds half to
// even in the default rounding mode, which tinyml never changes; unlike round_half_even it
// compiles to one vector instruction. Returns false if a value is NaN (quantize_value throws).
template <class Q>
bool quantize_into(const float* x, int64_t n, float s, int32_t z, int32_t qmin, int32_t qmax, Q* q) {
  // BEGIN SOLUTION 08: quantize_into: quantize_value of n values in one loop; false if one is NaN
  const auto zf = static_cast<float>(z);
  const auto lo = static_cast<float>(qmin);
  const auto hi = static_cast<float>(qmax);
  const float inv_scale = 1.0f / s;
  int bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(x[i] * inv_scale) + zf;
    const bool nan = x[i] != x[i];
    bad |= static_cast<int>(nan);
    // NaN has no integer value: the caller throws, but the conversion below must stay defined.
    v = nan ? zf : v;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    q[i] = static_cast<Q>(static_cast<int32_t>(v));
  }
  return bad == 0;
  // END SOLUTION
}

// ŵ = s·(q − z) of a weight (out, in) quantized per tensor or per output channel, row by row
// straight from the storage bytes into one float buffer: the same arithmetic as
// QTensor::dequantize (dequantize_value), without its intermediate int32 and float copies, which
// made the weight-only forward several times slower. Other layouts take QTensor::dequantize.
Tensor dequantize_weight(const QTensor& w) {
  // BEGIN SOLUTION 08: dequantize_weight: QTensor::dequantize of a 2-D weight, straight from the bytes
  const QParams& qp = w.qparams();
  if (qp.per_channel() && channel_layout(w.shape(), qp.spec, "QuantizedLinear").axis != 0)
    return w.dequantize();
  const int64_t rows = w.size(0), cols = w.size(1);
  const QDtype dtype = w.dtype();
  const int64_t row_bytes = is_packed(dtype) ? packed_row_bytes(cols) : cols;
  Tensor out = Tensor::empty({rows, cols});
  float* o = out.data();
  for (int64_t r = 0; r < rows; ++r) {
    const auto c = static_cast<size_t>(qp.per_channel() ? r : 0);
    const float s = qp.scale[c];
    const int32_t z = qp.zero_point[c];
    const uint8_t* b = w.raw() + r * row_bytes;
    float* y = o + r * cols;
    switch (dtype) {
      case QDtype::Int8:
        for (int64_t i = 0; i < cols; ++i) y[i] = s * static_cast<float>(static_cast<int8_t>(b[i]) - z);
        break;
      case QDtype::UInt8:
        for (int64_t i = 0; i < cols; ++i) y[i] = s * static_cast<float>(static_cast<int32_t>(b[i]) - z);
        break;
      case QDtype::Int4Packed:
      case QDtype::UInt4Packed: {
        // Element 2t in the low nibble of byte t, 2t + 1 in the high one; (v ^ 8) − 8 reads a
        // nibble as 4-bit two's complement without a branch.
        const int32_t flip = dtype == QDtype::Int4Packed ? 8 : 0;
        const int64_t pairs = cols / 2;
        for (int64_t t = 0; t < pairs; ++t) {
          const int32_t lo = ((b[t] & 0xF) ^ flip) - flip;
          const int32_t hi = ((b[t] >> 4) ^ flip) - flip;
          y[2 * t] = s * static_cast<float>(lo - z);
          y[2 * t + 1] = s * static_cast<float>(hi - z);
        }
        if (cols % 2 == 1) y[cols - 1] = s * static_cast<float>((((b[pairs] & 0xF) ^ flip) - flip) - z);
        break;
      }
    }
  }
  return out;
  // END SOLUTION
}

bool integer_mode(QuantMode m) { return m == QuantMode::Dynamic || m == QuantMode::Static; }

// The weight (out, in) as one signed byte per value, the operand of the int8 GEMM: the storage
// itself for 5..8-bit weights (held as int8 bit patterns), or, for packed 2..4-bit weights, the
// values widened into `scratch` (out·in bytes that live only as long as the caller's scratch).
const int8_t* int8_weight(const QTensor& w, std::unique_ptr<uint8_t[]>& scratch) {
  if (!is_packed(w.dtype())) return reinterpret_cast<const int8_t*>(w.raw());
  const int64_t n = w.numel();
  scratch = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(n));
  unpack_int4_bytes(w.bytes(), n, w.size(1), /*is_signed=*/true, scratch.get());
  return reinterpret_cast<const int8_t*>(scratch.get());
}

// The qparams of a Dynamic-mode input (M, K): its own min/max with `spec`.
QParams batch_qparams(const Tensor& xc, const QuantSpec& spec) {
  const Range r = min_max(xc.data(), xc.numel());
  TINYML_CHECK(r.finite,
               "QuantizedLinear::forward: the input of shape {} holds NaN or Inf, which has no "
               "quantized value",
               shape_str(xc.shape()));
  return choose_qparams(r.min, r.max, spec);
}

// The quantized input x (M, K) with qparams iq, one Q per value whatever the bit width.
template <class Q>
void quantize_input(const Tensor& xc, const QParams& iq, Q* q) {
  const bool ok =
      quantize_into(xc.data(), xc.numel(), iq.scale[0], iq.zero_point[0], iq.spec.qmin(), iq.spec.qmax(), q);
  TINYML_CHECK(ok, "QuantizedLinear::forward: the input of shape {} holds NaN, which has no quantized value",
               shape_str(xc.shape()));
}

// Σ_k qx·qw of an input and a weight, before any zero point is applied, and the input's row sums.
struct IntegerProduct {
  std::unique_ptr<int32_t[]> acc;  // M×N
  std::vector<int32_t> rowsum;     // M entries, or none when not asked for
};

// Quantizes the contiguous input x (M, K) with `iq` (to uint8 for an unsigned spec, int8 for a
// signed one) and runs the int8 GEMM with the N×K weight: oneDNN's `packed` copy when there is one
// (QuantizedLinear packs only weights of layers with uint8 inputs), else `weight`. Computes the
// input's row sums if `rowsums`.
IntegerProduct integer_product(const Tensor& xc, const QParams& iq, const QTensor& weight,
                               const kernels::PackedWeightS8* packed, int64_t N, bool rowsums) {
  const int64_t M = xc.size(0), K = xc.size(1);
  IntegerProduct p{std::make_unique_for_overwrite<int32_t[]>(static_cast<size_t>(M * N)),
                   std::vector<int32_t>(rowsums ? static_cast<size_t>(M) : 0)};
  auto qx = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(M * K));
  std::unique_ptr<uint8_t[]> w_scratch;  // a packed weight widened to bytes, for this call only
  const int8_t* w = packed ? nullptr : int8_weight(weight, w_scratch);
  if (!iq.spec.signed_range()) {
    quantize_input(xc, iq, qx.get());
    if (packed)
      packed->multiply_u8(M, qx.get(), p.acc.get());
    else
      kernels::qgemm_u8s8(M, N, K, qx.get(), K, w, K, /*trans_b=*/true, p.acc.get(), N);
    if (rowsums) kernels::row_sums_u8(M, K, qx.get(), K, p.rowsum.data());
  } else {
    TINYML_CHECK(packed == nullptr, "QuantizedLinear::forward: a packed weight with signed inputs");
    auto* qs = reinterpret_cast<int8_t*>(qx.get());
    quantize_input(xc, iq, qs);
    kernels::qgemm_s8s8(M, N, K, qs, K, w, K, /*trans_b=*/true, p.acc.get(), N);
    if (rowsums) kernels::row_sums_s8(M, K, qs, K, p.rowsum.data());
  }
  return p;
}

}  // namespace

const char* to_string(QuantMode mode) {
  switch (mode) {
    case QuantMode::WeightOnly:
      return "weight-only";
    case QuantMode::Dynamic:
      return "dynamic";
    case QuantMode::Static:
      return "static";
  }
  return "unknown";
}

QuantMode parse_quant_mode(const std::string& s) {
  if (s == "weight-only") return QuantMode::WeightOnly;
  if (s == "dynamic") return QuantMode::Dynamic;
  if (s == "static") return QuantMode::Static;
  TINYML_CHECK(false, "parse_quant_mode: unknown mode '{}'; expected weight-only, dynamic or static", s);
  return QuantMode::Dynamic;
}

// ---- construction ----

QuantizedLinear::QuantizedLinear(Key, QTensor weight, Tensor bias, QuantMode mode,
                                 std::optional<QParams> input_qparams, bool fuse_relu,
                                 std::vector<int32_t> bias_int32)
    : weight_(std::move(weight)),
      bias_(std::move(bias)),
      mode_(mode),
      input_qparams_(std::move(input_qparams)),
      fuse_relu_(fuse_relu),
      bias_int32_(std::move(bias_int32)) {
  constexpr const char* fn = "QuantizedLinear";
  TINYML_CHECK(weight_.defined() && weight_.dim() == 2 && weight_.numel() > 0,
               "{}: the weight must be a non-empty 2-D (out, in) QTensor, got shape {}", fn,
               shape_str(weight_.shape()));
  const int64_t out = weight_.size(0), in = weight_.size(1);
  in_ = in;
  out_ = out;
  const QuantSpec& ws = weight_.spec();
  if (bias_.defined())
    TINYML_CHECK(bias_.dim() == 1 && bias_.size(0) == out,
                 "{}: the bias must have shape [{}] for a weight of shape {}, got {}", fn, out,
                 shape_str(weight_.shape()), shape_str(bias_.shape()));
  if (integer_mode(mode_)) {
    TINYML_CHECK(ws.signed_range(),
                 "{}: {} mode runs an int8 GEMM and needs a signed weight spec (symmetric, or affine with "
                 "is_signed), got {}; unsigned weights run in weight-only mode",
                 fn, to_string(mode_), ws.to_string());
    if (weight_.qparams().per_channel()) {
      const int64_t axis = channel_layout(weight_.shape(), ws, fn).axis;
      TINYML_CHECK(
          axis == 0,
          "{}: {} mode needs weight qparams per output channel (axis 0) or per tensor, got {} on a weight "
          "of shape {}",
          fn, to_string(mode_), ws.to_string(), shape_str(weight_.shape()));
    }
    TINYML_CHECK(in <= kernels::kQgemmMaxK_zero_point,
                 "{}: in_features={} exceeds {}, past which the int32 accumulator of {} mode can overflow",
                 fn, in, kernels::kQgemmMaxK_zero_point, to_string(mode_));
  }
  if (mode_ == QuantMode::Static) {
    TINYML_CHECK(input_qparams_.has_value(),
                 "{}: static mode needs the input qparams from calibration (quant::calibrate), got none", fn);
    const QParams& iq = *input_qparams_;
    TINYML_CHECK(!iq.per_channel(), "{}: the input qparams must be per tensor, got {}", fn,
                 iq.spec.to_string());
    validate_qparams(iq, Shape{in}, fn);
    TINYML_CHECK(bias_int32_.empty() || !bias_.defined(),
                 "{}: static mode takes the bias either as fp32 or as int32, not both", fn);
    if (bias_.defined()) {
      bias_int32_ = quantize_bias(bias_, iq.scale[0], weight_.qparams().scale);
      bias_ = Tensor();
    }
    TINYML_CHECK(bias_int32_.empty() || static_cast<int64_t>(bias_int32_.size()) == out,
                 "{}: the int32 bias has {} entries for {} output channels", fn, bias_int32_.size(), out);
  } else {
    TINYML_CHECK(!input_qparams_.has_value(),
                 "{}: input qparams are used only in static mode; {} mode got {}", fn, to_string(mode_),
                 input_qparams_->spec.to_string());
    TINYML_CHECK(bias_int32_.empty(), "{}: an int32 bias is used only in static mode; {} mode got one", fn,
                 to_string(mode_));
  }
  if (integer_mode(mode_)) {
    w_colsum_.resize(static_cast<size_t>(out));
    std::unique_ptr<uint8_t[]> scratch;
    kernels::col_sums_s8(in, out, int8_weight(weight_, scratch), in, /*trans_b=*/true, w_colsum_.data());
    // The layout is settled here, once: after construction nothing changes the weight, so readers
    // (weight(), memory_usage(), saving) need no lock against a concurrent forward.
    pack_weight();
  }
}

// Dynamic inputs are uint8, and so are static ones unless calibrated to a signed spec; only the
// uint8 product has a packed form here. Packed 2..4-bit weights keep their 4-bit storage. Called
// once, by the constructor.
void QuantizedLinear::pack_weight() {
  const bool uint8_inputs =
      mode_ == QuantMode::Dynamic || (mode_ == QuantMode::Static && !input_qparams_->spec.signed_range());
  if (!uint8_inputs || is_packed(weight_.dtype())) return;
  packed_ = kernels::PackedWeightS8::pack(out_, in_, reinterpret_cast<const int8_t*>(weight_.raw()));
  if (!packed_) return;
  packed_qparams_ = weight_.qparams();
  weight_ = QTensor();  // the packed layout is now the only copy
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::from_float(const nn::Linear& linear,
                                                             const QuantSpec& weight_spec, QuantMode mode,
                                                             std::optional<QParams> input_qparams,
                                                             bool fuse_relu,
                                                             std::optional<QParams> weight_qparams) {
  constexpr const char* fn = "QuantizedLinear::from_float";
  TINYML_CHECK(linear.weight.defined(), "{}: the Linear has no weight", fn);
  weight_spec.validate(fn);
  QTensor w;
  if (weight_qparams.has_value()) {
    TINYML_CHECK(weight_qparams->spec == weight_spec,
                 "{}: weight_qparams are for {} but the weight spec is {}", fn,
                 weight_qparams->spec.to_string(), weight_spec.to_string());
    w = QTensor::quantize(linear.weight.detach(), *weight_qparams);
  } else {
    w = QTensor::quantize(linear.weight.detach(), weight_spec);
  }
  return from_parts(std::move(w), own_copy(linear.bias), mode, std::move(input_qparams), fuse_relu);
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::from_parts(QTensor weight, Tensor bias, QuantMode mode,
                                                             std::optional<QParams> input_qparams,
                                                             bool fuse_relu,
                                                             std::vector<int32_t> bias_int32) {
  return std::make_shared<QuantizedLinear>(Key(), std::move(weight), own_copy(bias), mode,
                                           std::move(input_qparams), fuse_relu, std::move(bias_int32));
}

// ---- forward ----

Tensor QuantizedLinear::forward(const Tensor& input) {
  constexpr const char* fn = "QuantizedLinear::forward";
  TINYML_CHECK(input.defined(), "{}: the input is undefined", fn);
  TINYML_CHECK(
      !(GradMode::is_enabled() && input.requires_grad()),
      "{}: the input of shape {} requires grad, but a quantized layer is inference-only (its rounding has "
      "no useful gradient); run it under NoGradGuard, or train through quantization with QAT "
      "(FakeQuantize / prepare_qat) and convert afterwards",
      fn, shape_str(input.shape()));
  const int64_t in = in_features(), out = out_features();
  TINYML_CHECK(input.dim() >= 1 && input.size(-1) == in,
               "{}: expected input of shape (..., {}) for weight of shape {}, got input of shape {}", fn, in,
               shape_str(Shape{out, in}), shape_str(input.shape()));
  NoGradGuard no_grad;
  Shape out_shape(input.shape().begin(), input.shape().end() - 1);
  out_shape.push_back(out);
  const Tensor x2 = input.reshape({input.numel() / in, in});

  Tensor y;
  if (mode_ == QuantMode::WeightOnly) {
    // The readable path: the float weight exists only for the duration of this call.
    y = linear(x2, dequantize_weight(weight_), bias_);
    if (fuse_relu_) y = relu(y);
  } else {
    y = forward_integer(x2);
  }
  return input.dim() == 2 ? y : y.reshape(out_shape);
}

Tensor QuantizedLinear::forward_integer(const Tensor& x2) {
  const int64_t M = x2.size(0), K = in_features(), N = out_features();
  Tensor y = Tensor::empty({M, N});
  if (M == 0) return y;
  const Tensor xc = x2.contiguous();
  const QParams iq = mode_ == QuantMode::Dynamic ? batch_qparams(xc, dynamic_input_spec()) : *input_qparams_;
  const std::vector<int32_t>& z_w = weight_qparams().zero_point;
  // The input's row sums are needed only when a weight zero point is nonzero (symmetric weights
  // have none).
  const bool w_zero_points = std::any_of(z_w.begin(), z_w.end(), [](int32_t z) { return z != 0; });
  const IntegerProduct prod = integer_product(xc, iq, weight_, packed_.get(), N, w_zero_points);

  AccumulatorPass pass;
  pass.M = M;
  pass.N = N;
  pass.K = K;
  pass.acc = prod.acc.get();
  pass.rowsum_x = w_zero_points ? prod.rowsum.data() : nullptr;
  pass.colsum_w = w_colsum_.data();
  pass.z_x = iq.zero_point[0];
  pass.z_w = z_w;
  pass.s_x = iq.scale[0];
  pass.s_w = weight_qparams().scale;
  pass.integer_bias = mode_ == QuantMode::Static;
  pass.bias_int32 = bias_int32_;
  if (bias_.defined()) pass.bias = std::span<const float>(bias_.data(), static_cast<size_t>(N));
  pass.relu = fuse_relu_;
  accumulator_to_float(pass, y.data());
  return y;
}

// ---- inspection ----

const QParams& QuantizedLinear::weight_qparams() const {
  return packed_ ? packed_qparams_ : weight_.qparams();
}

QTensor QuantizedLinear::unpacked_weight() const {
  if (!packed_) return weight_;
  std::vector<uint8_t> bytes(static_cast<size_t>(out_ * in_));
  packed_->unpack(reinterpret_cast<int8_t*>(bytes.data()));
  return QTensor::from_raw(std::move(bytes), Shape{out_, in_}, packed_qparams_);
}

const QTensor& QuantizedLinear::weight() const {
  if (!packed_) return weight_;
  const std::lock_guard<std::mutex> lock(weight_mutex_);
  if (!unpacked_) unpacked_ = unpacked_weight();
  return *unpacked_;
}

Tensor QuantizedLinear::bias() const {
  if (mode_ != QuantMode::Static || bias_int32_.empty()) return bias_;
  const float s_x = input_qparams_->scale[0];
  const std::vector<float>& s_w = weight_qparams().scale;
  std::vector<float> b(bias_int32_.size());
  for (size_t j = 0; j < b.size(); ++j)
    b[j] = static_cast<float>(static_cast<double>(bias_int32_[j]) * static_cast<double>(s_x) *
                              static_cast<double>(s_w[s_w.size() == 1 ? 0 : j]));
  return Tensor::from_vector(b, {static_cast<int64_t>(b.size())});
}

MemoryUsage QuantizedLinear::memory_usage() const {
  // BEGIN SOLUTION 08: QuantizedLinear::memory_usage: the bytes really held (storage, qparams, bias, cache)
  MemoryUsage m;
  const QParams& wq = weight_qparams();
  m.weight_bytes = packed_ ? packed_->bytes() : weight_.storage_bytes();
  m.qparams_bytes = wq.scale.size() * sizeof(float) + wq.zero_point.size() * sizeof(int32_t);
  if (input_qparams_.has_value())
    m.qparams_bytes +=
        input_qparams_->scale.size() * sizeof(float) + input_qparams_->zero_point.size() * sizeof(int32_t);
  m.bias_bytes =
      bias_int32_.size() * sizeof(int32_t) + (bias_.defined() ? bias_.impl()->storage->nbytes() : 0);
  m.cache_bytes = w_colsum_.size() * sizeof(int32_t);
  {
    const std::lock_guard<std::mutex> lock(weight_mutex_);
    if (unpacked_) m.cache_bytes += unpacked_->storage_bytes();
  }
  const auto out = static_cast<size_t>(out_features()), in = static_cast<size_t>(in_features());
  m.fp32_bytes = (out * in + (has_bias() ? out : 0)) * sizeof(float);
  return m;
  // END SOLUTION
}

std::string QuantizedLinear::extra_repr() const {
  std::string s = fmt::format("in_features={}, out_features={}, bias={}, mode={}, weight={}", in_features(),
                              out_features(), has_bias() ? "True" : "False", to_string(mode_),
                              weight_qparams().spec.to_string());
  if (input_qparams_.has_value())
    s += fmt::format(", input={} (scale={:.6g}, zero_point={})", input_qparams_->spec.to_string(),
                     input_qparams_->scale[0], input_qparams_->zero_point[0]);
  if (fuse_relu_) s += ", relu";
  return s;
}

}  // namespace tinyml::quant
