#include "tinyml/quant/precision.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/qtensor.hpp"

namespace tinyml::quant {

// ---------------------------------------------------------------------------------------------
// binary16 and bfloat16

namespace {

// Shifts `m` right by `shift` (1..31) rounding to nearest, ties to even.
uint32_t shift_round_even(uint32_t m, int shift) {
  const uint32_t kept = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
}

}  // namespace

uint16_t float_to_half_bits(float x) {
  const auto bits = std::bit_cast<uint32_t>(x);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exp = (bits >> 23) & 0xFFu;
  const uint32_t mant = bits & 0x7FFFFFu;

  if (exp == 0xFFu) {
    if (mant == 0) return static_cast<uint16_t>(sign | 0x7C00u);  // ±Inf
    // NaN: keep the top payload bits and set the quiet bit, so the result is never an Inf.
    return static_cast<uint16_t>(sign | 0x7E00u | (mant >> 13));
  }
  const int e = static_cast<int>(exp) - 127;  // unbiased; float subnormals land far below −25
  if (e >= 16) return static_cast<uint16_t>(sign | 0x7C00u);  // ≥ 2^16 > 65520: Inf
  // BEGIN SOLUTION 09: float_to_half_bits: a normal half: 10 mantissa bits, round to nearest even (carry ok)
  if (e >= -14) {
    // Normal half: 10 of the 23 mantissa bits survive. A carry out of the mantissa bumps the
    // exponent, which is right (1.111…1 rounds up to 2.0), and from 65520 up reaches 0x7C00 = Inf.
    const uint32_t h = (static_cast<uint32_t>(e + 15) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1FFFu;
    const uint32_t up = (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ? 1u : 0u;
    return static_cast<uint16_t>(sign | (h + up));
  }
  // END SOLUTION
  // Subnormal half: value = m·2^(e−23) with the hidden bit in m, in units of 2^-24 is m·2^(e+1).
  if (e < -25) return sign;  // below 2^-25 (half the smallest subnormal): always rounds to 0
  const uint32_t m = mant | 0x800000u;
  // A result of 0x400 is the smallest normal, which is also its correct encoding.
  return static_cast<uint16_t>(sign | shift_round_even(m, -e - 1));
}

float half_bits_to_float(uint16_t h) {
  // BEGIN SOLUTION 09: half_bits_to_float: sign, exponent (bias 15) and mantissa; subnormals, Inf and NaN
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exp == 0x1Fu) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // Inf, NaN
  if (exp == 0) {
    // ±0 and subnormals: mant·2^-24, exact in float.
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp - 15u + 127u) << 23) | (mant << 13));
  // END SOLUTION
}

uint16_t float_to_bfloat16_bits(float x) {
  // BEGIN SOLUTION 09: float_to_bfloat16_bits: the top 16 bits rounded to nearest even; NaN stays quiet
  const auto bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu) != 0)
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // NaN: quiet, sign kept
  // Adding 0x7FFF plus the kept low bit rounds the dropped half to nearest even; a carry moves
  // into the exponent, and past the largest finite value it lands exactly on Inf (0x7F80).
  const uint32_t lsb = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7FFFu + lsb) >> 16);
  // END SOLUTION
}

float bfloat16_bits_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// ---------------------------------------------------------------------------------------------
// formats

const char* to_string(NumberFormat f) {
  switch (f) {
    case NumberFormat::FP32:
      return "fp32";
    case NumberFormat::FP16:
      return "fp16";
    case NumberFormat::BF16:
      return "bf16";
    case NumberFormat::INT8:
      return "int8";
    case NumberFormat::INT4:
      return "int4";
  }
  return "?";
}

NumberFormat parse_number_format(const std::string& s) {
  for (NumberFormat f :
       {NumberFormat::FP32, NumberFormat::FP16, NumberFormat::BF16, NumberFormat::INT8, NumberFormat::INT4})
    if (s == to_string(f)) return f;
  throw Error(
      fmt::format("parse_number_format: unknown format '{}'; expected fp32, fp16, bf16, int8 or int4", s));
}

int bits_of(NumberFormat f) {
  switch (f) {
    case NumberFormat::FP32:
      return 32;
    case NumberFormat::FP16:
    case NumberFormat::BF16:
      return 16;
    case NumberFormat::INT8:
      return 8;
    case NumberFormat::INT4:
      return 4;
  }
  return 32;
}

namespace {

bool is_int(NumberFormat f) { return f == NumberFormat::INT8 || f == NumberFormat::INT4; }

QuantSpec per_tensor_affine(int bits) {
  return QuantSpec{bits, Scheme::Affine, Granularity::PerTensor, 0, false};
}
QuantSpec per_channel_symmetric(int bits) {
  return QuantSpec{bits, Scheme::Symmetric, Granularity::PerChannel, 0, true};
}

// Contiguous values of a defined, non-empty, finite tensor; throws naming `fn` otherwise.
std::vector<float> finite_values(const Tensor& x, const char* fn, const char* what) {
  TINYML_CHECK(x.defined(), "{}: {} is undefined", fn, what);
  TINYML_CHECK(x.numel() > 0, "{}: {} of shape {} is empty", fn, what, shape_str(x.shape()));
  std::vector<float> v = x.to_vector();
  for (size_t i = 0; i < v.size(); ++i)
    TINYML_CHECK(std::isfinite(v[i]), "{}: {} of shape {} holds a non-finite value {} at flat index {}", fn,
                 what, shape_str(x.shape()), v[i], i);
  return v;
}

template <class F>
Tensor map_values(const Tensor& x, F f) {
  std::vector<float> v = x.to_vector();
  for (float& e : v) e = f(e);
  return Tensor::from_vector(v, x.shape());
}

Tensor fp_round_trip(const Tensor& x, NumberFormat f) {
  if (f == NumberFormat::FP16)
    return map_values(x, [](float v) { return half_bits_to_float(float_to_half_bits(v)); });
  if (f == NumberFormat::BF16)
    return map_values(x, [](float v) { return bfloat16_bits_to_float(float_to_bfloat16_bits(v)); });
  return x.detach().clone();
}

// Both tensors as double vectors after the shape check every metric shares.
struct Pair {
  std::vector<float> r, a;
};
Pair metric_inputs(const Tensor& reference, const Tensor& approx, const char* fn) {
  TINYML_CHECK(reference.defined() && approx.defined(), "{}: got an undefined tensor", fn);
  TINYML_CHECK(reference.shape() == approx.shape(), "{}: shapes differ: reference {} vs approximation {}", fn,
               shape_str(reference.shape()), shape_str(approx.shape()));
  TINYML_CHECK(reference.numel() > 0, "{}: got empty tensors of shape {}", fn, shape_str(reference.shape()));
  return {reference.to_vector(), approx.to_vector()};
}

}  // namespace

Tensor round_trip(const Tensor& x, NumberFormat f) {
  constexpr const char* fn = "round_trip";
  TINYML_CHECK(x.defined(), "{}: got an undefined tensor", fn);
  if (!is_int(f)) return fp_round_trip(x, f);
  finite_values(x, fn, "the tensor");  // integer formats have no Inf or NaN
  return QTensor::quantize(x.detach(), per_tensor_affine(bits_of(f))).dequantize();
}

size_t stored_bytes(const Tensor& x, NumberFormat f) {
  TINYML_CHECK(x.defined(), "stored_bytes: got an undefined tensor");
  const auto n = static_cast<size_t>(x.numel());
  if (!is_int(f)) return n * static_cast<size_t>(bits_of(f) / 8);
  return QTensor::quantize(x.detach(), per_tensor_affine(bits_of(f))).nbytes();
}

// ---------------------------------------------------------------------------------------------
// metrics (accumulated in double)

double mse(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "mse");
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double d = static_cast<double>(a[i]) - r[i];
    s += d * d;
  }
  return s / static_cast<double>(r.size());
}

double max_abs_error(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "max_abs_error");
  double m = 0.0;
  for (size_t i = 0; i < r.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - r[i]));
  return m;
}

double mean_abs_error(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "mean_abs_error");
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) s += std::fabs(static_cast<double>(a[i]) - r[i]);
  return s / static_cast<double>(r.size());
}

double mean_relative_error(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "mean_relative_error");
  double err = 0.0, mag = 0.0;
  for (size_t i = 0; i < r.size(); ++i) {
    err += std::fabs(static_cast<double>(a[i]) - r[i]);
    mag += std::fabs(static_cast<double>(r[i]));
  }
  if (err == 0.0) return 0.0;
  return mag == 0.0 ? std::numeric_limits<double>::infinity() : err / mag;
}

double snr_db(const Tensor& w, const Tensor& w_hat) {
  TINYML_CHECK(w.defined() && w_hat.defined() && w.shape() == w_hat.shape(),
               "snr_db: needs two tensors of one shape, got {} and {}",
               w.defined() ? shape_str(w.shape()) : "undefined",
               w_hat.defined() ? shape_str(w_hat.shape()) : "undefined");
  const std::vector<float> a = w.to_vector(), b = w_hat.to_vector();
  double signal = 0.0, noise = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    signal += x * x;
    noise += d * d;
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

// ---------------------------------------------------------------------------------------------
// analyze_layer_precision

PrecisionReport analyze_layer_precision(const Tensor& W, const Tensor& X, NumberFormat format) {
  constexpr const char* fn = "analyze_layer_precision";
  TINYML_CHECK(W.defined() && X.defined(), "{}: got an undefined tensor", fn);
  TINYML_CHECK(W.dim() == 2 && X.dim() == 2 && W.size(1) == X.size(1),
               "{}: expected W (out, in) and X (N, in) with the same in, got W {} and X {}", fn,
               shape_str(W.shape()), shape_str(X.shape()));
  finite_values(W, fn, "W");
  finite_values(X, fn, "X");
  NoGradGuard no_grad;
  const Tensor w = W.detach().contiguous(), x = X.detach().contiguous();

  Tensor wq, xq;
  if (is_int(format)) {
    const int b = bits_of(format);
    const QTensor qw = QTensor::quantize(w, per_channel_symmetric(b));
    wq = qw.dequantize();
    xq = QTensor::quantize(x, per_tensor_affine(b)).dequantize();
  } else {
    wq = fp_round_trip(w, format);
    xq = fp_round_trip(x, format);
  }

  const Tensor y = matmul(x, w.t());
  const Tensor yq = matmul(xq, wq.t());
  PrecisionReport r;
  r.format = format;
  r.mean_abs_error = mean_abs_error(y, yq);
  r.max_abs_error = max_abs_error(y, yq);
  r.mean_relative_error = mean_relative_error(y, yq);
  r.snr_db = snr_db(y, yq);
  r.out_min = y.min().item();
  r.out_max = y.max().item();
  r.approx_min = yq.min().item();
  r.approx_max = yq.max().item();
  r.weight_snr_db = snr_db(w, wq);
  r.input_snr_db = snr_db(x, xq);
  r.weight_bytes = is_int(format) ? QTensor::quantize(w, per_channel_symmetric(bits_of(format))).nbytes()
                                  : stored_bytes(w, format);
  return r;
}

// ---------------------------------------------------------------------------------------------
// find_optimal_bitwidth

BitwidthChoice find_optimal_bitwidth(const Tensor& values, double max_rel_error) {
  constexpr const char* fn = "find_optimal_bitwidth";
  TINYML_CHECK(std::isfinite(max_rel_error) && max_rel_error > 0.0,
               "{}: max_rel_error must be a finite number > 0, got {}", fn, max_rel_error);
  finite_values(values, fn, "values");
  const Tensor v = values.detach().contiguous();
  BitwidthChoice c;
  // BEGIN SOLUTION 09: find_optimal_bitwidth: errors at 2..8 bits, and the smallest width meeting the bound
  const double fp32_bytes = 4.0 * static_cast<double>(v.numel());
  for (int b = 2; b <= 8; ++b) {
    const QTensor q = QTensor::quantize(v, per_tensor_affine(b));
    const double e = mean_relative_error(v, q.dequantize());
    c.errors.push_back(e);
    if (!c.found && e <= max_rel_error) {
      c.found = true;
      c.bits = b;
      c.relative_error = e;
      c.compression_ratio = fp32_bytes / static_cast<double>(q.nbytes());
    }
  }
  // END SOLUTION
  return c;
}

// ---------------------------------------------------------------------------------------------
// weight_error_table

namespace {
void collect_linears(const nn::Module& m, const std::string& prefix,
                     std::vector<std::pair<std::string, const nn::Linear*>>& out) {
  for (const auto& [name, child] : m.named_children()) {
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (const auto* lin = dynamic_cast<const nn::Linear*>(child.get())) out.emplace_back(full, lin);
    collect_linears(*child, full, out);
  }
}
}  // namespace

std::vector<LayerError> weight_error_table(const nn::Module& model, int bits) {
  constexpr const char* fn = "weight_error_table";
  const QuantSpec spec = per_channel_symmetric(bits);
  spec.validate(fn);
  std::vector<std::pair<std::string, const nn::Linear*>> linears;
  if (const auto* self = dynamic_cast<const nn::Linear*>(&model)) linears.emplace_back("", self);
  collect_linears(model, "", linears);
  TINYML_CHECK(!linears.empty(), "{}: the {} holds no Linear layer", fn, model.type_name());

  std::vector<LayerError> rows;
  NoGradGuard no_grad;
  for (const auto& [name, lin] : linears) {
    const Tensor w = lin->weight.detach().contiguous();
    finite_values(w, fn, fmt::format("the weight of '{}'", name).c_str());
    const QTensor q = QTensor::quantize(w, spec);
    const Tensor wq = q.dequantize();
    LayerError e;
    e.name = name;
    e.shape = w.shape();
    e.bits = bits;
    e.mse = mse(w, wq);
    e.max_abs_error = max_abs_error(w, wq);
    e.mean_relative_error = mean_relative_error(w, wq);
    e.snr_db = snr_db(w, wq);
    e.fp32_bytes = static_cast<size_t>(w.numel()) * sizeof(float);
    e.quantized_bytes = q.nbytes();
    rows.push_back(std::move(e));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// argmax_flip_experiment

FlipResult argmax_flip_experiment(Generator& gen, int64_t samples) {
  TINYML_CHECK(samples > 0, "argmax_flip_experiment: samples must be > 0, got {}", samples);
  FlipResult r;
  r.samples = samples;
  nn::Linear l1(r.inputs, r.hidden, true, gen);
  nn::Linear l2(r.hidden, r.classes, true, gen);
  const Tensor x = Tensor::randn({samples, r.inputs}, gen);

  NoGradGuard no_grad;
  const auto logits_with = [&](const Tensor& w1, const Tensor& w2) {
    return linear(relu(linear(x, w1, l1.bias)), w2, l2.bias);
  };
  const auto weights_at = [](const Tensor& w, int bits) {
    return QTensor::quantize(w.detach(), per_channel_symmetric(bits)).dequantize();
  };
  const Tensor ref = logits_with(l1.weight, l2.weight);
  const Tensor q8 = logits_with(weights_at(l1.weight, 8), weights_at(l2.weight, 8));
  const Tensor q4 = logits_with(weights_at(l1.weight, 4), weights_at(l2.weight, 4));
  const std::vector<float> am = argmax(ref, 1).to_vector();
  const std::vector<float> a8 = argmax(q8, 1).to_vector();
  const std::vector<float> a4 = argmax(q4, 1).to_vector();
  for (size_t i = 0; i < am.size(); ++i) {
    r.flips_int8 += am[i] != a8[i];
    r.flips_int4 += am[i] != a4[i];
  }

  const std::vector<float> lv = ref.to_vector();
  double gap = 0.0;
  for (int64_t i = 0; i < samples; ++i) {
    const float* row = lv.data() + i * r.classes;
    float top = -std::numeric_limits<float>::infinity(), second = top;
    for (int64_t c = 0; c < r.classes; ++c) {
      if (row[c] > top) {
        second = top;
        top = row[c];
      } else if (row[c] > second) {
        second = row[c];
      }
    }
    gap += static_cast<double>(top) - second;
  }
  r.mean_top2_gap = gap / static_cast<double>(samples);
  r.logit_snr_int8_db = snr_db(ref, q8);
  r.logit_snr_int4_db = snr_db(ref, q4);
  return r;
}

}  // namespace tinyml::quant
