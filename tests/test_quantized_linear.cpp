// QuantizedLinear: each mode against an integer reference built from QTensor values, against the
// float Linear within the bound the scales imply, the fused output pass against zero_point_correct,
// fused ReLU, batch 1, int4, memory and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/qgemm_packed.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/accumulator.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace {

using tinyml::Error;
using tinyml::Generator;
using tinyml::NoGradGuard;
using tinyml::Tensor;
using tinyml::nn::Linear;
using namespace tinyml::quant;

constexpr double kFloatEps = 0x1p-24;  // unit roundoff of float32
// Whether this CPU has the exact packed int8 product (a 64×64 weight fills one block).
bool cpu_packs() {
  const std::vector<int8_t> ones(64 * 64, 1);
  return tinyml::kernels::PackedWeightS8::pack(64, 64, ones.data()) != nullptr;
}

QuantSpec int8_sym_pc() { return QuantSpec::int8_symmetric_per_channel(0); }
QuantSpec int8_affine_signed_pc() { return {8, Scheme::Affine, Granularity::PerChannel, 0, true}; }
QuantSpec int4_sym_pc() { return {4, Scheme::Symmetric, Granularity::PerChannel, 0, true}; }
QuantSpec int4_affine_signed_pc() { return {4, Scheme::Affine, Granularity::PerChannel, 0, true}; }

// Inputs of mixed sign with a few larger values, so the ranges are not symmetric around 0.
Tensor make_input(int64_t m, int64_t k, Generator& gen) {
  Tensor x = Tensor::randn({m, k}, gen);
  x.data()[0] = 4.0f;
  return x + 0.3f;
}

struct Reference {
  std::vector<double> y;      // s_x·s_w[j]·(acc + bq[j]) + b[j], in double
  std::vector<double> scale;  // |terms| for the float rounding bound: |s_x·s_w[j]·acc| + |bias|
};

// The definition of the integer layer, from the QTensor values alone:
//   y[i][j] = s_x·s_w[j]·(Σ_k (qx − z_x)(qw − z_w[j]) + bq[j]) + bf[j]
// with an int32 bias bq (static) or a float bias bf (dynamic); ReLU if asked.
Reference integer_reference(const QTensor& qx, const QTensor& qw, const std::vector<int64_t>& bq,
                            const std::vector<float>& bf, bool relu) {
  const int64_t M = qx.size(0), K = qx.size(1), N = qw.size(0);
  const std::vector<int32_t> xv = qx.values(), wv = qw.values();
  const double sx = qx.qparams().scale[0];
  const int64_t zx = qx.qparams().zero_point[0];
  Reference r{std::vector<double>(static_cast<size_t>(M * N)),
              std::vector<double>(static_cast<size_t>(M * N))};
  const auto channel = [&](int64_t j) { return static_cast<size_t>(qw.qparams().per_channel() ? j : 0); };
  // The centred values q − z, a row of x and a row of the weight at a time, then one inner
  // product per output (the int8 GEMM's own reference is module 10's to write).
  std::vector<int64_t> xc(xv.size()), wc(wv.size());
  std::transform(xv.begin(), xv.end(), xc.begin(), [&](int32_t q) { return int64_t{q} - zx; });
  for (size_t t = 0; t < wv.size(); ++t)
    wc[t] = int64_t{wv[t]} - qw.qparams().zero_point[channel(static_cast<int64_t>(t) / K)];
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double sw = qw.qparams().scale[channel(j)];
      const auto xi = xc.begin() + i * K, wj = wc.begin() + j * K;
      const int64_t acc = std::inner_product(xi, xi + K, wj, int64_t{0});
      const double b_int = bq.empty() ? 0.0 : static_cast<double>(bq[static_cast<size_t>(j)]);
      const double b_f = bf.empty() ? 0.0 : bf[static_cast<size_t>(j)];
      double v = sx * sw * (static_cast<double>(acc) + b_int) + b_f;
      if (relu) v = std::max(v, 0.0);
      r.y[static_cast<size_t>(i * N + j)] = v;
      r.scale[static_cast<size_t>(i * N + j)] =
          std::fabs(sx * sw * (static_cast<double>(acc) + b_int)) + std::fabs(b_f);
    }
  return r;
}

// The float layer computes s = s_x·s_w (1 rounding), float(acc) (exact below 2^24, else 1
// rounding), the product (1), the bias add (1): four roundings of at most 2^-24 relative to the
// terms, so 8·2^-24·(|s·acc| + |b|) leaves room for both and a little more.
void expect_matches_reference(const Tensor& y, const Reference& ref) {
  const std::vector<float> got = y.to_vector();
  ASSERT_EQ(got.size(), ref.y.size());
  for (size_t t = 0; t < got.size(); ++t)
    ASSERT_NEAR(got[t], ref.y[t], 8.0 * kFloatEps * ref.scale[t] + 1e-30) << "at flat index " << t;
}

// |x·Wᵀ − x̂·Ŵᵀ| ≤ Σ_k |x||w − ŵ| + |x − x̂||ŵ| with |w − ŵ| ≤ s_w[j]/2 and |x − x̂| ≤ s_x/2 for values
// inside the quantization ranges (min/max ranges: every value is inside), |ŵ| ≤ |w| + s_w/2; plus
// the bias quantization error (static: ≤ s_x·s_w/2) and float rounding of the sums (1e-4 relative
// to Σ|x||w|, far above K·2^-24 for the K used here).
void expect_within_quantization_bound(const Tensor& y, const Tensor& y_float, const Tensor& x,
                                      const Linear& lin, const QParams& wq, double s_x, bool static_bias) {
  const int64_t M = x.size(0), K = x.size(1), N = lin.out_features();
  const std::vector<float> xv = x.to_vector(), wv = lin.weight.to_vector();
  const std::vector<float> a = y.to_vector(), b = y_float.to_vector();
  double worst_used = 0.0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double sw = wq.scale[static_cast<size_t>(wq.per_channel() ? j : 0)];
      double bound = static_bias ? s_x * sw / 2 : 0.0, mag = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const double xa = std::fabs(xv[static_cast<size_t>(i * K + k)]);
        const double wa = std::fabs(wv[static_cast<size_t>(j * K + k)]);
        bound += xa * sw / 2 + s_x / 2 * (wa + sw / 2);
        mag += xa * wa;
      }
      bound += 1e-4 * mag;
      const double err = std::fabs(static_cast<double>(a[static_cast<size_t>(i * N + j)]) -
                                   b[static_cast<size_t>(i * N + j)]);
      ASSERT_LE(err, bound) << "at (" << i << ", " << j << ")";
      worst_used = std::max(worst_used, err / bound);
    }
  // The bound is a worst case; real errors average out, but not to nothing.
  EXPECT_GT(worst_used, 0.0);
}

TEST(QuantizedLinear, ModeNamesRoundTrip) {
  for (QuantMode m : {QuantMode::WeightOnly, QuantMode::Dynamic, QuantMode::Static})
    EXPECT_EQ(parse_quant_mode(to_string(m)), m);
  EXPECT_THROW(parse_quant_mode("int8"), Error);
}

// Layer sizes for the integer-path tests: odd ones that keep the plain weight, and ones that fill
// oneDNN's blocks, so that 8-bit weights run the packed product (on a CPU that has it).
constexpr std::pair<int64_t, int64_t> kPlainAndPackedSizes[] = {{37, 19}, {128, 64}};

TEST(QuantizedLinear, DynamicEqualsIntegerReference) {
  Generator gen(1);
  NoGradGuard no_grad;
  for (const auto& [in, out] : kPlainAndPackedSizes) {
    Linear lin(in, out, true, gen);
    const Tensor x = make_input(11, in, gen);
    // 8-bit weights, and packed 4- and 3-bit ones (widened for the same GEMM), symmetric and affine.
    for (const QuantSpec& spec : {int8_sym_pc(), int8_affine_signed_pc(), QuantSpec{8, Scheme::Symmetric},
                                  int4_sym_pc(), int4_affine_signed_pc(), QuantSpec{3, Scheme::Symmetric}}) {
      SCOPED_TRACE(spec.to_string() + " in " + std::to_string(in));
      auto q = QuantizedLinear::from_float(lin, spec, QuantMode::Dynamic);
      EXPECT_EQ(is_packed(q->weight().dtype()), spec.bits <= 4);
      const Tensor y = (*q)(x);
      ASSERT_EQ(y.shape(), (tinyml::Shape{11, out}));
      if (in == 128 && spec.bits == 8 && cpu_packs()) {
        EXPECT_TRUE(q->weight_packed());
      }
      // Dynamic mode: uint8 affine qparams from this batch's min/max, as choose_qparams gives them.
      const QTensor qx = QTensor::quantize(x, QuantizedLinear::dynamic_input_spec());
      expect_matches_reference(y, integer_reference(qx, q->weight(), {}, lin.bias.to_vector(), false));
    }
  }
}

// Dynamic mode quantizes its input with PyTorch's x · (1/s): for x = [0.006, 0.001, 0.003],
// s = 2.3529412e-05 and z = 0, PyTorch 1.13's integers are [255, 43, 128]
//   torch.quantize_per_tensor(x, 2.3529411919298582e-05, 0, torch.quint8).int_repr()
// where x / s would give 42 for the middle one. A weight that picks the middle input shows it.
TEST(QuantizedLinear, DynamicInputQuantizationMatchesPyTorchAtTies) {
  Generator gen(3);
  Linear lin(3, 1, false, gen);
  lin.weight.data()[0] = 0.0f;
  lin.weight.data()[1] = 1.0f;
  lin.weight.data()[2] = 0.0f;
  NoGradGuard no_grad;
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  ASSERT_EQ(q->weight().values(), (std::vector<int32_t>{0, 127, 0}));
  const float s_x = 2.3529412e-05f;
  const float y = (*q)(Tensor::from_vector({0.006f, 0.001f, 0.003f}, {1, 3})).to_vector()[0];
  EXPECT_NEAR(y, 43 * s_x, 1e-3 * s_x);
}

TEST(QuantizedLinear, StaticEqualsIntegerReferenceWithInt32Bias) {
  Generator gen(2);
  NoGradGuard no_grad;
  for (const auto& [in, out] : kPlainAndPackedSizes) {
    Linear lin(in, out, true, gen);
    const Tensor calib = make_input(16, in, gen);
    // A different batch than the calibration one, so some values fall outside the range and clip.
    const Tensor x = Tensor::randn({9, in}, gen) * 1.5f;
    for (const QuantSpec& act :
         {QuantSpec::int8_affine(), QuantSpec{8, Scheme::Affine, Granularity::PerTensor, 0, true},
          QuantSpec{8, Scheme::Symmetric}}) {
      const QParams iq = choose_qparams(calib, act);
      for (const QuantSpec& wspec :
           {int8_sym_pc(), int8_affine_signed_pc(), int4_sym_pc(), int4_affine_signed_pc()}) {
        SCOPED_TRACE(act.to_string() + ", weight " + wspec.to_string());
        auto q = QuantizedLinear::from_float(lin, wspec, QuantMode::Static, iq);
        // The int32 bias, computed here independently: round_half_even(b / (s_x·s_w[j])).
        std::vector<int64_t> bq;
        const std::vector<float> b = lin.bias.to_vector();
        for (size_t j = 0; j < b.size(); ++j) {
          const double v =
              static_cast<double>(b[j]) / (static_cast<double>(iq.scale[0]) * q->weight().qparams().scale[j]);
          bq.push_back(static_cast<int64_t>(std::nearbyint(v)));
          EXPECT_EQ(q->bias_int32()[j], bq.back()) << "channel " << j;
        }
        const Tensor y = (*q)(x);
        if (in == 128 && wspec.bits == 8 && !act.signed_range() && cpu_packs()) {
          EXPECT_TRUE(q->weight_packed());
        }
        const QTensor qx = QTensor::quantize(x, iq);
        expect_matches_reference(y, integer_reference(qx, q->weight(), bq, {}, false));
      }
    }
  }
}

// The specification of the layer's output pass: kernels::zero_point_correct on a copy of the
// accumulator, then a separate scaling pass; `rowsum` holds the input's row sums (the pass may
// have none when every z_w is 0). Both must give the same floats bit for bit (the same int32 value
// times the same float scale), except that s·c + b may be compiled as one fused multiply-add
// (-march=native) or as two roundings: either is accepted, and a wrong c changes both. Returns
// how many outputs a ReLU clamped.
int64_t expect_pass_matches_specification(const AccumulatorPass& p, const int32_t* rowsum) {
  std::vector<float> fused(static_cast<size_t>(p.M * p.N));
  accumulator_to_float(p, fused.data());
  std::vector<int32_t> c(p.acc, p.acc + p.M * p.N);
  tinyml::kernels::zero_point_correct(p.M, p.N, p.K, p.z_x, p.z_w, rowsum, p.colsum_w, c.data(), p.N);
  int64_t clamped = 0;
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.N; ++j) {
      const auto t = static_cast<size_t>(i * p.N + j);
      const auto jj = static_cast<size_t>(j);
      const float scale = p.s_x * p.s_w[jj];
      float want = scale * static_cast<float>(int64_t{c[t]} + (p.bias_int32.empty() ? 0 : p.bias_int32[jj]));
      float want_fma = want;
      if (!p.bias.empty()) {
        const volatile float product = scale * static_cast<float>(c[t]);
        want = product + p.bias[jj];
        want_fma = std::fma(scale, static_cast<float>(c[t]), p.bias[jj]);
      }
      if (p.relu) {
        clamped += want > 0.0f ? 0 : 1;
        want = want > 0.0f ? want : 0.0f;
        want_fma = want_fma > 0.0f ? want_fma : 0.0f;
      }
      EXPECT_TRUE(fused[t] == want || fused[t] == want_fma)
          << "at (" << i << ", " << j << "): " << fused[t] << " vs " << want;
    }
  return clamped;
}

// The fused output pass against its specification on random uint8 and int8 inputs with nonzero
// zero points (weight zero points per channel, per tensor and none), every bias kind, with and
// without ReLU.
TEST(QuantizedLinear, OutputPassEqualsZeroPointCorrectThenScale) {
  Generator gen(21);
  const int64_t M = 7, N = 13, K = 29;
  std::vector<uint8_t> xu(static_cast<size_t>(M * K));
  std::vector<int8_t> xs(xu.size()), w(static_cast<size_t>(N * K));
  for (size_t t = 0; t < xu.size(); ++t) {
    xu[t] = static_cast<uint8_t>(gen.randint(256));
    xs[t] = static_cast<int8_t>(static_cast<int>(gen.randint(256)) - 128);
  }
  for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(gen.randint(256)) - 128);
  std::vector<int32_t> colsum(static_cast<size_t>(N));
  tinyml::kernels::col_sums_s8(K, N, w.data(), K, /*trans_b=*/true, colsum.data());
  std::vector<int32_t> z_w_pc(static_cast<size_t>(N)), bias_q(static_cast<size_t>(N));
  std::vector<float> s_w(static_cast<size_t>(N)), bias_f(static_cast<size_t>(N));
  for (size_t j = 0; j < z_w_pc.size(); ++j) {
    z_w_pc[j] = static_cast<int32_t>(gen.randint(41)) - 20;
    s_w[j] = gen.uniform(1e-3f, 2e-2f);
    bias_q[j] = static_cast<int32_t>(gen.randint(20001)) - 10000;
    bias_f[j] = gen.uniform(-1.0f, 1.0f);
  }
  std::vector<int32_t> z_w_pt{-7}, z_w_none{0};
  for (const bool unsigned_x : {true, false}) {
    std::vector<int32_t> acc(static_cast<size_t>(M * N)), rowsum(static_cast<size_t>(M));
    if (unsigned_x) {
      tinyml::kernels::qgemm_reference_u8s8(M, N, K, xu.data(), K, w.data(), K, true, acc.data(), N);
      tinyml::kernels::row_sums_u8(M, K, xu.data(), K, rowsum.data());
    } else {
      tinyml::kernels::qgemm_reference_s8s8(M, N, K, xs.data(), K, w.data(), K, true, acc.data(), N);
      tinyml::kernels::row_sums_s8(M, K, xs.data(), K, rowsum.data());
    }
    for (const std::vector<int32_t>* z_w : {&z_w_pc, &z_w_pt, &z_w_none})
      for (const int bias_kind : {0, 1, 2})  // integer, float, none
        for (const bool relu : {false, true}) {
          SCOPED_TRACE(::testing::Message() << "unsigned " << unsigned_x << ", " << z_w->size()
                                            << " zero points, bias kind " << bias_kind << ", relu " << relu);
          AccumulatorPass pass;
          pass.M = M;
          pass.N = N;
          pass.K = K;
          pass.acc = acc.data();
          pass.rowsum_x = z_w == &z_w_none ? nullptr : rowsum.data();
          pass.colsum_w = colsum.data();
          pass.z_x = unsigned_x ? 131 : -9;
          pass.z_w = *z_w;
          pass.s_x = 0.037f;
          pass.s_w = s_w;
          pass.integer_bias = bias_kind != 1;
          if (bias_kind == 0) pass.bias_int32 = bias_q;
          if (bias_kind == 1) pass.bias = bias_f;
          pass.relu = relu;
          const int64_t clamped = expect_pass_matches_specification(pass, rowsum.data());
          if (relu) {
            EXPECT_GT(clamped, 0) << "the ReLU case needs negative outputs";
          }
        }
  }
}

TEST(QuantizedLinear, EachModeStaysWithinTheQuantizationBoundOfTheFloatLayer) {
  Generator gen(3);
  Linear lin(64, 24, true, gen);
  const Tensor x = make_input(20, 64, gen);
  NoGradGuard no_grad;
  const Tensor y_float = lin(x);
  const QParams xq = choose_qparams(x, QuantSpec::int8_affine());
  {
    auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
    expect_within_quantization_bound((*q)(x), y_float, x, lin, q->weight().qparams(), xq.scale[0], false);
  }
  {
    // Calibrated on x itself, so x lies inside the input range.
    auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, xq);
    expect_within_quantization_bound((*q)(x), y_float, x, lin, q->weight().qparams(), xq.scale[0], true);
  }
  for (const QuantSpec& spec : {int8_sym_pc(), int4_sym_pc(), QuantSpec{4, Scheme::Affine}}) {
    // Weight-only: the input stays float (s_x = 0 in the bound).
    auto q = QuantizedLinear::from_float(lin, spec, QuantMode::WeightOnly);
    expect_within_quantization_bound((*q)(x), y_float, x, lin, q->weight().qparams(), 0.0, false);
  }
}

TEST(QuantizedLinear, WeightOnlyIsLinearOfTheDequantizedWeight) {
  Generator gen(4);
  Linear lin(33, 10, true, gen);  // odd in_features: the last byte of each packed row is half used
  const Tensor x = make_input(5, 33, gen);
  NoGradGuard no_grad;
  auto q = QuantizedLinear::from_float(lin, int4_sym_pc(), QuantMode::WeightOnly);
  EXPECT_EQ(q->weight().dtype(), QDtype::Int4Packed);
  EXPECT_EQ(q->weight().storage_bytes(), 10u * 17u);
  // Every int4 value lies in the restricted symmetric range [-7, 7].
  for (int32_t v : q->weight().values()) EXPECT_TRUE(v >= -7 && v <= 7);
  // The layer dequantizes row by row from the bytes; QTensor::dequantize is the reference. Every
  // storage type, per tensor and per channel along either axis (axis 1 takes the generic path).
  for (const QuantSpec& spec :
       {int4_sym_pc(), QuantSpec{4, Scheme::Affine},
        QuantSpec{3, Scheme::Affine, Granularity::PerChannel, 0, true}, int8_sym_pc(),
        QuantSpec::int8_affine(), QuantSpec{8, Scheme::Affine, Granularity::PerChannel, 1, false}}) {
    auto w = QuantizedLinear::from_float(lin, spec, QuantMode::WeightOnly);
    const Tensor expected = tinyml::linear(x, w->weight().dequantize(), lin.bias);
    EXPECT_TRUE(tinyml::equal((*w)(x), expected)) << spec.to_string();
  }
}

TEST(QuantizedLinear, FusedReluClampsTheSameOutputAtZero) {
  Generator gen(5);
  Linear lin(30, 40, true, gen);
  const Tensor x = make_input(8, 30, gen);
  NoGradGuard no_grad;
  const QParams iq = choose_qparams(x, QuantSpec::int8_affine());
  for (QuantMode mode : {QuantMode::Static, QuantMode::Dynamic, QuantMode::WeightOnly}) {
    auto plain = QuantizedLinear::from_float(lin, int8_sym_pc(), mode,
                                             mode == QuantMode::Static ? std::optional(iq) : std::nullopt);
    auto fused = QuantizedLinear::from_float(lin, int8_sym_pc(), mode,
                                             mode == QuantMode::Static ? std::optional(iq) : std::nullopt,
                                             /*fuse_relu=*/true);
    EXPECT_TRUE(fused->fused_relu());
    const Tensor a = (*plain)(x), b = (*fused)(x);
    ASSERT_LT(a.min().item(), 0.0f) << "the test needs negative outputs for the ReLU to act on";
    EXPECT_TRUE(tinyml::equal(b, tinyml::relu(a))) << to_string(mode);
  }
}

TEST(QuantizedLinear, BatchOneAndOneDimensionalInput) {
  Generator gen(6);
  Linear lin(50, 7, true, gen);
  const Tensor x = make_input(4, 50, gen);
  NoGradGuard no_grad;
  const QParams iq = choose_qparams(x, QuantSpec::int8_affine());
  auto st = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, iq, true);
  auto dy = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  const Tensor row = x[2].contiguous();  // (50)
  // Static: fixed qparams, so a row alone gives exactly its row of the batched result.
  const Tensor y1 = (*st)(row);
  ASSERT_EQ(y1.shape(), (tinyml::Shape{7}));
  EXPECT_TRUE(tinyml::equal(y1, (*st)(x)[2].contiguous()));
  EXPECT_TRUE(tinyml::equal((*st)(row.reshape({1, 50})).reshape({7}), y1));
  // Dynamic: the row is quantized with its own range (M = 1).
  const Tensor yd = (*dy)(row.reshape({1, 50}));
  const QTensor qx = QTensor::quantize(row.reshape({1, 50}), QuantizedLinear::dynamic_input_spec());
  expect_matches_reference(yd, integer_reference(qx, dy->weight(), {}, lin.bias.to_vector(), false));
  EXPECT_TRUE(tinyml::equal((*dy)(row), yd.reshape({7})));
  // Leading dimensions fold into the batch, as in Linear.
  EXPECT_EQ((*st)(Tensor::randn({2, 3, 50}, gen)).shape(), (tinyml::Shape{2, 3, 7}));
}

TEST(QuantizedLinear, ConstantAndZeroInputs) {
  Generator gen(7);
  Linear lin(16, 5, true, gen);
  NoGradGuard no_grad;
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  // All zeros: 0.0 is exact, so the output is the bias exactly.
  EXPECT_TRUE(tinyml::equal((*q)(Tensor::zeros({3, 16})),
                            lin.bias.detach().unsqueeze(0).expand({3, 5}).contiguous()));
  // A constant input: the range is [0, c] and the layer still equals the integer definition.
  const Tensor c = Tensor::full({2, 16}, 0.75f);
  const QTensor qx = QTensor::quantize(c, QuantizedLinear::dynamic_input_spec());
  expect_matches_reference((*q)(c), integer_reference(qx, q->weight(), {}, lin.bias.to_vector(), false));
}

TEST(QuantizedLinear, NoBias) {
  Generator gen(8);
  Linear lin(12, 6, /*bias=*/false, gen);
  const Tensor x = make_input(3, 12, gen);
  NoGradGuard no_grad;
  const QParams iq = choose_qparams(x, QuantSpec::int8_affine());
  auto st = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, iq);
  auto dy = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  EXPECT_FALSE(st->has_bias());
  EXPECT_FALSE(st->bias().defined());
  EXPECT_TRUE(st->bias_int32().empty());
  expect_matches_reference((*st)(x),
                           integer_reference(QTensor::quantize(x, iq), st->weight(), {}, {}, false));
  expect_matches_reference((*dy)(x),
                           integer_reference(QTensor::quantize(x, iq), dy->weight(), {}, {}, false));
  EXPECT_EQ(st->memory_usage().fp32_bytes, 12u * 6u * 4u);
}

TEST(QuantizedLinear, StaticBiasDequantizesWithinHalfAStep) {
  Generator gen(9);
  Linear lin(20, 8, true, gen);
  NoGradGuard no_grad;
  const QParams iq = choose_qparams(make_input(4, 20, gen), QuantSpec::int8_affine());
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, iq);
  const std::vector<float> b = lin.bias.to_vector(), bh = q->bias().to_vector();
  for (size_t j = 0; j < b.size(); ++j) {
    const double step = static_cast<double>(iq.scale[0]) * q->weight().qparams().scale[j];
    EXPECT_LE(std::fabs(bh[j] - b[j]), step / 2 * (1 + 1e-6) + 1e-12) << j;  // round to nearest step
  }
}

TEST(QuantizedLinear, MemoryUsageCountsTheStorageReallyHeld) {
  Generator gen(10);
  Linear lin(100, 64, true, gen);
  const Tensor x = make_input(4, 100, gen);
  const QParams iq = choose_qparams(x, QuantSpec::int8_affine());
  const size_t fp32 = (100u * 64u + 64u) * 4u;
  {
    auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
    const MemoryUsage m = q->memory_usage();
    // The packed layout pads K = 100 to whole blocks: 104 · 64 bytes on a VNNI CPU.
    const size_t w_bytes = q->weight_packed() ? m.weight_bytes : 6400u;
    EXPECT_EQ(m.weight_bytes, w_bytes);
    EXPECT_GE(w_bytes, 6400u);
    EXPECT_LE(w_bytes, 6400u + 800u);
    EXPECT_EQ(m.qparams_bytes,
              q->weight_qparams().scale.size() * 4u + q->weight_qparams().zero_point.size() * 4u);
    EXPECT_EQ(m.qparams_bytes, 64u * 8u);  // a float scale and an int32 zero point per channel
    EXPECT_EQ(m.bias_bytes, q->bias().impl()->storage->nbytes());
    EXPECT_EQ(m.bias_bytes, 64u * 4u);
    EXPECT_EQ(m.cache_bytes, q->weight_colsum().size() * sizeof(int32_t));
    EXPECT_EQ(m.cache_bytes, 64u * 4u);
    EXPECT_EQ(m.total(), w_bytes + 512u + 256u + 256u);
    EXPECT_EQ(m.fp32_bytes, fp32);
  }
  {
    auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, iq);
    const MemoryUsage m = q->memory_usage();
    const size_t w_bytes = q->weight_packed() ? m.weight_bytes : 6400u;
    EXPECT_EQ(m.bias_bytes, q->bias_int32().size() * sizeof(int32_t));  // no fp32 bias is kept
    EXPECT_EQ(m.qparams_bytes, 64u * 8u + 8u);  // plus the input's scale and zero point
    EXPECT_EQ(m.total(), w_bytes + 520u + 256u + 256u);
  }
  {
    auto q = QuantizedLinear::from_float(lin, int4_sym_pc(), QuantMode::WeightOnly);
    const MemoryUsage m = q->memory_usage();
    EXPECT_EQ(m.weight_bytes, q->weight().storage_bytes());
    EXPECT_EQ(m.weight_bytes, 64u * 50u);  // two values per byte
    EXPECT_EQ(m.cache_bytes, 0u);          // the readable path keeps no sums
    EXPECT_EQ(m.total(), 3200u + 512u + 256u);
  }
}

// Dynamic and Static layers with 8-bit weights keep only the int8 GEMM's packed layout from
// construction on (on a CPU with exact packed kernels): weight() unpacks it on demand and keeps
// the copy, and every way of reading the weight gives back the quantized values.
TEST(QuantizedLinear, PackedWeightIsTheOnlyCopyAndUnpacksOnDemand) {
  Generator gen(12);
  Linear lin(256, 128, true, gen);  // 256 and 128 fill oneDNN's blocks of 64: no padding
  const QTensor expected = QTensor::quantize(lin.weight.detach(), int8_sym_pc());
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  NoGradGuard no_grad;
  const Tensor x = make_input(5, 256, gen);
  const QTensor qx = QTensor::quantize(x, QuantizedLinear::dynamic_input_spec());
  const Reference ref = integer_reference(qx, expected, {}, lin.bias.to_vector(), false);
  if (!q->weight_packed()) GTEST_SKIP() << "no exact packed int8 product on this CPU";
  expect_matches_reference((*q)(x), ref);
  const size_t sums = 128u * 4u;
  EXPECT_EQ(q->memory_usage().weight_bytes, 256u * 128u);
  EXPECT_EQ(q->memory_usage().cache_bytes, sums);  // no plain copy held
  const QTensor by_value = q->unpacked_weight();
  EXPECT_EQ(q->memory_usage().cache_bytes, sums);  // unpacked_weight() keeps nothing
  EXPECT_EQ(by_value.values(), expected.values());
  EXPECT_EQ(by_value.qparams().scale, expected.qparams().scale);
  EXPECT_EQ(q->weight().values(), expected.values());
  EXPECT_EQ(q->weight_qparams().scale, expected.qparams().scale);
  const QTensor& held = q->weight();
  EXPECT_EQ(q->memory_usage().cache_bytes, sums + 256u * 128u);  // weight() keeps its copy...
  expect_matches_reference((*q)(x), ref);
  EXPECT_EQ(&q->weight(), &held);  // ...across forwards: a reference from it stays valid
  EXPECT_EQ(held.values(), expected.values());
  // A layer never grows past 1/8 by padding: the 10-output one stays plain where oneDNN pads N to
  // 64 (AVX-512 VNNI), and packs unpadded where it keeps the plain layout (AVX-VNNI).
  Linear narrow(256, 10, true, gen);
  EXPECT_LE(
      QuantizedLinear::from_float(narrow, int8_sym_pc(), QuantMode::Dynamic)->memory_usage().weight_bytes,
      256u * 10u * 9u / 8u);
  // Signed static inputs and 4-bit weights stay plain.
  const QParams signed_in = choose_qparams(x, QuantSpec{8, Scheme::Affine, Granularity::PerTensor, 0, true});
  for (auto& other : {QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, signed_in),
                      QuantizedLinear::from_float(lin, int4_sym_pc(), QuantMode::Dynamic)}) {
    (*other)(x);
    EXPECT_FALSE(other->weight_packed()) << other->extra_repr();
  }
}

// The layout is settled when the layer is made: a reference from weight() taken before any forward
// stays valid (a first forward that packed the weight used to reset the plain copy under it), and
// weight(), memory_usage() and forward() may run on several threads at once.
TEST(QuantizedLinear, WeightReferenceTakenBeforeTheFirstForwardStaysValid) {
  Generator gen(13);
  Linear lin(256, 128, true, gen);
  const QTensor expected = QTensor::quantize(lin.weight.detach(), int8_sym_pc());
  NoGradGuard no_grad;
  const Tensor x = make_input(3, 256, gen);
  for (QuantMode mode : {QuantMode::Dynamic, QuantMode::Static}) {
    const std::optional<QParams> iq =
        mode == QuantMode::Static ? std::optional<QParams>(choose_qparams(x, QuantSpec::int8_affine()))
                                  : std::nullopt;
    auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), mode, iq);
    const QTensor& held = q->weight();
    const size_t bytes_before = q->memory_usage().weight_bytes;
    const Tensor y = (*q)(x);
    EXPECT_EQ(held.values(), expected.values()) << to_string(mode);
    EXPECT_EQ(&q->weight(), &held) << to_string(mode);
    EXPECT_EQ(q->memory_usage().weight_bytes, bytes_before) << "a forward changed the layout";
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        NoGradGuard no_grad_here;  // grad mode is per thread
        const bool same = t % 2 ? q->weight().values() == expected.values() : tinyml::equal((*q)(x), y);
        ok[static_cast<size_t>(t)] = same && q->memory_usage().weight_bytes == bytes_before;
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok, std::vector<int>(4, 1)) << to_string(mode);
  }
}

TEST(QuantizedLinear, GivenWeightQParamsAreUsed) {
  Generator gen(11);
  Linear lin(10, 4, true, gen);
  // A narrower range than min/max: the extremes clip to ±qmax.
  const QParams wq = choose_qparams(lin.weight.detach() * 0.5f, int8_sym_pc());
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic, std::nullopt, false, wq);
  EXPECT_EQ(q->weight().qparams().scale, wq.scale);
  QuantSpec other = int8_sym_pc();
  other.bits = 7;
  EXPECT_THROW(QuantizedLinear::from_float(lin, other, QuantMode::WeightOnly, std::nullopt, false, wq),
               Error);
}

TEST(QuantizedLinear, ErrorsNameWhatWasWrong) {
  Generator gen(12);
  Linear lin(8, 4, true, gen);
  NoGradGuard no_grad;
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  try {
    (*q)(Tensor::zeros({3, 7}));
    FAIL() << "a wrong input width must throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[3, 7]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 8]"), std::string::npos) << msg;
  }
  EXPECT_THROW((*q)(Tensor()), Error);
  Tensor nan = Tensor::zeros({2, 8});
  nan.data()[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW((*q)(nan), Error);
  Tensor inf = Tensor::zeros({2, 8});
  inf.data()[5] = std::numeric_limits<float>::infinity();
  EXPECT_THROW((*q)(inf), Error);
  // Static mode clamps ±Inf like quantize_value, but NaN has no integer.
  auto st = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static,
                                        choose_qparams(-1.0f, 1.0f, QuantSpec::int8_affine()));
  EXPECT_NO_THROW((*st)(inf));
  EXPECT_THROW((*st)(nan), Error);

  // Dynamic and static need signed weights (the GEMM's second operand is int8).
  for (const QuantSpec& unsigned_spec : {QuantSpec::int8_affine(), QuantSpec{4, Scheme::Affine}}) {
    try {
      QuantizedLinear::from_float(lin, unsigned_spec, QuantMode::Dynamic);
      FAIL() << "dynamic with " << unsigned_spec.to_string() << " weights must throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("weight-only"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(
      QuantizedLinear::from_float(lin, QuantSpec{8, Scheme::Symmetric, Granularity::PerChannel, 1, true},
                                  QuantMode::Dynamic),
      Error);  // per input channel cannot be factored out of the sum
  // Static needs input qparams, per tensor; the other modes take none.
  try {
    QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static);
    FAIL() << "static without input qparams must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("calibration"), std::string::npos) << e.what();
  }
  const QParams iq = choose_qparams(-1.0f, 1.0f, QuantSpec::int8_affine());
  EXPECT_THROW(QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic, iq), Error);
  const float mins[] = {-1, -1, -1, -1, -1, -1, -1, -1}, maxs[] = {1, 1, 1, 1, 1, 1, 1, 1};
  const QParams per_channel =
      choose_qparams(mins, maxs, QuantSpec{8, Scheme::Affine, Granularity::PerChannel, 0, false});
  EXPECT_THROW(QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static, per_channel), Error);
  // from_parts: a bias of the wrong size, both biases in static mode.
  const QTensor w = QTensor::quantize(lin.weight.detach(), int8_sym_pc());
  EXPECT_THROW(QuantizedLinear::from_parts(w, Tensor::zeros({5}), QuantMode::Dynamic, std::nullopt, false),
               Error);
  EXPECT_THROW(QuantizedLinear::from_parts(w, Tensor::zeros({4}), QuantMode::Static, iq, false, {1, 2, 3, 4}),
               Error);
  EXPECT_THROW(QuantizedLinear::from_parts(w, Tensor(), QuantMode::Static, iq, false, {1, 2, 3}), Error);
}

TEST(QuantizedLinear, InputThatRequiresGradThrowsUnlessGradIsOff) {
  Generator gen(13);
  Linear lin(6, 3, true, gen);
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Dynamic);
  Tensor x = Tensor::randn({2, 6}, gen);
  x.requires_grad_(true);
  try {
    (*q)(x);
    FAIL() << "an input that requires grad must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("QAT"), std::string::npos) << e.what();
  }
  NoGradGuard no_grad;
  const Tensor y = (*q)(x);
  EXPECT_FALSE(y.requires_grad());
}

TEST(QuantizedLinear, ReprNamesModeAndSpec) {
  Generator gen(14);
  Linear lin(6, 3, true, gen);
  auto q = QuantizedLinear::from_float(lin, int8_sym_pc(), QuantMode::Static,
                                       choose_qparams(-1.0f, 2.0f, QuantSpec::int8_affine()), true);
  const std::string r = q->repr();
  EXPECT_NE(r.find("QuantizedLinear(in_features=6, out_features=3"), std::string::npos) << r;
  EXPECT_NE(r.find("mode=static"), std::string::npos) << r;
  EXPECT_NE(r.find("int8 symmetric per-channel(axis=0)"), std::string::npos) << r;
  EXPECT_NE(r.find("relu"), std::string::npos) << r;
}

}  // namespace
