// Module 10 step tests: the reference int8 GEMM, zero-point algebra, the oneDNN fast path against
// the reference, and the integer paths of QTensor matmul, QuantizedLinear and a converted QAT model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <tuple>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/qat.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantized_linear.hpp"

using namespace tinyml;
using namespace tinyml::kernels;
using ::testing::ElementsAre;

namespace {

template <class T>
std::vector<T> random_ints(size_t n, Generator& gen) {
  std::vector<T> v(n);
  for (auto& x : v)
    x = static_cast<T>(static_cast<int64_t>(std::numeric_limits<T>::min()) +
                       static_cast<int64_t>(gen.randint(256)));
  return v;
}

}  // namespace

// ---- the reference ----

TEST(Reference, HandComputedProductInBothLayouts) {
  const std::vector<uint8_t> A{1, 2, 3, 4, 5, 6};    // 2×3
  const std::vector<int8_t> B{1, -1, 0, 2, -3, 1};   // 3×2
  const std::vector<int8_t> Bt{1, 0, -3, -1, 2, 1};  // the same as 2×3 (a Linear weight's layout)
  std::vector<int32_t> C(4, 99);
  qgemm_reference_u8s8(2, 2, 3, A.data(), 3, B.data(), 2, false, C.data(), 2);
  EXPECT_THAT(C, ElementsAre(-8, 6, -14, 12));
  std::fill(C.begin(), C.end(), 99);
  qgemm_reference_u8s8(2, 2, 3, A.data(), 3, Bt.data(), 3, true, C.data(), 2);
  EXPECT_THAT(C, ElementsAre(-8, 6, -14, 12));
}

TEST(Reference, LeadingDimensionsSkipPadding) {
  // A is 2×2 inside rows of 3 (the third column is padding); C is written into rows of 3.
  const std::vector<uint8_t> A{1, 2, 200, 3, 4, 200};
  const std::vector<int8_t> B{1, 0, 0, 1};  // identity
  std::vector<int32_t> C(6, -1);
  qgemm_reference_u8s8(2, 2, 2, A.data(), 3, B.data(), 2, false, C.data(), 3);
  EXPECT_THAT(C, ElementsAre(1, 2, -1, 3, 4, -1));  // the padding column of C is untouched
}

TEST(Reference, SignedTimesSignedAndExtremes) {
  const std::vector<int8_t> A{-128, 127};
  const std::vector<int8_t> B{-128, -128};
  std::vector<int32_t> C(1);
  qgemm_reference_s8s8(1, 1, 2, A.data(), 2, B.data(), 1, false, C.data(), 1);
  EXPECT_EQ(C[0], 16384 - 16256);
  // The largest K with no possible int32 overflow for u8·s8: 65793 · 255 · (−128) = −2147483520.
  const int64_t K = kQgemmMaxK_u8s8;
  const std::vector<uint8_t> a(static_cast<size_t>(K), 255);
  const std::vector<int8_t> b(static_cast<size_t>(K), -128);
  qgemm_reference_u8s8(1, 1, K, a.data(), K, b.data(), 1, false, C.data(), 1);
  EXPECT_EQ(C[0], -2147483520);
}

TEST(Reference, ChecksItsArguments) {
  const std::vector<uint8_t> A(6, 1);
  const std::vector<int8_t> B(6, 1);
  std::vector<int32_t> C(4);
  EXPECT_TINYML_ERROR(qgemm_reference_u8s8(2, 2, 3, A.data(), 2, B.data(), 2, false, C.data(), 2),
                      "qgemm_reference_u8s8", "lda=2");
  EXPECT_TINYML_ERROR(qgemm_reference_u8s8(1, 1, kQgemmMaxK_u8s8 + 1, A.data(), kQgemmMaxK_u8s8 + 1, B.data(),
                                           1, false, C.data(), 1),
                      "exceeds");
  qgemm_reference_u8s8(2, 2, 3, A.data(), 3, B.data(), 2, false, C.data(), 2);
  EXPECT_THAT(C, ElementsAre(3, 3, 3, 3));
}

// ---- zero points ----

TEST(ZeroPoints, CorrectionByHand) {
  // A = [[1, 2], [3, 4]], za = 1; op(B) = I, zb = [0, 1]:
  // Σ(A − za)(B − zb) = [[0, 1], [2, 3]]·[[1, −1], [0, 0]] = [[0, 0], [2, −2]].
  std::vector<int32_t> C{1, 2, 3, 4};  // acc = A·B = A
  const std::vector<int32_t> rowsum{3, 7}, colsum{1, 1}, zb{0, 1};
  zero_point_correct(2, 2, 2, 1, zb, rowsum.data(), colsum.data(), C.data(), 2);
  EXPECT_THAT(C, ElementsAre(0, 0, 2, -2));
  std::vector<int32_t> rs(2);
  const std::vector<uint8_t> A{1, 2, 3, 4};
  row_sums_u8(2, 2, A.data(), 2, rs.data());
  EXPECT_THAT(rs, ElementsAre(3, 7));
  EXPECT_TINYML_ERROR(zero_point_correct(2, 2, 2, 1, std::vector<int32_t>{0, 1, 2}, rowsum.data(),
                                         colsum.data(), C.data(), 2),
                      "zero_point_correct", "3 entries");
}

TEST(ZeroPoints, FastPathWithCorrectionEqualsTheDefinition) {
  Generator gen(9);
  const std::tuple<int64_t, int64_t, int64_t> shapes[] = {{1, 7, 33}, {5, 3, 1}, {17, 16, 64}, {3, 1, 100}};
  for (const auto& [M, N, K] : shapes) {
    for (const bool trans_b : {false, true}) {
      const auto A = random_ints<uint8_t>(static_cast<size_t>(M * K), gen);
      const auto B = random_ints<int8_t>(static_cast<size_t>(K * N), gen);
      std::vector<int32_t> zb(static_cast<size_t>(N));
      for (auto& z : zb) z = static_cast<int32_t>(gen.randint(256)) - 128;
      const int32_t za = static_cast<int32_t>(gen.randint(256));
      const int64_t ldb = trans_b ? K : N;
      std::vector<int32_t> fast(static_cast<size_t>(M * N)), ref(fast.size());
      qgemm_zp_u8s8(M, N, K, A.data(), K, za, B.data(), ldb, trans_b, zb, fast.data(), N);
      qgemm_zp_reference_u8s8(M, N, K, A.data(), K, za, B.data(), ldb, trans_b, zb, ref.data(), N);
      EXPECT_EQ(fast, ref) << M << "x" << N << "x" << K << " trans_b=" << trans_b;
    }
  }
}

TEST(ZeroPoints, ExactWhereIntermediateTermsLeaveInt32) {
  // At the K limit with extreme zero points every term is near ±2^31: the correction must be exact
  // (computed modulo 2^32), because the true result fits in int32.
  const int64_t K = kQgemmMaxK_zero_point;
  const std::vector<uint8_t> A(static_cast<size_t>(K), 0);
  const std::vector<int8_t> B(static_cast<size_t>(K), 127);
  const std::vector<int32_t> zb{-128};
  int32_t fast = 0, ref = 0;
  qgemm_zp_u8s8(1, 1, K, A.data(), K, 255, B.data(), 1, false, zb, &fast, 1);
  qgemm_zp_reference_u8s8(1, 1, K, A.data(), K, 255, B.data(), 1, false, zb, &ref, 1);
  EXPECT_EQ(ref, static_cast<int32_t>(K * -255 * 255));
  EXPECT_EQ(fast, ref);
}

// ---- the fast path ----

TEST(FastPath, EqualsTheReference) {
  Generator gen(10);
  const std::tuple<int64_t, int64_t, int64_t> shapes[] = {
      {1, 64, 256}, {64, 64, 64}, {33, 17, 129}, {7, 1, 5}};
  for (const auto& [M, N, K] : shapes) {
    for (const bool trans_b : {false, true}) {
      const auto A = random_ints<uint8_t>(static_cast<size_t>(M * K), gen);
      const auto B = random_ints<int8_t>(static_cast<size_t>(K * N), gen);
      const int64_t ldb = trans_b ? K : N;
      std::vector<int32_t> fast(static_cast<size_t>(M * N)), ref(fast.size());
      qgemm_u8s8(M, N, K, A.data(), K, B.data(), ldb, trans_b, fast.data(), N);
      qgemm_reference_u8s8(M, N, K, A.data(), K, B.data(), ldb, trans_b, ref.data(), N);
      EXPECT_EQ(fast, ref) << M << "x" << N << "x" << K << " trans_b=" << trans_b;
      const auto As = random_ints<int8_t>(static_cast<size_t>(M * K), gen);
      qgemm_s8s8(M, N, K, As.data(), K, B.data(), ldb, trans_b, fast.data(), N);
      qgemm_reference_s8s8(M, N, K, As.data(), K, B.data(), ldb, trans_b, ref.data(), N);
      EXPECT_EQ(fast, ref) << "s8s8 " << M << "x" << N << "x" << K;
    }
  }
}

// ---- integer paths built on the kernels ----

TEST(QuantizedMatmul, EqualsTheProductOfTheDequantizedTensors) {
  Generator gen(11);
  const Tensor a = Tensor::randn({6, 40}, gen);
  const Tensor b = Tensor::randn({40, 5}, gen);
  const quant::QTensor qa = quant::QTensor::quantize(a, quant::QuantSpec::int8_affine());
  const quant::QTensor qb = quant::QTensor::quantize(b, quant::QuantSpec::int8_symmetric_per_channel(1));
  // The integer sums are exact; only the final float scaling rounds: 1e-5 relative.
  const Tensor expected = matmul(qa.dequantize(), qb.dequantize());
  EXPECT_TRUE(allclose(quant::matmul(qa, qb), expected, 1e-5f, 1e-5f));
  const quant::QTensor qw =
      quant::QTensor::quantize(b.t().contiguous(), quant::QuantSpec::int8_symmetric_per_channel(0));
  EXPECT_TRUE(allclose(quant::matmul_nt(qa, qw), matmul(qa.dequantize(), qw.dequantize().t()), 1e-5f, 1e-5f));
}

TEST(QuantizedLinear, DynamicAndStaticFollowTheirDefinitions) {
  Generator gen(12);
  nn::Linear lin(32, 8, true, gen);
  const auto wspec = quant::QuantSpec::int8_symmetric_per_channel(0);
  const Tensor w_hat = quant::QTensor::quantize(lin.weight.detach(), wspec).dequantize();
  const Tensor x = Tensor::randn({4, 32}, gen);
  NoGradGuard no_grad;
  // Dynamic: the input quantized with its own min/max (uint8 affine), then the integer product.
  auto dyn = quant::QuantizedLinear::from_float(lin, wspec, quant::QuantMode::Dynamic);
  const quant::QParams xq = quant::choose_qparams(x, quant::QuantSpec::int8_affine());
  const Tensor expected_dyn = linear(quant::fake_quantize(x, xq), w_hat, lin.bias.detach());
  EXPECT_TRUE(allclose((*dyn)(x), expected_dyn, 1e-4f, 1e-5f));
  // Static: calibrated input qparams, int32 bias, fused ReLU. Values outside the calibrated range
  // clamp, exactly as fake quantization does; the int32 bias is off by at most half a step s_x·s_w.
  const quant::QParams cal = quant::choose_qparams(-2.0f, 2.0f, quant::QuantSpec::int8_affine());
  auto st = quant::QuantizedLinear::from_float(lin, wspec, quant::QuantMode::Static, cal, /*fuse_relu=*/true);
  const Tensor expected_st = relu(linear(quant::fake_quantize(x, cal), w_hat, lin.bias.detach()));
  const float bias_step = cal.scale[0] * *std::max_element(st->weight().qparams().scale.begin(),
                                                           st->weight().qparams().scale.end());
  EXPECT_TRUE(allclose((*st)(x), expected_st, 1e-4f, bias_step));
  EXPECT_GE((*st)(x).min().item(), 0.0f);
}

TEST(QuantizedLinear, ConvertedQatModelComputesWhatItTrained) {
  Generator gen(13);
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(6, 12, true, gen),
                                                std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Linear>(12, 3, true, gen));
  quant::prepare_qat(*model, quant::qat_config(8));
  model->train();
  for (int i = 0; i < 5; ++i) (*model)(Tensor::randn({32, 6}, gen));  // let the observers settle
  model->eval();
  const Tensor x = Tensor::randn({10, 6}, gen);
  Tensor before;
  {
    NoGradGuard no_grad;
    before = (*model)(x);
  }
  quant::convert(*model);
  NoGradGuard no_grad;
  const Tensor after = (*model)(x);
  // The same integers and scales, now through the int8 GEMM: equal up to float rounding of the
  // accumulation and the layer-2 input re-rounding at a tie (rare). 1e-3 on outputs of size ~1.
  EXPECT_TRUE(allclose(after, before, 1e-3f, 1e-3f)) << to_string(after - before);
}
