// Tests of QTensor: real integer storage (int8/uint8, packed int4), round trips, and the quantized matmul.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/quant_specs.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/qtensor.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

QuantSpec affine(int bits, bool is_signed) {
  return {bits, Scheme::Affine, Granularity::PerTensor, 0, is_signed};
}
using tinyml_test::symmetric;
QuantSpec per_channel(int bits, int64_t axis) {
  return {bits, Scheme::Symmetric, Granularity::PerChannel, axis, true};
}

// Largest |x̂ − x| allowed for x inside the range the qparams were chosen from: s/2 plus float32
// rounding (the derivation is in test_qparams.cpp, roundtrip_bound): 2^-22·(range) + 2^-24·|x̂|.
double roundtrip_bound(float s, double range, float xhat) {
  return s / 2.0 + std::ldexp(range, -22) + std::ldexp(std::fabs(xhat), -24);
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// Row-major product in double of A (M×K) and B (K×N, or N×K when trans_b).
std::vector<double> matmul_f64(const std::vector<double>& A, const std::vector<double>& B, int64_t M,
                               int64_t N, int64_t K, bool trans_b, std::vector<double>* abs_sum = nullptr) {
  std::vector<double> C(static_cast<size_t>(M * N), 0.0);
  if (abs_sum) abs_sum->assign(C.size(), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) {
        const double t =
            A[static_cast<size_t>(i * K + k)] * B[static_cast<size_t>(trans_b ? j * K + k : k * N + j)];
        C[static_cast<size_t>(i * N + j)] += t;
        if (abs_sum) (*abs_sum)[static_cast<size_t>(i * N + j)] += std::fabs(t);
      }
  return C;
}

// Checks y = quant::matmul(qa, qb) (or matmul_nt) two ways:
// 1. Against a float64 product of the dequantized matrices. Both compute s_a·s_b·Σ(qa − za)(qb − zb);
//    ours rounds three times (int32 → float, s_a·s_b, the product), each by 2^-24 relative, and
//    the reference's dequantized factors carry 2^-24 each, so the gap is at most about
//    5·2^-24·Σ_k |â_k·b̂_k|; 6·2^-24 leaves room for the float64 sums.
// 2. Against the float product of the original a and b. With â = a + e_a, b̂ = b + e_b,
//    â·b̂ − a·b = a·e_b + b·e_a + e_a·e_b, so |error| <= Σ_k (|a_k|·E_b + |b_k|·E_a + E_a·E_b)
//    with E the round-trip bounds (s/2 + float slack), plus the rounding of 1.
void check_matmul(const Tensor& a, const Tensor& b, const QTensor& qa, const QTensor& qb, bool trans_b) {
  const int64_t M = a.size(0), K = a.size(1), N = trans_b ? b.size(0) : b.size(1);
  const Tensor y = trans_b ? matmul_nt(qa, qb) : matmul(qa, qb);
  ASSERT_EQ(y.shape(), (Shape{M, N}));
  const std::vector<float> yv = y.to_vector();

  const std::vector<double> ah = to_double(qa.dequantize().to_vector()),
                            bh = to_double(qb.dequantize().to_vector());
  std::vector<double> abs_terms;
  const std::vector<double> ref = matmul_f64(ah, bh, M, N, K, trans_b, &abs_terms);
  for (size_t t = 0; t < ref.size(); ++t)
    ASSERT_LE(std::fabs(yv[t] - ref[t]), 6.0 * std::ldexp(abs_terms[t], -24) + 1e-30)
        << "entry " << t << ": " << yv[t] << " vs " << ref[t];

  const std::vector<double> av = to_double(a.to_vector()), bv = to_double(b.to_vector());
  const std::vector<double> exact = matmul_f64(av, bv, M, N, K, trans_b);
  // 2·max|x| bounds the width of the quantization grid, s·(qmax − qmin), for affine and symmetric
  // qparams alike, which is what the float slack of roundtrip_bound scales with.
  const auto range_of = [](const std::vector<double>& v, size_t begin, size_t end, size_t step) {
    double amax = 0.0;
    for (size_t t = begin; t < end; t += step) amax = std::max(amax, std::fabs(v[t]));
    return 2.0 * amax;
  };
  const double range_a = range_of(av, 0, av.size(), 1);
  const float sa = qa.qparams().scale[0];
  const double Ea = roundtrip_bound(sa, range_a, static_cast<float>(range_a));
  double worst_ratio = 0.0;
  for (int64_t j = 0; j < N; ++j) {
    const bool pc = qb.qparams().per_channel();
    const float sb = qb.qparams().scale[pc ? static_cast<size_t>(j) : 0];
    // The range the column's qparams were chosen from: its own column (per channel) or all of b.
    const double range_b = !pc ? range_of(bv, 0, bv.size(), 1)
                           : trans_b
                               ? range_of(bv, static_cast<size_t>(j * K), static_cast<size_t>((j + 1) * K), 1)
                               : range_of(bv, static_cast<size_t>(j), bv.size(), static_cast<size_t>(N));
    const double Eb = roundtrip_bound(sb, range_b, static_cast<float>(range_b));
    for (int64_t i = 0; i < M; ++i) {
      double bound = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const double ak = av[static_cast<size_t>(i * K + k)];
        const double bk = bv[static_cast<size_t>(trans_b ? j * K + k : k * N + j)];
        bound += std::fabs(ak) * Eb + std::fabs(bk) * Ea + Ea * Eb;
      }
      const size_t t = static_cast<size_t>(i * N + j);
      bound += 6.0 * std::ldexp(abs_terms[t], -24);
      const double err = std::fabs(yv[t] - exact[t]);
      ASSERT_LE(err, bound) << "entry (" << i << ", " << j << ")";
      worst_ratio = std::max(worst_ratio, err / bound);
    }
  }
  // The rounding errors of the K terms add like a random walk, so the worst observed error sits
  // near 1/√K of the worst-case bound (0.1–0.25 for these shapes). A ratio near 0 would mean both
  // sides were computed from the same rounded values and the check had lost its teeth.
  EXPECT_GT(worst_ratio, 0.02);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// storage

TEST(QTensorStorage, DtypeFollowsSpec) {
  EXPECT_EQ(qdtype_for(affine(8, false)), QDtype::UInt8);
  EXPECT_EQ(qdtype_for(affine(8, true)), QDtype::Int8);
  EXPECT_EQ(qdtype_for(symmetric(8)), QDtype::Int8);
  EXPECT_EQ(qdtype_for(affine(6, false)), QDtype::UInt8);  // 5..7 bits: one value per byte
  EXPECT_EQ(qdtype_for(symmetric(5)), QDtype::Int8);
  EXPECT_EQ(qdtype_for(affine(4, false)), QDtype::UInt4Packed);
  EXPECT_EQ(qdtype_for(symmetric(4)), QDtype::Int4Packed);
  EXPECT_EQ(qdtype_for(symmetric(2)), QDtype::Int4Packed);  // 2..3 bits still take a nibble
  EXPECT_STREQ(to_string(QDtype::Int4Packed), "int4x2");
}

TEST(QTensorStorage, PackInt4AllNibblePairs) {
  // Every (low, high) pair of 4-bit values, signed and unsigned: the byte is low | high << 4 with
  // each value as its 4-bit two's complement pattern, and unpacking gives the pair back.
  for (const bool is_signed : {false, true}) {
    const int32_t lo = is_signed ? -8 : 0;
    for (int32_t a = lo; a < lo + 16; ++a)
      for (int32_t b = lo; b < lo + 16; ++b) {
        const std::vector<int32_t> pair = {a, b};
        const std::vector<uint8_t> bytes = pack_int4(pair, 2, is_signed);
        ASSERT_EQ(bytes.size(), 1u);
        ASSERT_EQ(bytes[0], static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4))) << a << ", " << b;
        ASSERT_EQ(unpack_int4(bytes, 2, 2, is_signed), pair) << a << ", " << b;
      }
  }
  // Spot values: −8 = 0b1000, −1 = 0b1111, 7 = 0b0111.
  EXPECT_EQ(pack_int4(std::vector<int32_t>{-8, -1}, 2, true)[0], 0xF8);
  EXPECT_EQ(pack_int4(std::vector<int32_t>{7, -8}, 2, true)[0], 0x87);
  EXPECT_EQ(unpack_int4(std::vector<uint8_t>{0xF8}, 2, 2, false), (std::vector<int32_t>{8, 15}));
}

TEST(QTensorStorage, OddRowsStartOnByteBoundaries) {
  // Rows of 3 values take 2 bytes; the last high nibble of each row is padding (0).
  const std::vector<int32_t> v = {1, 2, 3, 4, 5, 6};
  const std::vector<uint8_t> bytes = pack_int4(v, 3, false);
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0x21, 0x03, 0x54, 0x06}));
  EXPECT_EQ(unpack_int4(bytes, 6, 3, false), v);
  // Through QTensor, for several odd and even row lengths.
  Generator gen(3);
  for (const int64_t L : {1, 2, 3, 5, 7, 8, 33}) {
    const Tensor x = Tensor::randn({4, L}, gen);
    const QTensor q = QTensor::quantize(x, symmetric(4));
    EXPECT_EQ(q.storage_bytes(), static_cast<size_t>(4 * ((L + 1) / 2))) << L;
    const std::vector<int32_t> vals = q.values();
    EXPECT_EQ(unpack_int4(q.bytes(), 4 * L, L, true), vals);
    for (int64_t t = 0; t < 4 * L; ++t) ASSERT_EQ(q.value_at(t), vals[static_cast<size_t>(t)]);
    if (L % 2 == 1) {
      for (int64_t r = 0; r < 4; ++r) EXPECT_EQ(q.raw()[(r + 1) * ((L + 1) / 2) - 1] >> 4, 0) << "row " << r;
    }
    // from_raw accepts the bytes it produced.
    const QTensor back =
        QTensor::from_raw(std::vector<uint8_t>(q.bytes().begin(), q.bytes().end()), q.shape(), q.qparams());
    EXPECT_EQ(back.values(), vals);
  }
}

TEST(QTensorStorage, UnpackToBytesEqualsUnpack) {
  // The fast widening into bytes gives unpack_int4's values (signed as int8 bit patterns) for
  // every byte value, in rows of odd and even length.
  std::vector<uint8_t> every_byte(256);
  for (int b = 0; b < 256; ++b) every_byte[static_cast<size_t>(b)] = static_cast<uint8_t>(b);
  for (const bool is_signed : {false, true}) {
    std::vector<uint8_t> out(512);
    unpack_int4_bytes(every_byte, 512, 512, is_signed, out.data());
    const std::vector<int32_t> ref = unpack_int4(every_byte, 512, 512, is_signed);
    for (size_t t = 0; t < ref.size(); ++t)
      ASSERT_EQ(is_signed ? static_cast<int32_t>(static_cast<int8_t>(out[t])) : out[t], ref[t]) << t;
  }
  Generator gen(4);
  for (const int64_t L : {1, 2, 3, 7, 33, 64}) {
    const QTensor q = QTensor::quantize(Tensor::randn({5, L}, gen), symmetric(4));
    std::vector<uint8_t> out(static_cast<size_t>(5 * L));
    unpack_int4_bytes(q.bytes(), 5 * L, L, true, out.data());
    const std::vector<int32_t> vals = q.values();
    for (size_t t = 0; t < vals.size(); ++t) ASSERT_EQ(static_cast<int8_t>(out[t]), vals[t]) << "L=" << L;
  }
  uint8_t sink[4];
  EXPECT_THROW(unpack_int4_bytes(std::vector<uint8_t>{0x12}, 3, 3, false, sink), Error);  // needs 2 bytes
  EXPECT_THROW(unpack_int4_bytes(std::vector<uint8_t>{0x12}, 2, 2, false, nullptr), Error);
}

TEST(QTensorStorage, PackRejectsBadInput) {
  EXPECT_THROW(pack_int4(std::vector<int32_t>{8, 0}, 2, true), Error);
  EXPECT_THROW(pack_int4(std::vector<int32_t>{-9, 0}, 2, true), Error);
  EXPECT_THROW(pack_int4(std::vector<int32_t>{16, 0}, 2, false), Error);
  EXPECT_THROW(pack_int4(std::vector<int32_t>{-1, 0}, 2, false), Error);
  EXPECT_THROW(pack_int4(std::vector<int32_t>{1, 2, 3}, 2, false), Error);  // not whole rows
  EXPECT_THROW(pack_int4(std::vector<int32_t>{1, 2}, 0, false), Error);
  EXPECT_THROW(unpack_int4(std::vector<uint8_t>{0x12}, 3, 3, false), Error);  // 3 values need 2 bytes
  EXPECT_THROW(unpack_int4(std::vector<uint8_t>{0x12, 0x34}, 4, 3, false), Error);
}

TEST(QTensorStorage, BytesActuallyHeld) {
  Generator gen(11);
  const Tensor w = Tensor::randn({256, 1024}, gen);
  const QTensor q8 = QTensor::quantize(w, affine(8, true));
  EXPECT_EQ(q8.storage_bytes(), 262144u);   // one byte per value
  EXPECT_EQ(q8.nbytes(), 262144u + 4 + 4);  // + one float scale, one int32 zero point
  EXPECT_EQ(w.numel() * static_cast<int64_t>(sizeof(float)), 4 * 262144);  // float: 4× as much
  const QTensor q4 = QTensor::quantize(w, symmetric(4));
  EXPECT_EQ(q4.storage_bytes(), 131072u);  // two values per byte
  EXPECT_EQ(q4.nbytes(), 131072u + 8);
  const QTensor pc = QTensor::quantize(w, per_channel(8, 0));
  EXPECT_EQ(pc.nbytes(), 262144u + 256 * 8);  // per output channel: 256 scales and zero points
  const QTensor q6 = QTensor::quantize(w, affine(6, false));
  EXPECT_EQ(q6.storage_bytes(), 262144u);  // 5..7 bits are not packed
}

TEST(QTensorStorage, Int8StoredAsBitPatterns) {
  // s = 1, z = 0 symmetric: −1 is stored as 0xFF, −127 as 0x81.
  const QParams qp{symmetric(8), {1.0f}, {0}};
  const QTensor q = QTensor::quantize(Tensor::from_vector({-1.0f, -127.0f, 5.0f, 0.0f}, {4}), qp);
  EXPECT_EQ(q.dtype(), QDtype::Int8);
  EXPECT_EQ(q.raw()[0], 0xFF);
  EXPECT_EQ(q.raw()[1], 0x81);
  EXPECT_EQ(q.raw()[2], 0x05);
  EXPECT_EQ(q.value_at(0), -1);
  EXPECT_EQ(q.value_at(1), -127);
}

TEST(QTensorStorage, BadInputThrows) {
  const QParams qp{affine(8, false), {0.1f}, {3}};
  const QTensor q = QTensor::quantize(Tensor::zeros({2, 3}), qp);
  EXPECT_THROW(q.value_at(6), Error);
  EXPECT_THROW(q.value_at(-1), Error);
  EXPECT_THROW(QTensor::from_values(std::vector<int32_t>{0, 256}, {2}, qp), Error);
  EXPECT_THROW(QTensor::from_values(std::vector<int32_t>{0, 1, 2}, {2}, qp), Error);
  EXPECT_THROW(QTensor::from_raw(std::vector<uint8_t>(5), {2, 3}, qp), Error);
  const QParams q4{symmetric(4), {0.1f}, {0}};
  EXPECT_THROW(QTensor::from_raw(std::vector<uint8_t>{0x11, 0x10}, {1, 3}, q4), Error);  // padding nibble set
  EXPECT_THROW(QTensor::from_raw(std::vector<uint8_t>{0x08, 0x00}, {1, 3}, q4), Error);  // −8 outside [−7, 7]
  EXPECT_THROW(QTensor::quantize(Tensor::zeros({2, 3}), QParams{affine(8, false), {0.1f}, {300}}), Error);
  EXPECT_THROW(QTensor::quantize(Tensor::zeros({2, 3}), QParams{per_channel(8, 0), {0.1f}, {0}}), Error);
  EXPECT_FALSE(QTensor().defined());
  EXPECT_THROW(QTensor().dequantize(), Error);
}

// ---------------------------------------------------------------------------------------------
// round trips

TEST(QTensorRoundTrip, WithinHalfAScale) {
  Generator gen(21);
  const Tensor x = Tensor::randn({16, 37}, gen) * 3.0f + 0.5f;
  const std::vector<float> v = x.to_vector();
  const float mn = *std::min_element(v.begin(), v.end()), mx = *std::max_element(v.begin(), v.end());
  for (const QuantSpec& spec : {affine(8, false), affine(8, true), symmetric(8), symmetric(4),
                                affine(4, false), affine(3, true), affine(7, false)}) {
    const QTensor q = QTensor::quantize(x, spec);
    const std::vector<float> xh = q.dequantize().to_vector();
    const double range = spec.scheme == Scheme::Symmetric
                             ? 2.0 * std::max(-mn, mx)
                             : static_cast<double>(std::max(mx, 0.0f)) - std::min(mn, 0.0f);
    for (size_t i = 0; i < v.size(); ++i)
      ASSERT_LE(std::fabs(xh[i] - v[i]), roundtrip_bound(q.qparams().scale[0], range, xh[i]))
          << spec.to_string() << " at " << i;
    EXPECT_EQ(q.dequantize().shape(), x.shape());
  }
}

TEST(QTensorRoundTrip, PerChannelUsesEachChannelsScale) {
  // Rows with very different magnitudes: per-channel keeps the small rows precise.
  Generator gen(8);
  Tensor w = Tensor::randn({6, 40}, gen);
  std::vector<float> v = w.to_vector();
  for (size_t i = 0; i < v.size(); ++i) v[i] *= std::pow(10.0f, static_cast<float>(i / 40) - 3.0f);
  w = Tensor::from_vector(v, {6, 40});
  const QTensor q = QTensor::quantize(w, per_channel(8, 0));
  ASSERT_EQ(q.qparams().scale.size(), 6u);
  const std::vector<float> xh = q.dequantize().to_vector();
  for (size_t c = 0; c < 6; ++c) {
    double amax = 0.0;
    for (size_t i = c * 40; i < (c + 1) * 40; ++i)
      amax = std::max(amax, static_cast<double>(std::fabs(v[i])));
    for (size_t i = c * 40; i < (c + 1) * 40; ++i)
      ASSERT_LE(std::fabs(xh[i] - v[i]), roundtrip_bound(q.qparams().scale[c], 2.0 * amax, xh[i])) << c;
  }
  // Along axis 1 (columns) as well.
  const QTensor qc = QTensor::quantize(w, per_channel(8, 1));
  EXPECT_EQ(qc.qparams().scale.size(), 40u);
  EXPECT_TRUE(equal(qc.dequantize(), fake_quantize(w, qc.qparams())));
}

// ---------------------------------------------------------------------------------------------
// matmul

TEST(QTensorMatmul, Uint8TimesUint8) {
  // The course example A_uint8 @ B_uint8, both affine per tensor with nonzero zero points.
  Generator gen(31);
  const Tensor a = Tensor::randn({13, 37}, gen) + 0.7f;
  const Tensor b = Tensor::randn({37, 11}, gen) * 0.5f - 0.2f;
  const QTensor qa = QTensor::quantize(a, affine(8, false));
  const QTensor qb = QTensor::quantize(b, affine(8, false));
  ASSERT_NE(qa.qparams().zero_point[0], 0);
  ASSERT_NE(qb.qparams().zero_point[0], 0);
  check_matmul(a, b, qa, qb, false);
}

TEST(QTensorMatmul, Int8AndPerChannelWeights) {
  Generator gen(32);
  const Tensor a = Tensor::randn({9, 65}, gen);
  const Tensor b = Tensor::randn({65, 17}, gen);
  check_matmul(a, b, QTensor::quantize(a, affine(8, true)), QTensor::quantize(b, affine(8, true)), false);
  check_matmul(a, b, QTensor::quantize(a, affine(8, false)), QTensor::quantize(b, per_channel(8, 1)), false);
  check_matmul(a, b, QTensor::quantize(a, affine(8, true)), QTensor::quantize(b, per_channel(8, -1)), false);
  // Affine per-channel weights: a zero point per column.
  QuantSpec pc_affine = per_channel(8, 1);
  pc_affine.scheme = Scheme::Affine;
  check_matmul(a, b, QTensor::quantize(a, affine(8, false)), QTensor::quantize(b, pc_affine), false);
}

TEST(QTensorMatmul, LinearLayoutAndBatchOne) {
  // matmul_nt: the weight as (out, in), per output channel (axis 0), as a Linear holds it.
  Generator gen(33);
  const Tensor w = Tensor::randn({24, 50}, gen) * 0.1f;
  const QTensor qw = QTensor::quantize(w, per_channel(8, 0));
  for (const int64_t M : {1, 7}) {
    const Tensor x = Tensor::randn({M, 50}, gen);
    check_matmul(x, w, QTensor::quantize(x, affine(8, false)), qw, true);
  }
}

TEST(QTensorMatmul, NarrowWidths) {
  // int4 weights (packed) and 6-bit activations go through the same 8-bit kernel.
  Generator gen(34);
  const Tensor a = Tensor::randn({5, 31}, gen);
  const Tensor b = Tensor::randn({31, 9}, gen);
  check_matmul(a, b, QTensor::quantize(a, affine(6, false)), QTensor::quantize(b, symmetric(4)), false);
  check_matmul(a, b, QTensor::quantize(a, affine(8, false)), QTensor::quantize(b, affine(4, false)), false);
  check_matmul(a, b, QTensor::quantize(a, symmetric(4)), QTensor::quantize(b, per_channel(4, 1)), false);
}

TEST(QTensorMatmul, ExactIntegersGiveExactProducts) {
  // With power-of-two scales every step is exact, so the result must equal the float product.
  const QuantSpec s8 = affine(8, true);
  const QTensor a = QTensor::from_values(std::vector<int32_t>{255, 0, 128, 7, 1, 254}, {2, 3},
                                         QParams{affine(8, false), {0.5f}, {128}});
  const QTensor b = QTensor::from_values(std::vector<int32_t>{-128, 127, 0, 5, 127, -128}, {3, 2},
                                         QParams{s8, {0.25f}, {-3}});
  // (qa − 128) = [[127, −128, 0], [−121, −127, 126]], (qb + 3) = [[−125, 130], [3, 8], [130, −125]]
  // row 0: [127·−125 − 128·3, 127·130 − 128·8] = [−16259, 15486]
  // row 1: [−121·−125 − 127·3 + 126·130, −121·130 − 127·8 + 126·−125] = [31124, −32496]
  const std::vector<float> expected = {-16259 * 0.125f, 15486 * 0.125f, 31124 * 0.125f, -32496 * 0.125f};
  EXPECT_EQ(matmul(a, b).to_vector(), expected);
}

TEST(QTensorMatmul, BadOperandsThrow) {
  Generator gen(35);
  const QTensor a = QTensor::quantize(Tensor::randn({3, 4}, gen), affine(8, false));
  const QTensor b = QTensor::quantize(Tensor::randn({5, 2}, gen), affine(8, true));
  try {
    matmul(a, b);
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[3, 4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5, 2]"), std::string::npos) << msg;
  }
  const QTensor b_ok = QTensor::quantize(Tensor::randn({4, 2}, gen), affine(8, true));
  EXPECT_THROW(matmul_nt(a, b_ok), Error);  // matmul_nt wants (N, K)
  const QTensor a_pc = QTensor::quantize(Tensor::randn({3, 4}, gen), per_channel(8, 1));
  EXPECT_THROW(matmul(a_pc, b_ok), Error);  // a per-channel scale along K cannot be factored out
  const QTensor b_axis0 = QTensor::quantize(Tensor::randn({4, 2}, gen), per_channel(8, 0));
  EXPECT_THROW(matmul(a, b_axis0), Error);  // per-channel along K, not N
  const QTensor v = QTensor::quantize(Tensor::randn({4}, gen), affine(8, true));
  EXPECT_THROW(matmul(a, v), Error);
  EXPECT_THROW(matmul(QTensor(), b_ok), Error);
}

// Signed overflow (undefined behaviour) in (L + 1) / 2 for L = INT64_MAX: the release build returned
// a negative byte count. The exact value is ceil(L / 2) = 2^62.
TEST(QTensorPacking, PackedRowBytesDoesNotOverflow) {
  EXPECT_EQ(tinyml::quant::packed_row_bytes(INT64_MAX), int64_t{1} << 62);
  EXPECT_EQ(tinyml::quant::packed_row_bytes(INT64_MAX - 1), (int64_t{1} << 62) - 1);
  EXPECT_EQ(tinyml::quant::packed_row_bytes(0), 0);
  EXPECT_EQ(tinyml::quant::packed_row_bytes(7), 4);
}
