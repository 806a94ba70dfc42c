// Module 08 step tests: qparams, quantize/dequantize, QTensor storage, calibration hooks,
// weight-only QuantizedLinear, quantize_model and model sizes. (Integer GEMMs are module 10.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

QuantSpec uint8_affine() { return QuantSpec::int8_affine(); }
QuantSpec int8_symmetric() { return {8, Scheme::Symmetric, Granularity::PerTensor, 0, true}; }

std::shared_ptr<nn::Sequential> mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(8, 16, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(16, 16, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(16, 4, true, gen));
}

float mean_abs(const Tensor& t) { return t.abs().mean().item(); }

size_t hooks_in(nn::Module& model) {
  size_t n = 0;
  for (const auto& [name, m] : model.named_modules()) n += m->num_forward_hooks();
  return n;
}

}  // namespace

// ---- qparams ----

TEST(QParams, AffineMatchesPyTorchMinMaxObserver) {
  // Recorded with PyTorch 1.13: MinMaxObserver(dtype=torch.quint8) on [lo, hi], calculate_qparams().
  struct Case {
    float lo, hi, scale;
    int32_t zp;
  };
  const Case cases[] = {{-1.0f, 3.0f, 0.01568627543747425f, 64},  {-0.7f, 2.3f, 0.0117647061124444f, 59},
                        {0.5f, 2.0f, 0.007843137718737125f, 0},   {-3.0f, -1.0f, 0.0117647061124444f, 255},
                        {0.0f, 0.0f, 1.1920928955078125e-07f, 0}, {-0.001f, 1000.0f, 3.92157244682312f, 0}};
  for (const Case& c : cases) {
    const QParams qp = choose_qparams(c.lo, c.hi, uint8_affine());
    ASSERT_EQ(qp.scale.size(), 1u);
    EXPECT_FLOAT_EQ(qp.scale[0], c.scale) << "[" << c.lo << ", " << c.hi << "]";
    EXPECT_EQ(qp.zero_point[0], c.zp) << "[" << c.lo << ", " << c.hi << "]";
  }
  // Signed affine (torch.qint8, quant_min −128): the same scale, the zero point shifted by −128.
  const QParams s8 = choose_qparams(-0.7f, 2.3f, {8, Scheme::Affine, Granularity::PerTensor, 0, true});
  EXPECT_FLOAT_EQ(s8.scale[0], 0.0117647061124444f);
  EXPECT_EQ(s8.zero_point[0], -69);
}

TEST(QParams, SymmetricIsRestrictedToPlusMinusQmax) {
  const QParams qp = choose_qparams(-2.0f, 0.5f, int8_symmetric());
  EXPECT_FLOAT_EQ(qp.scale[0], 2.0f / 127.0f);  // amax / qmax
  EXPECT_EQ(qp.zero_point[0], 0);
  EXPECT_EQ(int8_symmetric().qmin(), -127);  // not −128: the range is symmetric
  const QParams q4 = choose_qparams(-0.3f, 0.7f, {4, Scheme::Symmetric, Granularity::PerTensor, 0, true});
  EXPECT_FLOAT_EQ(q4.scale[0], 0.1f);  // 0.7 / 7
}

TEST(QParams, PerChannelGivesOneScalePerRow) {
  const Tensor w = Tensor({{1.0f, -2.0f, 0.5f}, {0.1f, 0.2f, -0.05f}});
  const QParams qp = choose_qparams(w, QuantSpec::int8_symmetric_per_channel(0));
  ASSERT_EQ(qp.scale.size(), 2u);
  EXPECT_FLOAT_EQ(qp.scale[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(qp.scale[1], 0.2f / 127.0f);
}

TEST(QParams, RoundHalfToEven) {
  EXPECT_EQ(round_half_even(0.5f), 0.0f);
  EXPECT_EQ(round_half_even(1.5f), 2.0f);
  EXPECT_EQ(round_half_even(2.5f), 2.0f);
  EXPECT_EQ(round_half_even(-1.5f), -2.0f);
  EXPECT_EQ(round_half_even(-2.5f), -2.0f);
  EXPECT_EQ(round_half_even(2.4999998f), 2.0f);
  EXPECT_EQ(round_half_even(-0.7f), -1.0f);
  EXPECT_EQ(round_half_even(8388609.0f), 8388609.0f);  // 2^23 + 1: already an integer
}

TEST(QParams, QuantizeValueRoundsClampsAndRejectsNaN) {
  EXPECT_EQ(quantize_value(0.25f, 0.1f, 10, 0, 255), 12);    // 2.5 → 2 (even), + 10
  EXPECT_EQ(quantize_value(-5.0f, 0.1f, 10, 0, 255), 0);     // −40 clamps to qmin
  EXPECT_EQ(quantize_value(100.0f, 0.1f, 10, 0, 255), 255);  // clamps to qmax
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(quantize_value(inf, 0.1f, 0, -127, 127), 127);
  EXPECT_EQ(quantize_value(-inf, 0.1f, 0, -127, 127), -127);
  EXPECT_TINYML_ERROR(quantize_value(std::nanf(""), 0.1f, 0, 0, 255), "quantize_value", "NaN");
  // x · (1/s) with 1/s in float32, as PyTorch 1.13: 0.01 / s is 127.49999 but 0.01 · (1/s) the
  // tie 127.5. From torch.quantize_per_tensor(torch.tensor([-0.01, 0.01]), 7.84313743e-05, 127,
  // torch.quint8).int_repr() → [0, 255]; dividing by s gives [0, 254].
  EXPECT_EQ(quantize_value(0.01f, 7.84313743e-05f, 127, 0, 255), 255);
  EXPECT_EQ(quantize_value(-0.01f, 7.84313743e-05f, 127, 0, 255), 0);
}

TEST(QParams, ZeroIsExactlyRepresentable) {
  const std::pair<float, float> ranges[] = {{-0.7f, 2.3f}, {0.5f, 2.0f}, {-3.0f, -1.0f}, {-1e-3f, 1e3f}};
  for (const auto& [lo, hi] : ranges) {
    const QParams qp = choose_qparams(lo, hi, uint8_affine());
    const int32_t q = quantize_value(0.0f, qp.scale[0], qp.zero_point[0], 0, 255);
    EXPECT_EQ(dequantize_value(q, qp.scale[0], qp.zero_point[0]), 0.0f) << lo << " " << hi;
  }
}

TEST(QParams, RejectsBadRangesAndSpecs) {
  EXPECT_TINYML_ERROR(choose_qparams(2.0f, 1.0f, uint8_affine()), "choose_qparams", "2", "1");
  EXPECT_TINYML_ERROR(choose_qparams(0.0f, std::numeric_limits<float>::infinity(), uint8_affine()), "finite");
  EXPECT_TINYML_ERROR(choose_qparams(0.0f, 1.0f, {9, Scheme::Affine, Granularity::PerTensor, 0, false}),
                      "bits", "9");
  EXPECT_TINYML_ERROR(choose_qparams(Tensor::zeros({0}), uint8_affine()), "choose_qparams", "empty");
  // And a valid call still works after the checks.
  EXPECT_EQ(choose_qparams(-1.0f, 3.0f, uint8_affine()).zero_point[0], 64);
}

// ---- QTensor ----

TEST(QTensor, RoundTripErrorIsAtMostHalfAStep) {
  Generator gen(7);
  const Tensor x = Tensor::randn({64, 33}, gen) * 3.0f;
  for (const QuantSpec& spec : {uint8_affine(), int8_symmetric(), QuantSpec::int8_symmetric_per_channel(0),
                                QuantSpec{4, Scheme::Affine, Granularity::PerTensor, 0, false},
                                QuantSpec{4, Scheme::Symmetric, Granularity::PerChannel, 1, true}}) {
    const QTensor q = QTensor::quantize(x, spec);
    const Tensor back = q.dequantize();
    ASSERT_EQ(back.shape(), x.shape());
    const std::vector<float> xv = x.to_vector(), bv = back.to_vector();
    const ChannelLayout l = channel_layout(x.shape(), spec, "test");
    float worst = 0.0f;  // the largest |error| / scale
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t c = 0; c < l.channels; ++c)
        for (int64_t i = 0; i < l.inner; ++i) {
          const size_t k = static_cast<size_t>((o * l.channels + c) * l.inner + i);
          const float s =
              q.qparams().scale[static_cast<size_t>(spec.granularity == Granularity::PerChannel ? c : 0)];
          worst = std::max(worst, std::fabs(bv[k] - xv[k]) / s);
        }
    // min/max qparams cover every value, so rounding is the only error: half a step, plus float
    // rounding of x/s (a few ulps of values up to 255).
    EXPECT_LE(worst, 0.5f + 1e-4f) << spec.to_string();
  }
}

TEST(QTensor, DequantizeIsScaleTimesQMinusZeroPoint) {
  const QParams qp{uint8_affine(), {0.1f}, {64}};
  const QTensor q = QTensor::from_values(std::vector<int32_t>{0, 64, 255}, {3}, qp);
  // s·(q − z), not s·q + z·s (a known wrong formula that shifts every value by 2·z·s).
  EXPECT_TRUE(course::tensor_near(q.dequantize(), {3}, {-6.4f, 0.0f, 19.1f}, 1e-5f));
}

TEST(QTensor, AllPositiveAndConstantTensorsKeepTheirValues) {
  // An all-positive range is widened to include 0, not clamped: its top must survive.
  const QTensor pos = QTensor::quantize(Tensor({1.0f, 1.5f, 2.0f}), uint8_affine());
  EXPECT_NEAR(pos.dequantize().at({2}), 2.0f, 0.5f * pos.qparams().scale[0]);
  // A constant tensor must not come back as zeros.
  const QTensor c = QTensor::quantize(Tensor::full({5}, 3.0f), uint8_affine());
  EXPECT_TRUE(course::tensor_near(c.dequantize(), {5}, std::vector<float>(5, 3.0f), 1e-6f));
}

TEST(QTensor, StoresRealIntegers) {
  const Tensor x = Tensor::rand({10, 100});
  const QTensor q8 = QTensor::quantize(x, uint8_affine());
  EXPECT_EQ(q8.dtype(), QDtype::UInt8);
  EXPECT_EQ(q8.storage_bytes(), 1000u);
  EXPECT_EQ(q8.nbytes(), 1000u + 8u);  // + one float scale and one int32 zero point
  const QTensor q4 = QTensor::quantize(x, QuantSpec{4, Scheme::Symmetric, Granularity::PerChannel, 0, true});
  EXPECT_EQ(q4.dtype(), QDtype::Int4Packed);
  EXPECT_EQ(q4.storage_bytes(), 500u);  // two values per byte
  EXPECT_EQ(q4.nbytes(), 500u + 10u * 8u);
  for (int32_t v : q4.values()) {
    EXPECT_GE(v, -7);
    EXPECT_LE(v, 7);
  }
}

TEST(QTensor, Int4PackingLayout) {
  // Element 2t in the low nibble of byte t, element 2t + 1 in the high nibble; signed nibbles are
  // two's complement: −2 = 0xE, −8 = 0x8.
  EXPECT_THAT(pack_int4(std::vector<int32_t>{1, -2, 7, -8}, 4, true), ::testing::ElementsAre(0xE1, 0x87));
  // Odd rows start on a byte boundary; the unused high nibble is 0.
  EXPECT_THAT(pack_int4(std::vector<int32_t>{1, 2, 3, 4, 5, 6}, 3, false),
              ::testing::ElementsAre(0x21, 0x03, 0x54, 0x06));
  const std::vector<uint8_t> bytes{0x21, 0x03, 0x54, 0x06};
  EXPECT_THAT(unpack_int4(bytes, 6, 3, false), ::testing::ElementsAre(1, 2, 3, 4, 5, 6));
  const std::vector<uint8_t> signed_bytes{0xE1, 0x87};
  EXPECT_THAT(unpack_int4(signed_bytes, 4, 4, true), ::testing::ElementsAre(1, -2, 7, -8));
  EXPECT_TINYML_ERROR(pack_int4(std::vector<int32_t>{8}, 1, true), "pack_int4", "8", "[-8, 7]");
  EXPECT_TINYML_ERROR(unpack_int4(bytes, 6, 2, false), "unpack_int4");  // 3 rows of 2 need 3 bytes
}

// ---- calibration hooks ----

TEST(Calibration, ObservesEveryLinearInputThroughHooksAndRemovesThem) {
  Generator gen(3);
  auto model = mlp(gen);
  model->train();
  const std::vector<Tensor> batches{Tensor::randn({32, 8}, gen), Tensor::randn({32, 8}, gen) * 2.0f};
  CalibrationConfig config;
  config.observer = "minmax";
  const CalibrationResult r = calibrate(*model, batches, config);
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_EQ(r.layers[0].name, "0");
  EXPECT_EQ(r.layers[1].name, "2");
  EXPECT_EQ(r.layers[2].name, "4");
  // Layer "0" sees the raw batches: 64 rows of 8 values, and their exact extremes.
  EXPECT_EQ(r.at("0").count, 64 * 8);
  const float lo = std::min(batches[0].min().item(), batches[1].min().item());
  const float hi = std::max(batches[0].max().item(), batches[1].max().item());
  EXPECT_FLOAT_EQ(r.at("0").min, lo);
  EXPECT_FLOAT_EQ(r.at("0").max, hi);
  EXPECT_GE(r.at("2").min, 0.0f);                 // after a ReLU
  EXPECT_EQ(r.at("2").qparams.zero_point[0], 0);  // so the range starts at 0
  EXPECT_EQ(hooks_in(*model), 0u);
  EXPECT_TRUE(model->is_training());  // the mode it had
  EXPECT_TINYML_ERROR(r.at("1"), "no layer named '1'");
}

TEST(Calibration, HooksAreRemovedWhenForwardThrows) {
  Generator gen(3);
  auto model = mlp(gen);
  EXPECT_TINYML_ERROR(calibrate(*model, {Tensor::randn({4, 8}, gen), Tensor::randn({4, 5}, gen)}),
                      "Linear::forward");
  EXPECT_EQ(hooks_in(*model), 0u);
  EXPECT_TINYML_ERROR(calibrate(*model, {}), "calibrate", "no calibration data");
  EXPECT_EQ(calibrate(*model, {Tensor::randn({4, 8}, gen)}).layers.size(), 3u);  // still usable
}

// ---- QuantizedLinear (weight-only) and quantize_model ----

TEST(QuantizedLinear, WeightOnlyComputesWithTheDequantizedWeight) {
  Generator gen(5);
  nn::Linear lin(16, 8, true, gen);
  const auto spec = QuantSpec::int8_symmetric_per_channel(0);
  auto q = QuantizedLinear::from_float(lin, spec, QuantMode::WeightOnly);
  const Tensor x = Tensor::randn({5, 16}, gen);
  NoGradGuard no_grad;
  const Tensor expected =
      linear(x, QTensor::quantize(lin.weight.detach(), spec).dequantize(), lin.bias.detach());
  EXPECT_TRUE(allclose((*q)(x), expected, 1e-5f, 1e-6f));
  // And it is close to the float layer: per-channel int8 keeps ~40 dB on a random weight.
  EXPECT_TRUE(allclose((*q)(x), lin(x), 0.0f, 0.05f));
  EXPECT_EQ((*q)(Tensor::randn({16}, gen)).shape(), (Shape{8}));  // one example without a batch dim
}

TEST(QuantizedLinear, MemoryIsCountedFromRealStorage) {
  Generator gen(5);
  nn::Linear lin(64, 32, true, gen);
  auto q8 = QuantizedLinear::from_float(lin, QuantSpec::int8_symmetric_per_channel(0), QuantMode::WeightOnly);
  auto q4 = QuantizedLinear::from_float(lin, {4, Scheme::Symmetric, Granularity::PerChannel, 0, true},
                                        QuantMode::WeightOnly);
  EXPECT_EQ(q8->memory_usage().weight_bytes, 64u * 32u);
  EXPECT_EQ(q4->memory_usage().weight_bytes, 64u * 32u / 2u);
  EXPECT_EQ(q8->memory_usage().fp32_bytes, (64u * 32u + 32u) * 4u);
  NoGradGuard no_grad;
  const Tensor x = Tensor::randn({3, 64}, gen);
  // 4 bits: 16 steps per channel instead of 255; still the same function, more roughly.
  EXPECT_LT(mean_abs((*q4)(x)-lin(x)), mean_abs(lin(x)) * 0.3f);
}

TEST(QuantizeModel, ReplacesLinearsInPlaceHonoursSkipAndShrinksTheModel) {
  Generator gen(9);
  auto model = mlp(gen);
  auto reference = mlp(gen);
  reference->load_state_dict(model->state_dict());
  QuantConfig config;
  config.mode = QuantMode::WeightOnly;
  config.skip = {"last"};
  const QuantReport report = quantize_model(*model, config);
  ASSERT_EQ(report.layers.size(), 3u);
  EXPECT_NE(std::dynamic_pointer_cast<QuantizedLinear>((*model)[0]), nullptr);
  EXPECT_NE(std::dynamic_pointer_cast<QuantizedLinear>((*model)[2]), nullptr);
  EXPECT_NE(std::dynamic_pointer_cast<nn::Linear>((*model)[4]), nullptr);  // skipped: still float
  EXPECT_LT(report.bytes_after, report.bytes_before);
  EXPECT_EQ(report.bytes_before, model_bytes(*reference));
  EXPECT_EQ(report.bytes_after, model_bytes(*model));
  NoGradGuard no_grad;
  const Tensor x = Tensor::randn({16, 8}, gen);
  EXPECT_TRUE(allclose((*model)(x), (*reference)(x), 0.0f, 0.05f));
  QuantConfig bad;
  bad.mode = QuantMode::WeightOnly;
  bad.skip = {"nope"};
  EXPECT_TINYML_ERROR(quantize_model(*reference, bad), "nope");
}

TEST(QuantizeModel, CompareModelSizes) {
  Generator gen(9);
  auto a = mlp(gen);
  auto b = mlp(gen);
  b->load_state_dict(a->state_dict());
  QuantConfig config;
  config.mode = QuantMode::WeightOnly;
  quantize_model(*b, config);
  const SizeComparison c = compare_model_sizes(*a, *b);
  const size_t params = (8 * 16 + 16) + (16 * 16 + 16) + (16 * 4 + 4);
  EXPECT_EQ(c.a_bytes, params * 4);
  EXPECT_EQ(c.b_bytes, model_bytes(*b));
  // int8 weights (1 byte), fp32 biases (4), one scale and zero point per output channel (8).
  EXPECT_EQ(c.b_bytes, (8 * 16 + 16 * 16 + 16 * 4) + (16 + 16 + 4) * 4 + (16 + 16 + 4) * 8);
  EXPECT_NEAR(c.ratio, static_cast<double>(c.b_bytes) / static_cast<double>(c.a_bytes), 1e-12);
  EXPECT_THAT(c.to_string(), ::testing::HasSubstr("smaller"));
}
