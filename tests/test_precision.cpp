// Tests of the precision lab: fp16/bf16 bit patterns, round trips, error metrics, SNR, bit-width choice.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/precision.hpp"
#include "tinyml/quant/qtensor.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

float from_bits(uint32_t b) { return std::bit_cast<float>(b); }
bool half_is_nan(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0; }
bool bf16_is_nan(uint16_t b) { return (b & 0x7F80u) == 0x7F80u && (b & 0x7Fu) != 0; }
float pow2(int e) { return std::ldexp(1.0f, e); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// binary16

// Every expected pattern recorded with NumPy 1.24 (/usr/bin/python3), e.g.
//   np.float32(65520.0).astype(np.float16).view(np.uint16)  → 0x7c00
//   np.float32(3 * 2.0**-26).astype(np.float16).view(np.uint16) → 0x1
TEST(Half, RecordedBitPatterns) {
  struct Case {
    float x;
    uint16_t h;
  };
  const Case cases[] = {
      {1.0f, 0x3C00},
      {65504.0f, 0x7BFF},               // largest finite half
      {from_bits(0x477FEFFD), 0x7BFF},  // 65519.988: just below the tie, stays finite
      {65520.0f, 0x7C00},               // the tie between 65504 and 65536: to even, which is Inf
      {70000.0f, 0x7C00},
      {pow2(-24), 0x0001},              // smallest subnormal
      {pow2(-25), 0x0000},              // half of it: tie between 0 and 2^-24, to even 0
      {3.0f * pow2(-26), 0x0001},       // 1.5 · 2^-25: above the tie
      {1.5f * pow2(-24), 0x0002},       // tie between 1 and 2 subnormal steps: to even 2
      {2.5f * pow2(-24), 0x0002},       // tie between 2 and 3: to even 2
      {pow2(-14), 0x0400},              // smallest normal
      {pow2(-14) - pow2(-24), 0x03FF},  // largest subnormal
      {6.1e-5f, 0x03FF},
      {1e-8f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f + pow2(-11), 0x3C00},         // tie: to even (mantissa 0)
      {1.0f + 3.0f * pow2(-11), 0x3C02},  // tie: to even (mantissa 2)
      {0.1f, 0x2E66},
      {-2.5f, 0xC100},
      {1.0f / 3.0f, 0x3555},
      {std::numeric_limits<float>::infinity(), 0x7C00},
      {-std::numeric_limits<float>::infinity(), 0xFC00},
      {std::numeric_limits<float>::quiet_NaN(), 0x7E00},   // np: 0x7e00
      {-std::numeric_limits<float>::quiet_NaN(), 0xFE00},  // np: 0xfe00
  };
  for (const Case& c : cases) {
    EXPECT_EQ(float_to_half_bits(c.x), c.h) << std::hexfloat << c.x;
  }
}

// A signalling NaN whose payload sits only in the low 13 bits must not become Inf (0x7C00).
TEST(Half, NaNStaysNaN) {
  for (uint32_t payload : {1u, 0x1FFFu, 0x400000u, 0x7FFFFFu}) {
    const uint16_t h = float_to_half_bits(from_bits(0x7F800000u | payload));
    EXPECT_TRUE(half_is_nan(h)) << std::hex << payload << " -> " << h;
    EXPECT_TRUE(half_is_nan(float_to_half_bits(from_bits(0xFF800000u | payload))));
  }
  EXPECT_TRUE(std::isnan(half_bits_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(half_bits_to_float(0xFC01)));
  EXPECT_TRUE(std::signbit(half_bits_to_float(0xFC01)));
}

// Exhaustive: every half value converts to float and back to the same bits.
TEST(Half, EveryValueRoundTrips) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto b = static_cast<uint16_t>(h);
    const float f = half_bits_to_float(b);
    if (half_is_nan(b)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      continue;
    }
    ASSERT_EQ(float_to_half_bits(f), b) << std::hex << h;
  }
  EXPECT_EQ(half_bits_to_float(0x0001), pow2(-24));
  EXPECT_EQ(half_bits_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_bits_to_float(0xC100), -2.5f);
}

// Exhaustive rounding: between every two adjacent finite halves, the midpoint (exact in float:
// 12 significant bits) goes to the one with an even mantissa, and the floats just either side of it
// go to the nearer one. This checks round-to-nearest-even over the whole range, subnormals included.
TEST(Half, EveryMidpointRoundsToEven) {
  for (uint16_t h = 0; h < 0x7BFF; ++h) {
    const double lo = half_bits_to_float(h), hi = half_bits_to_float(static_cast<uint16_t>(h + 1));
    const auto mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    const uint16_t even = (h & 1u) ? static_cast<uint16_t>(h + 1) : h;
    ASSERT_EQ(float_to_half_bits(mid), even) << std::hex << h;
    ASSERT_EQ(float_to_half_bits(-mid), even | 0x8000u) << std::hex << h;
    ASSERT_EQ(float_to_half_bits(std::nextafter(mid, 0.0f)), h) << std::hex << h;
    ASSERT_EQ(float_to_half_bits(std::nextafter(mid, 1e9f)), h + 1) << std::hex << h;
  }
}

// ---------------------------------------------------------------------------------------------
// bfloat16

// Recorded with PyTorch 1.13: torch.tensor([x]).to(torch.bfloat16).view(torch.int16) & 0xffff.
// (PyTorch turns NaN into 0xffff, one NaN among many; we keep the sign and set the quiet bit.)
TEST(BFloat16, RecordedBitPatterns) {
  struct Case {
    float x;
    uint16_t b;
  };
  const Case cases[] = {
      {1.0f, 0x3F80},
      {1.00390625f, 0x3F80},            // 0x3F808000: tie, kept mantissa even: stays
      {1.01171875f, 0x3F82},            // 0x3F818000: tie, kept mantissa odd: up
      {from_bits(0x3F808008), 0x3F81},  // just above the tie: up
      {-2.5f, 0xC020},
      {0.1f, 0x3DCD},
      {1.0f / 3.0f, 0x3EAB},
      {65504.0f, 0x4780},
      {from_bits(0x7F7EFF65), 0x7F7F},  // 3.3895e38
      {from_bits(0x7F7F0906), 0x7F7F},  // 3.39e38: below the tie, stays finite
      {from_bits(0x7F7FC99E), 0x7F80},  // 3.4e38: overflows to Inf
      {std::numeric_limits<float>::max(), 0x7F80},
      {from_bits(0x000116C2), 0x0001},  // 1e-40, a float subnormal
      {-0.0f, 0x8000},
      {std::numeric_limits<float>::infinity(), 0x7F80},
      {-std::numeric_limits<float>::infinity(), 0xFF80},
  };
  for (const Case& c : cases) EXPECT_EQ(float_to_bfloat16_bits(c.x), c.b) << std::hexfloat << c.x;
  // NaN: any payload, either sign, stays NaN (a payload only in the low 16 bits must not become Inf).
  for (uint32_t payload : {1u, 0xFFFFu, 0x400000u}) {
    EXPECT_TRUE(bf16_is_nan(float_to_bfloat16_bits(from_bits(0x7F800000u | payload))));
    EXPECT_TRUE(bf16_is_nan(float_to_bfloat16_bits(from_bits(0xFF800000u | payload))));
  }
  EXPECT_TRUE(std::isnan(bfloat16_bits_to_float(0x7FC0)));
}

TEST(BFloat16, EveryValueRoundTripsAndEveryMidpointRoundsToEven) {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto v = static_cast<uint16_t>(b);
    const float f = bfloat16_bits_to_float(v);
    if (bf16_is_nan(v)) {
      ASSERT_TRUE(std::isnan(f));
      continue;
    }
    ASSERT_EQ(float_to_bfloat16_bits(f), v) << std::hex << b;
    // The float halfway to the next pattern (low 16 bits 0x8000), finite values only.
    if ((v & 0x7F80u) != 0x7F80u) {
      const float mid = from_bits((b << 16) | 0x8000u);
      const uint16_t even = (v & 1u) ? static_cast<uint16_t>(v + 1) : v;
      ASSERT_EQ(float_to_bfloat16_bits(mid), even) << std::hex << b;
      ASSERT_EQ(float_to_bfloat16_bits(from_bits((b << 16) | 0x7FFFu)), v) << std::hex << b;
      ASSERT_EQ(float_to_bfloat16_bits(from_bits((b << 16) | 0x8001u)), v + 1) << std::hex << b;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// round trips and metrics

TEST(RoundTrip, FormatsAndBounds) {
  Generator gen(11);
  const Tensor x = Tensor::randn({64, 32}, gen);
  EXPECT_TRUE(equal(round_trip(x, NumberFormat::FP32), x));
  const auto v = x.to_vector();
  const auto h = round_trip(x, NumberFormat::FP16).to_vector();
  const auto b = round_trip(x, NumberFormat::BF16).to_vector();
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(h[i], half_bits_to_float(float_to_half_bits(v[i])));
    ASSERT_EQ(b[i], bfloat16_bits_to_float(float_to_bfloat16_bits(v[i])));
  }
  // INT8/INT4 are affine min/max per tensor: every value within scale/2 (plus float rounding of
  // s·(q − z), a few ulps of the range; 1e-6 covers it for |x| < 5).
  for (NumberFormat f : {NumberFormat::INT8, NumberFormat::INT4}) {
    const QParams qp =
        choose_qparams(x, QuantSpec{bits_of(f), Scheme::Affine, Granularity::PerTensor, 0, false});
    EXPECT_LE(max_abs_error(x, round_trip(x, f)), qp.scale[0] / 2 + 1e-6) << to_string(f);
  }
  EXPECT_EQ(stored_bytes(x, NumberFormat::FP32), 64u * 32u * 4u);
  EXPECT_EQ(stored_bytes(x, NumberFormat::BF16), 64u * 32u * 2u);
  EXPECT_EQ(stored_bytes(x, NumberFormat::INT8), 64u * 32u + 8u);       // + scale and zero point
  EXPECT_EQ(stored_bytes(x, NumberFormat::INT4), 64u * 32u / 2u + 8u);  // packed
  EXPECT_THROW(round_trip(Tensor({1.0f, std::nanf("")}), NumberFormat::INT8), Error);
  EXPECT_TRUE(std::isnan(round_trip(Tensor({std::nanf("")}), NumberFormat::FP16).item()));
  EXPECT_EQ(parse_number_format("bf16"), NumberFormat::BF16);
  EXPECT_THROW(parse_number_format("fp8"), Error);
}

TEST(Metrics, HandComputedValues) {
  const Tensor r({1.0f, -2.0f, 3.0f, 0.0f});
  const Tensor a({1.5f, -2.0f, 2.0f, 0.5f});
  // errors 0.5, 0, −1, 0.5
  EXPECT_DOUBLE_EQ(mse(r, a), (0.25 + 0 + 1 + 0.25) / 4);
  EXPECT_DOUBLE_EQ(max_abs_error(r, a), 1.0);
  EXPECT_DOUBLE_EQ(mean_abs_error(r, a), 2.0 / 4);
  EXPECT_DOUBLE_EQ(mean_relative_error(r, a), 2.0 / 6.0);  // Σ|e| / Σ|r|
  EXPECT_DOUBLE_EQ(snr_db(r, a), 10 * std::log10(14.0 / 1.5));
  EXPECT_EQ(snr_db(r, r), std::numeric_limits<double>::infinity());
  EXPECT_EQ(mean_relative_error(r, r), 0.0);
  EXPECT_EQ(mean_relative_error(Tensor({0.0f}), Tensor({1.0f})), std::numeric_limits<double>::infinity());
  EXPECT_THROW(mse(r, Tensor({1.0f})), Error);
  EXPECT_THROW(mean_abs_error(Tensor::zeros({0}), Tensor::zeros({0})), Error);
}

// SNR of int8 (affine, min/max of the data) on 100 000 N(0, 1) samples.
// Uniform-noise model: the range R = max − min is covered in 255 steps Δ = R/255 with no clipping,
// and the rounding error is uniform on [−Δ/2, Δ/2], power Δ²/12. SNR = 10·log10(σ²·12/Δ²) =
// 10·log10(12·255²/R²). For n = 100 000 samples, E[max] = 4.384 (numerical integral of
// x·n·φ(x)·Φ(x)^(n−1)), so R ≈ 8.769 and SNR ≈ 40.06 dB. The spread comes from the extremes: 200
// NumPy draws gave 40.08 ± 0.37 dB (min 38.97, max 40.88), so ±1.5 dB is four standard deviations.
TEST(Snr, Int8OnGaussianMatchesTheory) {
  Generator gen(2024);
  const Tensor x = Tensor::randn({100000}, gen);
  const double snr = snr_db(x, round_trip(x, NumberFormat::INT8));
  EXPECT_NEAR(snr, 40.06, 1.5);
  // Given this sample's own range, the model predicts it far more tightly: the measured noise
  // power is a mean of 100 000 values of e², whose relative standard deviation is
  // sqrt(1/80 − 1/144)·12 / sqrt(n) = 0.28 %, i.e. 0.012 dB; ±0.1 dB is eight of those.
  const auto v = x.to_vector();
  double sig = 0, mn = v[0], mx = v[0];
  for (float e : v) {
    sig += static_cast<double>(e) * e;
    mn = std::min<double>(mn, e);
    mx = std::max<double>(mx, e);
  }
  const double step = (mx - mn) / 255.0;
  EXPECT_NEAR(snr, 10 * std::log10(sig / static_cast<double>(v.size()) * 12.0 / (step * step)), 0.1);
}

// One bit less widens the step by (2^b − 1)/(2^(b−1) − 1): the "6.02 dB per bit" rule, exactly
// 20·log10 of that ratio (6.06 dB from 8 to 7 bits, 6.31 dB from 5 to 4). Checked down to 5 bits,
// where Δ = R/31 ≈ 0.28σ is still small enough for the uniform-noise model (Bennett's condition);
// ±0.15 dB is about ten times the sampling spread of the difference.
TEST(Snr, SixDecibelsPerBit) {
  Generator gen(5);
  const Tensor x = Tensor::randn({100000}, gen);
  const auto snr_at = [&](int b) {
    return snr_db(
        x, QTensor::quantize(x, QuantSpec{b, Scheme::Affine, Granularity::PerTensor, 0, false}).dequantize());
  };
  for (int b = 8; b >= 6; --b) {
    const double expected = 20 * std::log10(((1 << b) - 1.0) / ((1 << (b - 1)) - 1.0));
    EXPECT_NEAR(snr_at(b) - snr_at(b - 1), expected, 0.15) << "bits " << b;
  }
}

// fp16 keeps 11 significant bits, so for x in [2^e, 2^(e+1)) the error is uniform within half an
// ulp = 2^(e−10): power 2^(2e−20)/12 against x² = m²·2^(2e), m in [1, 2). Σ noise / Σ x² therefore
// lies between 2^-20/(12·4) and 2^-20/12: SNR between 10·log10(12·2^20) = 71.0 dB and
// 10·log10(48·2^20) = 77.0 dB. bf16 (8 significant bits): 2^-14 instead, 52.9 to 59.0 dB.
// 0.5 dB of slack for the finite sample.
TEST(AnalyzeLayerPrecision, FloatFormatsMatchTheirMantissas) {
  Generator gen(8);
  const Tensor W = Tensor::randn({128, 64}, gen) * 0.1f;
  const Tensor X = Tensor::randn({256, 64}, gen);
  const PrecisionReport h = analyze_layer_precision(W, X, NumberFormat::FP16);
  EXPECT_GE(h.weight_snr_db, 71.0 - 0.5);
  EXPECT_LE(h.weight_snr_db, 77.0 + 0.5);
  EXPECT_GE(h.input_snr_db, 71.0 - 0.5);
  EXPECT_LE(h.input_snr_db, 77.0 + 0.5);
  const PrecisionReport b = analyze_layer_precision(W, X, NumberFormat::BF16);
  EXPECT_GE(b.weight_snr_db, 52.9 - 0.5);
  EXPECT_LE(b.weight_snr_db, 59.0 + 0.5);
  EXPECT_EQ(h.weight_bytes, 128u * 64u * 2u);

  const PrecisionReport f = analyze_layer_precision(W, X, NumberFormat::FP32);
  EXPECT_EQ(f.mean_abs_error, 0.0);
  EXPECT_EQ(f.snr_db, std::numeric_limits<double>::infinity());
  const Tensor y = matmul(X, W.t());
  EXPECT_EQ(f.out_min, y.min().item());
  EXPECT_EQ(f.out_max, y.max().item());

  // Fewer bits, more noise: the order of the formats is the order of their output SNRs.
  const PrecisionReport i8 = analyze_layer_precision(W, X, NumberFormat::INT8);
  const PrecisionReport i4 = analyze_layer_precision(W, X, NumberFormat::INT4);
  EXPECT_GT(h.snr_db, b.snr_db);
  EXPECT_GT(b.snr_db, i8.snr_db);
  EXPECT_GT(i8.snr_db, i4.snr_db);
  EXPECT_LE(i8.mean_abs_error, i8.max_abs_error);
  // int4 weights: per output channel, 64 values packed in 32 bytes, plus scale and zero point.
  EXPECT_EQ(i4.weight_bytes, 128u * (32u + 8u));
  EXPECT_THROW(analyze_layer_precision(W, Tensor::zeros({4, 63}), NumberFormat::INT8), Error);
}

TEST(FindOptimalBitwidth, MonotoneInTheBound) {
  Generator gen(9);
  const Tensor v = Tensor::randn({1000}, gen);
  const BitwidthChoice any = find_optimal_bitwidth(v, 0.5);
  ASSERT_EQ(any.errors.size(), 7u);
  for (size_t i = 1; i < any.errors.size(); ++i) EXPECT_LT(any.errors[i], any.errors[i - 1]);
  int prev = 33;
  for (double bound = 1e-4; bound < 1.0; bound *= 1.3) {
    const BitwidthChoice c = find_optimal_bitwidth(v, bound);
    EXPECT_LE(c.bits, prev) << "bound " << bound;  // a looser bound never needs more bits
    prev = c.bits;
    if (!c.found) {
      EXPECT_EQ(c.bits, 32);
      EXPECT_EQ(c.compression_ratio, 1.0);
      EXPECT_GT(c.errors.back(), bound);
      continue;
    }
    EXPECT_LE(c.relative_error, bound);
    if (c.bits > 2) {
      EXPECT_GT(c.errors[static_cast<size_t>(c.bits - 3)], bound);  // one bit fewer fails
    }
    // 1000 values: 1000 bytes at 5..8 bits, 500 packed at 2..4, plus 8 bytes of qparams.
    const double bytes = (c.bits <= 4 ? 500.0 : 1000.0) + 8.0;
    EXPECT_DOUBLE_EQ(c.compression_ratio, 4000.0 / bytes);
  }
  EXPECT_EQ(prev, 2);  // the loosest bounds take 2 bits
  EXPECT_FALSE(find_optimal_bitwidth(v, 1e-9).found);
  EXPECT_THROW(find_optimal_bitwidth(v, 0.0), Error);
  EXPECT_THROW(find_optimal_bitwidth(v, std::nan("")), Error);
}

TEST(WeightErrorTable, EveryLinearWithRealBytes) {
  Generator gen(10);
  auto inner = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(6, 3, true, gen));
  nn::Sequential model(std::make_shared<nn::Linear>(10, 6, true, gen), std::make_shared<nn::ReLU>(), inner);
  const auto rows = weight_error_table(model, 4);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "0");
  EXPECT_EQ(rows[1].name, "2.0");
  EXPECT_EQ(rows[0].shape, (Shape{6, 10}));
  EXPECT_EQ(rows[0].fp32_bytes, 240u);
  EXPECT_EQ(rows[0].quantized_bytes, 6u * 5u + 6u * 8u);  // packed rows of 10 nibbles + qparams
  const Tensor w = model.at<nn::Linear>(0)->weight;
  const QTensor q = QTensor::quantize(w, QuantSpec{4, Scheme::Symmetric, Granularity::PerChannel, 0, true});
  EXPECT_DOUBLE_EQ(rows[0].snr_db, snr_db(w, q.dequantize()));
  EXPECT_DOUBLE_EQ(rows[0].mse, mse(w, q.dequantize()));
  // Symmetric per channel: no clipping, every error within half the largest channel step
  // (plus float rounding of s·q, far below 1e-7 for |w| < 1).
  float max_step = 0;
  for (float s : q.qparams().scale) max_step = std::max(max_step, s);
  EXPECT_LE(rows[0].max_abs_error, max_step / 2 + 1e-7);
  EXPECT_THROW(weight_error_table(model, 9), Error);
  EXPECT_THROW(weight_error_table(nn::ReLU(), 8), Error);
}
