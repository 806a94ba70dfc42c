// Tests of fake_quantize_ste (values, straight-through gradient mask, gradcheck) and the FakeQuantize module.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/autograd/gradcheck.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/fake_quantize.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

// qmin = -8, qmax = 7: PyTorch's quant_min / quant_max of the recorded cases below.
QuantSpec int4_signed_affine(Granularity g = Granularity::PerTensor, int64_t axis = 0) {
  return {4, Scheme::Affine, g, axis, true};
}

void expect_values(const Tensor& t, const std::vector<float>& expected) {
  const auto v = t.to_vector();
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(v[i], expected[i]) << "element " << i;
}

}  // namespace

// Recorded with PyTorch 1.13 (/usr/bin/python3):
//   x = torch.tensor([-0.86, -0.84, -0.3, 0.0, 0.74, 0.76], requires_grad=True)
//   y = torch.fake_quantize_per_tensor_affine(x, 0.1, 0, -8, 7); y.sum().backward()
//   y      → [-0.8, -0.8, -0.3, 0.0, 0.7, 0.7]
//   x.grad → [0, 1, 1, 1, 1, 0]
// -0.86/0.1 rounds to -9 < -8 and 0.76/0.1 to 8 > 7: clamped, so no gradient; the rest pass.
TEST(FakeQuantizeSte, PerTensorMaskMatchesPyTorch) {
  Tensor x({-0.86f, -0.84f, -0.3f, 0.0f, 0.74f, 0.76f});
  x.requires_grad_();
  const QParams qp{int4_signed_affine(), {0.1f}, {0}};
  const Tensor y = fake_quantize_ste(x, qp);
  expect_values(y, {-0.8f, -0.8f, -0.3f, 0.0f, 0.7f, 0.7f});
  y.sum().backward();
  expect_values(x.grad(), {0, 1, 1, 1, 1, 0});
}

// A tie of x · (1/s) that x / s misses, recorded with PyTorch 1.13 (/usr/bin/python3):
//   x = torch.tensor([0.006, 0.001, 0.003]); s = 2.3529411919298582e-05 (MinMaxObserver's)
//   torch.fake_quantize_per_tensor_affine(x, s, 0, 0, 255) / s → [255, 43, 128]
// (In float32, 0.001 / s is the tie 42.5, which goes to the even 42; 0.001 · (1/s) is 42.500004.)
TEST(FakeQuantizeSte, TieMatchesPyTorch) {
  const Tensor x({0.006f, 0.001f, 0.003f});
  const float s = 2.3529411919298582e-05f;
  const QParams qp{QuantSpec::int8_affine(), {s}, {0}};
  expect_values(fake_quantize_ste(x, qp), {255 * s, 43 * s, 128 * s});
}

// Recorded with PyTorch 1.13, a zero point inside an unsigned range:
//   x2 = torch.tensor([-0.5, -0.45, -0.44, 0.0, 1.04, 1.05, 1.06, 2.0], requires_grad=True)
//   y2 = torch.fake_quantize_per_tensor_affine(x2, 0.1, 4, 0, 15); y2.sum().backward()
//   y2      → [-0.4, -0.4, -0.4, 0.0, 1.0, 1.0, 1.1, 1.1]
//   x2.grad → [0, 1, 1, 1, 1, 1, 1, 0]
// -0.45/0.1 = -4.5 (just above, in float) rounds to -4, q = 0 = qmin: inside, so it passes; a
// value that lands exactly on qmin or qmax is not clamped.
TEST(FakeQuantizeSte, ZeroPointMaskMatchesPyTorch) {
  Tensor x({-0.5f, -0.45f, -0.44f, 0.0f, 1.04f, 1.05f, 1.06f, 2.0f});
  x.requires_grad_();
  const QParams qp{QuantSpec{4, Scheme::Affine, Granularity::PerTensor, 0, false}, {0.1f}, {4}};
  const Tensor y = fake_quantize_ste(x, qp);
  expect_values(y, {-0.4f, -0.4f, -0.4f, 0.0f, 1.0f, 1.0f, 1.1f, 1.1f});
  y.sum().backward();
  expect_values(x.grad(), {0, 1, 1, 1, 1, 1, 1, 0});
}

// Recorded with PyTorch 1.13:
//   w = torch.tensor([[-0.9, -0.2, 0.3, 0.75], [-3.0, -2.9, 1.0, 2.2]], requires_grad=True)
//   yc = torch.fake_quantize_per_channel_affine(w, torch.tensor([0.1, 0.4]),
//                                               torch.tensor([0, 1], dtype=torch.int32), 0, -8, 7)
//   yc.sum().backward()
//   yc     → [[-0.8, -0.2, 0.3, 0.7], [-3.2, -2.8, 0.8, 2.4]]
//   w.grad → [[0, 1, 1, 0], [1, 1, 1, 1]]
TEST(FakeQuantizeSte, PerChannelMatchesPyTorch) {
  Tensor w({{-0.9f, -0.2f, 0.3f, 0.75f}, {-3.0f, -2.9f, 1.0f, 2.2f}});
  w.requires_grad_();
  const QParams qp{int4_signed_affine(Granularity::PerChannel, 0), {0.1f, 0.4f}, {0, 1}};
  const Tensor y = fake_quantize_ste(w, qp);
  expect_values(y, {-0.8f, -0.2f, 0.3f, 0.7f, -3.2f, -2.8f, 0.8f, 2.4f});
  y.sum().backward();
  expect_values(w.grad(), {0, 1, 1, 0, 1, 1, 1, 1});
}

// The differentiable op computes exactly what the reference fake_quantize computes (same integers,
// same float arithmetic), per tensor and per channel along every axis, also for a strided input.
TEST(FakeQuantizeSte, ValuesEqualReferenceFakeQuantize) {
  Generator gen(7);
  const Tensor x = Tensor::randn({3, 5, 4}, gen) * 3.0f;
  for (int64_t axis : {0, 1, 2, -1}) {
    const QuantSpec spec{5, Scheme::Symmetric, Granularity::PerChannel, axis, true};
    const QParams qp = choose_qparams(x, spec);
    EXPECT_TRUE(equal(fake_quantize_ste(x, qp), fake_quantize(x, qp))) << "axis " << axis;
  }
  const QParams pt = choose_qparams(x, QuantSpec::int8_affine());
  EXPECT_TRUE(equal(fake_quantize_ste(x, pt), fake_quantize(x, pt)));
  const Tensor xt = x.transpose(0, 2);  // not contiguous
  ASSERT_FALSE(xt.is_contiguous());
  const QParams pc = choose_qparams(xt, QuantSpec{8, Scheme::Symmetric, Granularity::PerChannel, 1, true});
  EXPECT_TRUE(equal(fake_quantize_ste(xt, pc), fake_quantize(xt.contiguous(), pc)));
}

// The per-channel mask follows each channel's own range: along axis 1, channel c has scale 2^-c.
TEST(FakeQuantizeSte, PerChannelMaskAlongAxis1) {
  // 8-bit symmetric: q in [-127, 127]; channel 0 covers ±127, channel 1 ±63.5.
  const QParams qp{QuantSpec{8, Scheme::Symmetric, Granularity::PerChannel, 1, true}, {1.0f, 0.5f}, {0, 0}};
  Tensor x({{100.0f, 100.0f}, {130.0f, 60.0f}, {-128.0f, -64.0f}});
  x.requires_grad_();
  const Tensor y = fake_quantize_ste(x, qp);
  expect_values(y, {100.0f, 63.5f, 127.0f, 60.0f, -127.0f, -63.5f});
  y.backward(Tensor::ones({3, 2}));
  // 100/0.5 = 200 > 127: clamped; 130 > 127 clamped; -128 < -127 clamped; -64/0.5 = -128 clamped.
  expect_values(x.grad(), {1, 0, 0, 1, 0, 0});
}

// Gradcheck of a small network through fake quantization, inside the range. A fake-quantized
// value is a staircase, so central differences with a step that is not a multiple of the scale
// see slope 0 (or a spike at a step); with a step of exactly m·s from a point a quarter step away
// from a rounding boundary, x ± m·s rounds to q ± m and the difference quotient is the grid's slope,
// 1 — the derivative the straight-through estimator claims. s = 2^-10 and 2^-9, eps = 2^-7 = 8 and 4
// steps, every value a multiple of 2^-12: all of it exact in float32. The tanh downstream is
// smooth, so its central difference is within O(eps²) of its derivative.
TEST(FakeQuantizeSte, GradcheckInsideTheRange) {
  const float s1 = std::ldexp(1.0f, -10), s2 = std::ldexp(1.0f, -9);
  Generator gen(3);
  const auto grid_points = [&](const Shape& shape, const std::vector<float>& scale_per_row) {
    std::vector<float> v(static_cast<size_t>(numel_of(shape)));
    const int64_t cols = shape[1];
    for (size_t i = 0; i < v.size(); ++i) {
      const auto k = static_cast<float>(static_cast<int64_t>(gen.randint(161)) -
                                        80);  // |k| <= 80: ±eps stays inside ±127
      v[i] = (k + 0.25f) * scale_per_row[i / static_cast<size_t>(cols) % scale_per_row.size()];
    }
    return Tensor::from_vector(v, shape);
  };
  Tensor x = grid_points({3, 4}, {s1});
  Tensor w = grid_points({2, 4}, {s1, s2});
  Tensor b({0.01f, -0.02f});
  x.requires_grad_();
  w.requires_grad_();
  b.requires_grad_();
  const QParams xq{QuantSpec{8, Scheme::Symmetric, Granularity::PerTensor, 0, true}, {s1}, {0}};
  const QParams wq{QuantSpec{8, Scheme::Symmetric, Granularity::PerChannel, 0, true}, {s1, s2}, {0, 0}};
  const auto f = [&](const std::vector<Tensor>& in) {
    return tanh(linear(fake_quantize_ste(in[0], xq), fake_quantize_ste(in[1], wq), in[2]) * 20.0f);
  };
  GradcheckOptions opt;
  opt.eps = std::ldexp(1.0, -7);
  const GradcheckResult r = gradcheck(f, {x, w, b}, opt);
  EXPECT_TRUE(r.ok) << r.message;
}

// The counterpart of the test above: with a step that is not a multiple of the scale, the
// finite difference sees the staircase and disagrees with the straight-through gradient, so the
// check above is not passing by accident.
TEST(FakeQuantizeSte, GradcheckSeesTheStaircaseOffTheGrid) {
  const float s = std::ldexp(1.0f, -10);
  Tensor x = Tensor::from_vector({10.25f * s, -20.25f * s, 30.25f * s}, {3});
  x.requires_grad_();
  const QParams qp{QuantSpec{8, Scheme::Symmetric, Granularity::PerTensor, 0, true}, {s}, {0}};
  GradcheckOptions opt;
  opt.eps = 0.1 * s;  // stays on one step: numeric slope 0, analytic 1
  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return fake_quantize_ste(in[0], qp); }, {x}, opt);
  EXPECT_FALSE(r.ok);
}

TEST(FakeQuantizeSte, NonFiniteInputs) {
  const QParams qp{int4_signed_affine(), {0.1f}, {0}};
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x({-inf, inf});
  x.requires_grad_();
  const Tensor y = fake_quantize_ste(x, qp);
  expect_values(y, {-0.8f, 0.7f});
  y.sum().backward();
  expect_values(x.grad(), {0, 0});
  try {
    fake_quantize_ste(Tensor({1.0f, std::nanf("")}), qp);
    FAIL() << "NaN must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fake_quantize_ste"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("flat index 1"), std::string::npos) << e.what();
  }
}

TEST(FakeQuantizeSte, BadQParamsThrow) {
  const Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(fake_quantize_ste(x, QParams{int4_signed_affine(), {0.0f}, {0}}), Error);  // scale 0
  EXPECT_THROW(fake_quantize_ste(x, QParams{int4_signed_affine(), {0.1f}, {9}}), Error);  // z > qmax
  // Per channel along axis 0 needs 2 entries.
  EXPECT_THROW(fake_quantize_ste(
                   x, QParams{int4_signed_affine(Granularity::PerChannel), {0.1f, 0.1f, 0.1f}, {0, 0, 0}}),
               Error);
  EXPECT_THROW(fake_quantize_ste(Tensor(), QParams{int4_signed_affine(), {0.1f}, {0}}), Error);
}

TEST(FakeQuantizeSte, NoGraphUnderNoGrad) {
  Tensor x({0.1f, 0.2f});
  x.requires_grad_();
  NoGradGuard g;
  const Tensor y = fake_quantize_ste(x, QParams{int4_signed_affine(), {0.1f}, {0}});
  EXPECT_FALSE(y.requires_grad());
}

// ---------------------------------------------------------------------------------------------
// FakeQuantize module

// Training mode observes (a moving average with constant 0.01 after the first batch), eval mode
// and a disabled observer use the frozen qparams.
TEST(FakeQuantizeModule, ObservesInTrainingModeOnly) {
  auto fq = FakeQuantize::for_activation(QuantSpec::int8_affine());
  EXPECT_FALSE(fq->has_qparams());
  EXPECT_THROW(fq->qparams(), Error);

  const Tensor x1({0.0f, 1.0f, 2.0f});
  (*fq)(x1);
  const QParams q1 = choose_qparams(0.0f, 2.0f, QuantSpec::int8_affine());
  EXPECT_EQ(fq->qparams().scale, q1.scale);
  EXPECT_EQ(fq->qparams().zero_point, q1.zero_point);

  const Tensor x2({-1.0f, 4.0f});
  (*fq)(x2);  // min: 0 + 0.01·(−1 − 0) = −0.01, max: 2 + 0.01·(4 − 2) = 2.02
  const QParams q2 = choose_qparams(-0.01f, 2.02f, QuantSpec::int8_affine());
  EXPECT_FLOAT_EQ(fq->qparams().scale[0], q2.scale[0]);
  EXPECT_EQ(fq->qparams().zero_point, q2.zero_point);
  const QParams frozen = fq->qparams();

  fq->eval();
  const Tensor x3({-10.0f, 0.5f, 10.0f});
  const Tensor y3 = (*fq)(x3);
  EXPECT_EQ(fq->qparams().scale, frozen.scale);
  EXPECT_EQ(fq->qparams().zero_point, frozen.zero_point);
  EXPECT_TRUE(equal(y3, fake_quantize(x3, frozen)));

  fq->train();
  fq->enable_observer(false);
  (*fq)(x3);
  EXPECT_EQ(fq->qparams().scale, frozen.scale);
  fq->enable_observer(true);
  (*fq)(x3);
  EXPECT_NE(fq->qparams().scale, frozen.scale);
}

TEST(FakeQuantizeModule, FakeQuantDisabledPassesThrough) {
  auto fq = FakeQuantize::for_activation(QuantSpec{4, Scheme::Affine, Granularity::PerTensor, 0, false});
  fq->enable_fake_quant(false);
  Tensor x({-3.0f, 0.123f, 5.0f});
  x.requires_grad_();
  const Tensor y = (*fq)(x);
  EXPECT_TRUE(equal(y, x.detach()));
  EXPECT_TRUE(fq->has_qparams());  // the observer still ran (calibration without quantization)
  y.sum().backward();
  expect_values(x.grad(), {1, 1, 1});
}

TEST(FakeQuantizeModule, EvalBeforeObservingThrows) {
  auto fq = FakeQuantize::for_activation();
  fq->eval();
  try {
    (*fq)(Tensor({1.0f}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("FakeQuantize::forward"), std::string::npos) << e.what();
  }
}

// A weight fake quantizer does not accumulate: its qparams follow the tensor as it is now.
TEST(FakeQuantizeModule, WeightQParamsFollowTheCurrentWeight) {
  auto fq = FakeQuantize::for_weight(QuantSpec::int8_symmetric_per_channel(0));
  EXPECT_FALSE(fq->accumulates());
  const Tensor w({{1.0f, -2.0f}, {0.5f, 0.25f}});
  (*fq)(w);
  EXPECT_FLOAT_EQ(fq->qparams().scale[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(fq->qparams().scale[1], 0.5f / 127.0f);
  (*fq)(w * 0.5f);  // a running min/max would keep the old, wider range
  EXPECT_FLOAT_EQ(fq->qparams().scale[0], 1.0f / 127.0f);
  EXPECT_FLOAT_EQ(fq->qparams().scale[1], 0.25f / 127.0f);
}

TEST(FakeQuantizeModule, SetQParamsChecksThem) {
  auto fq = FakeQuantize::for_activation(QuantSpec::int8_affine());
  EXPECT_THROW(fq->set_qparams(QParams{int4_signed_affine(), {0.1f}, {0}}), Error);  // other spec
  EXPECT_THROW(fq->set_qparams(QParams{QuantSpec::int8_affine(), {-1.0f}, {0}}), Error);
  fq->set_qparams(QParams{QuantSpec::int8_affine(), {0.5f}, {3}});
  fq->eval();
  expect_values((*fq)(Tensor({1.2f})), {1.0f});  // round(2.4) + 3 = 5 → 0.5·(5 − 3)
  EXPECT_THROW(FakeQuantize(QuantSpec::int8_symmetric_per_channel(0), "moving-average"),
               Error);  // per-tensor observer
  EXPECT_THROW(FakeQuantize(QuantSpec::int8_affine(), "no-such-observer"), Error);
}

TEST(FakeQuantizeModule, ReprNamesTheSpec) {
  auto fq = FakeQuantize::for_activation(QuantSpec::int8_affine());
  EXPECT_NE(fq->repr().find("FakeQuantize(uint8 affine per-tensor"), std::string::npos) << fq->repr();
}
