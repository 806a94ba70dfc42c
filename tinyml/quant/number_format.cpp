#include "tinyml/quant/number_format.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cmath>
#include <vector>

#include "tinyml/core/error.hpp"
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

namespace {

struct FormatInfo {
  NumberFormat format;
  const char* name;
  int bits;
};
constexpr std::array<FormatInfo, 5> kFormats{{{NumberFormat::FP32, "fp32", 32},
                                              {NumberFormat::FP16, "fp16", 16},
                                              {NumberFormat::BF16, "bf16", 16},
                                              {NumberFormat::INT8, "int8", 8},
                                              {NumberFormat::INT4, "int4", 4}}};

const FormatInfo& info(NumberFormat f) {
  for (const FormatInfo& i : kFormats)
    if (i.format == f) return i;
  throw Error(
      fmt::format("number format {} is not one of fp32, fp16, bf16, int8, int4", static_cast<int>(f)));
}

template <class F>
Tensor map_values(const Tensor& x, F f) {
  std::vector<float> v = x.to_vector();
  for (float& e : v) e = f(e);
  return Tensor::from_vector(v, x.shape());
}

}  // namespace

const char* to_string(NumberFormat f) { return info(f).name; }

NumberFormat parse_number_format(const std::string& s) {
  for (const FormatInfo& i : kFormats)
    if (s == i.name) return i.format;
  throw Error(
      fmt::format("parse_number_format: unknown format '{}'; expected fp32, fp16, bf16, int8 or int4", s));
}

int bits_of(NumberFormat f) { return info(f).bits; }

QuantSpec per_tensor_affine(int bits) {
  return QuantSpec{bits, Scheme::Affine, Granularity::PerTensor, 0, false};
}

bool is_integer(NumberFormat f) { return f == NumberFormat::INT8 || f == NumberFormat::INT4; }

void check_finite(const Tensor& x, const char* fn, const char* what) {
  TINYML_CHECK(x.defined(), "{}: {} is undefined", fn, what);
  TINYML_CHECK(x.numel() > 0, "{}: {} of shape {} is empty", fn, what, shape_str(x.shape()));
  const std::vector<float> v = x.to_vector();
  for (size_t i = 0; i < v.size(); ++i)
    TINYML_CHECK(std::isfinite(v[i]), "{}: {} of shape {} holds a non-finite value {} at flat index {}", fn,
                 what, shape_str(x.shape()), v[i], i);
}

Tensor round_trip(const Tensor& x, NumberFormat f) {
  constexpr const char* fn = "round_trip";
  TINYML_CHECK(x.defined(), "{}: got an undefined tensor", fn);
  if (f == NumberFormat::FP16)
    return map_values(x, [](float v) { return half_bits_to_float(float_to_half_bits(v)); });
  if (f == NumberFormat::BF16)
    return map_values(x, [](float v) { return bfloat16_bits_to_float(float_to_bfloat16_bits(v)); });
  if (!is_integer(f)) return x.detach().clone();
  check_finite(x, fn, "the tensor");  // integer formats have no Inf or NaN
  return QTensor::quantize(x.detach(), per_tensor_affine(bits_of(f))).dequantize();
}

size_t stored_bytes(const Tensor& x, NumberFormat f) {
  TINYML_CHECK(x.defined(), "stored_bytes: got an undefined tensor");
  const auto n = static_cast<size_t>(x.numel());
  if (!is_integer(f)) return n * static_cast<size_t>(bits_of(f) / 8);
  return QTensor::quantize(x.detach(), per_tensor_affine(bits_of(f))).nbytes();
}

}  // namespace tinyml::quant
