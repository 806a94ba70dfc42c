// Module 09 step tests: fake quantization with the straight-through estimator, QAT (prepare,
// train, convert), fp16/bf16 by hand, and choosing a bit width. (Running a converted, integer
// model is module 10.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/quant/fake_quantize.hpp"
#include "tinyml/quant/precision.hpp"
#include "tinyml/quant/qat.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantized_linear.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

QuantSpec int4_symmetric() { return {4, Scheme::Symmetric, Granularity::PerTensor, 0, true}; }

Tensor leaf(const Tensor& t) {
  Tensor x = t;
  x.requires_grad_();
  return x;
}

std::shared_ptr<nn::Sequential> mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 16, true, gen),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(16, 3, true, gen));
}

}  // namespace

// ---- fake quantization ----

TEST(FakeQuantize, ValuesEqualQuantizeThenDequantize) {
  Generator gen(1);
  const Tensor x = Tensor::randn({6, 10}, gen);
  for (const QuantSpec& spec :
       {QuantSpec::int8_affine(), int4_symmetric(), QuantSpec::int8_symmetric_per_channel(0)}) {
    const QParams qp = choose_qparams(x, spec);
    const Tensor expected = QTensor::quantize(x, qp).dequantize();
    EXPECT_TRUE(equal(fake_quantize(x, qp), expected)) << spec.to_string();
    EXPECT_TRUE(equal(fake_quantize_ste(x, qp), expected)) << spec.to_string();
  }
}

TEST(FakeQuantize, StraightThroughGradientMatchesPyTorch) {
  // Recorded with PyTorch 1.13:
  //   x = torch.tensor([-1.0, -0.7, -0.3, 0.0, 0.64, 0.66, 2.0, 0.349], requires_grad=True)
  //   y = torch.fake_quantize_per_tensor_affine(x, 0.1, 0, -7, 7); y.backward(torch.arange(1., 9.))
  Tensor x = leaf(Tensor({-1.0f, -0.7f, -0.3f, 0.0f, 0.64f, 0.66f, 2.0f, 0.349f}));
  const QParams qp{int4_symmetric(), {0.1f}, {0}};
  const Tensor y = fake_quantize_ste(x, qp);
  EXPECT_TRUE(course::tensor_near(y, {8}, {-0.7f, -0.7f, -0.3f, 0.0f, 0.6f, 0.7f, 0.7f, 0.3f}, 1e-6f));
  y.backward(Tensor::arange(1.0f, 9.0f));
  // Zero where the value was clamped (−1.0 → −10 and 2.0 → 20 lie outside [−7, 7]), unchanged elsewhere.
  EXPECT_TRUE(course::tensor_near(x.grad(), {8}, {0, 2, 3, 4, 5, 6, 0, 8}, 0));
}

TEST(FakeQuantize, PerChannelMaskAndBadInput) {
  Tensor x = leaf(Tensor({{0.5f, 3.0f}, {0.5f, 3.0f}}));
  const QParams qp{{4, Scheme::Symmetric, Granularity::PerChannel, 0, true}, {0.1f, 1.0f}, {0, 0}};
  fake_quantize_ste(x, qp).sum().backward();
  // Row 0 has step 0.1: 3.0 → 30 is clamped. Row 1 has step 1: both values fit.
  EXPECT_TRUE(course::tensor_near(x.grad(), {2, 2}, {1, 0, 1, 1}, 0));
  EXPECT_TINYML_ERROR(fake_quantize_ste(Tensor({std::nanf("")}), QParams{int4_symmetric(), {0.1f}, {0}}),
                      "fake_quantize_ste", "NaN");
  EXPECT_TINYML_ERROR(fake_quantize_ste(Tensor({1.0f}), QParams{int4_symmetric(), {0.0f}, {0}}),
                      "fake_quantize_ste", "scale");
}

TEST(FakeQuantize, ModuleObservesInTrainingAndFreezesInEval) {
  auto fq = std::make_shared<FakeQuantize>(QuantSpec::int8_affine(), "minmax");
  fq->eval();
  EXPECT_TINYML_ERROR((*fq)(Tensor({1.0f})), "FakeQuantize::forward", "no qparams");  // nothing observed yet
  fq->train();
  (*fq)(Tensor({-1.0f, 2.0f}));
  ASSERT_TRUE(fq->has_qparams());
  EXPECT_FLOAT_EQ(fq->qparams().scale[0], 3.0f / 255.0f);
  fq->eval();
  const Tensor y = (*fq)(Tensor({-4.0f, 0.5f, 8.0f}));  // frozen range [−1, 2]: the ends clamp
  EXPECT_TRUE(
      course::tensor_near(y, {3}, {-1.0f, fake_quantize(Tensor({0.5f}), fq->qparams()).item(), 2.0f}, 1e-6f));
  fq->enable_fake_quant(false);
  EXPECT_TRUE(equal((*fq)(Tensor({0.123f})), Tensor({0.123f})));
}

// ---- quantization-aware training ----

TEST(Qat, PrepareWrapsLinearsAroundTheSameParameters) {
  Generator gen(2);
  auto model = mlp(gen);
  const Tensor w0 = model->at<nn::Linear>(0)->weight;
  const auto keys_before = model->state_dict();
  const std::vector<std::string> names = prepare_qat(*model, qat_config(8));
  EXPECT_THAT(names, ::testing::ElementsAre("0", "2"));
  auto q0 = model->at<QatLinear>(0);
  EXPECT_TRUE(q0->weight.same_storage(w0));  // an optimizer built before prepare_qat keeps working
  std::vector<std::string> before, after;
  for (const auto& [k, v] : keys_before) before.push_back(k);
  for (const auto& [k, v] : model->state_dict()) after.push_back(k);
  EXPECT_EQ(before, after);
  // The forward fake-quantizes: its output differs from the float layer's, but only a little.
  model->train();
  const Tensor x = Tensor::randn({8, 4}, gen);
  const Tensor y = (*model)(x);
  EXPECT_TRUE(q0->input_fake_quant().has_qparams());
  EXPECT_TRUE(q0->weight_fake_quant().has_qparams());
  y.sum().backward();
  ASSERT_TRUE(w0.grad().defined());  // the straight-through gradient reaches the float weight
  EXPECT_GT(w0.grad().abs().sum().item(), 0.0f);
  QuantConfig dynamic;
  dynamic.mode = QuantMode::Dynamic;
  EXPECT_TINYML_ERROR(prepare_qat(*mlp(gen), dynamic), "prepare_qat");
}

TEST(Qat, FourBitTrainingRecoversAccuracy) {
  // Three classes of points in 4-D; a 4-bit model trained with QAT must fit them as well as the
  // float one (the rounding is in the loop, so the weights learn around it).
  Generator gen(3);
  const Tensor x = Tensor::randn({240, 4}, gen);
  const Tensor y = argmax(
      matmul(x, Tensor({{1.0f, -1.0f, 0.0f}, {0.5f, 1.0f, -1.0f}, {-1.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 1.0f}})),
      1);
  auto model = mlp(gen);
  prepare_qat(*model, qat_config(4));
  optim::Adam opt(model->parameters(), {.lr = 0.02});
  model->train();
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    cross_entropy((*model)(x), y).backward();
    opt.step();
  }
  model->eval();
  NoGradGuard no_grad;
  EXPECT_GT(eq(argmax((*model)(x), 1), y).mean().item(), 0.9f);
}

TEST(Qat, ConvertKeepsTheLearnedQparams) {
  Generator gen(4);
  auto model = mlp(gen);
  prepare_qat(*model, qat_config(8));
  model->train();
  (*model)(Tensor::randn({16, 4}, gen));  // observe once
  const QParams in_qp = model->at<QatLinear>(0)->input_fake_quant().qparams();
  const QParams w_qp = model->at<QatLinear>(0)->weight_fake_quant().qparams();
  EXPECT_THAT(convert(*model), ::testing::ElementsAre("0", "2"));
  auto q = model->at<QuantizedLinear>(0);
  EXPECT_EQ(q->mode(), QuantMode::Static);
  ASSERT_TRUE(q->input_qparams().has_value());
  EXPECT_EQ(q->input_qparams()->scale, in_qp.scale);
  EXPECT_EQ(q->input_qparams()->zero_point, in_qp.zero_point);
  EXPECT_EQ(q->weight().qparams().scale, w_qp.scale);
  EXPECT_TRUE(q->fused_relu());  // followed by a ReLU in the Sequential
  EXPECT_EQ((*model)[1]->type_name(), "Identity");
  EXPECT_TINYML_ERROR(convert(*model), "convert");  // nothing left to convert
}

// ---- precision: fp16 and bf16 by hand ----

TEST(Precision, HalfPrecisionBits) {
  // IEEE 754 binary16 encodings (as numpy.float16 gives them).
  EXPECT_EQ(float_to_half_bits(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half_bits(0.1f), 0x2E66);
  EXPECT_EQ(float_to_half_bits(1.0f / 3.0f), 0x3555);
  EXPECT_EQ(float_to_half_bits(65504.0f), 0x7BFF);                          // the largest half
  EXPECT_EQ(float_to_half_bits(65520.0f), 0x7C00);                          // rounds up past it: Inf
  EXPECT_EQ(float_to_half_bits(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // a tie: to even
  EXPECT_EQ(float_to_half_bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // a tie: to even, upwards
  EXPECT_EQ(float_to_half_bits(std::ldexp(1.0f, -24)), 0x0001);             // the smallest subnormal
  EXPECT_EQ(float_to_half_bits(std::ldexp(1.0f, -25)), 0x0000);             // half of it: a tie, to even (0)
  EXPECT_EQ(float_to_half_bits(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half_bits(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_TRUE(std::isnan(half_bits_to_float(float_to_half_bits(std::nanf("")))));
  EXPECT_EQ(half_bits_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_bits_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_bits_to_float(0xC000), -2.0f);
}

TEST(Precision, BFloat16Bits) {
  EXPECT_EQ(float_to_bfloat16_bits(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bfloat16_bits(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // a tie: to even
  EXPECT_EQ(float_to_bfloat16_bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // a tie: to even, upwards
  EXPECT_EQ(float_to_bfloat16_bits(3.0e38f), 0x7F62);
  EXPECT_EQ(float_to_bfloat16_bits(std::numeric_limits<float>::max()), 0x7F80);  // rounds to Inf
  EXPECT_TRUE(std::isnan(bfloat16_bits_to_float(float_to_bfloat16_bits(std::nanf("")))));
}

TEST(Precision, RoundTripErrorsAreBoundedByTheFormat) {
  Generator gen(5);
  const Tensor x = Tensor::randn({1000}, gen) * 10.0f;
  // Relative error of round to nearest: half an ulp, 2^-11 for fp16 (10 stored bits) and 2^-8 for
  // bf16 (7 stored bits); |x| ≤ 60 stays in fp16's normal range.
  const Tensor h = round_trip(x, NumberFormat::FP16);
  const Tensor b = round_trip(x, NumberFormat::BF16);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x.at({i});
    EXPECT_LE(std::fabs(h.at({i}) - v), std::fabs(v) * std::ldexp(1.0f, -11)) << v;
    EXPECT_LE(std::fabs(b.at({i}) - v), std::fabs(v) * std::ldexp(1.0f, -8)) << v;
  }
  EXPECT_GT(snr_db(x, h), snr_db(x, b));  // fp16 keeps more mantissa bits than bf16
  EXPECT_EQ(stored_bytes(x, NumberFormat::FP16), 2000u);
}

TEST(Precision, AnalyzeLayerRanksTheFormats) {
  Generator gen(6);
  const Tensor W = Tensor::randn({32, 64}, gen) * 0.1f;
  const Tensor X = Tensor::randn({16, 64}, gen);
  const PrecisionReport fp16 = analyze_layer_precision(W, X, NumberFormat::FP16);
  const PrecisionReport bf16 = analyze_layer_precision(W, X, NumberFormat::BF16);
  const PrecisionReport int8 = analyze_layer_precision(W, X, NumberFormat::INT8);
  EXPECT_GT(fp16.snr_db, bf16.snr_db);
  EXPECT_GT(fp16.snr_db, 50.0);  // ~11 bits of mantissa: about 6 dB per bit
  EXPECT_EQ(fp16.weight_bytes, 32u * 64u * 2u);
  EXPECT_LT(int8.weight_bytes, fp16.weight_bytes);
  EXPECT_TINYML_ERROR(analyze_layer_precision(W, Tensor::randn({16, 63}, gen), NumberFormat::FP16),
                      "analyze_layer_precision");
}

TEST(Precision, FindOptimalBitwidth) {
  Generator gen(7);
  const Tensor w = Tensor::randn({4096}, gen);
  const BitwidthChoice loose = find_optimal_bitwidth(w, 0.5);
  const BitwidthChoice tight = find_optimal_bitwidth(w, 0.02);
  ASSERT_TRUE(loose.found);
  ASSERT_TRUE(tight.found);
  EXPECT_LT(loose.bits, tight.bits);  // a looser bound never needs more bits
  EXPECT_LE(tight.relative_error, 0.02);
  ASSERT_EQ(tight.errors.size(), 7u);  // 2..8 bits
  EXPECT_LE(tight.errors[static_cast<size_t>(tight.bits - 2)], 0.02);
  if (tight.bits > 2) {
    EXPECT_GT(tight.errors[static_cast<size_t>(tight.bits - 3)], 0.02);  // the smallest such width
  }
  EXPECT_GT(tight.compression_ratio, 32.0 / 8.0 - 0.1);
  const BitwidthChoice none = find_optimal_bitwidth(w, 1e-9);
  EXPECT_FALSE(none.found);
  EXPECT_EQ(none.bits, 32);
  // Half precision for comparison: the same values in fp16 are within 2^-11 relative.
  EXPECT_LT(mean_relative_error(w, round_trip(w, NumberFormat::FP16)), std::ldexp(1.0, -11));
}
