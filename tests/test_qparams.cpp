// Tests of QuantSpec, choose_qparams, quantize_value and fake_quantize, including every worked
// example of docs/quantization.md (tests named DocExample*).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/support/quant_specs.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

constexpr float kEps = std::numeric_limits<float>::epsilon();

QuantSpec uint8_affine() { return QuantSpec::int8_affine(); }
QuantSpec int8_affine() { return {8, Scheme::Affine, Granularity::PerTensor, 0, true}; }
using tinyml_test::symmetric;

// Round-trip bound. For x inside the widened range [min⁻, max⁺], |x̂ − x| <= s/2 in exact arithmetic:
//   let r = min⁻/s and z = qmin − round(r), so z lies within 1/2 of qmin − r, and let u = x/s + z.
//   x >= min⁻ gives u >= r + z >= qmin − 1/2; x <= max⁺ gives
//   u <= max⁺/s − r + qmin + 1/2 = (max⁺ − min⁻)/s + qmin + 1/2 <= qmax + 1/2
//   because s >= (max⁺ − min⁻)/(qmax − qmin) (equal, or larger when eps wins). So u is inside
//   [qmin − 1/2, qmax + 1/2], and q = clamp(round(u), qmin, qmax) is within 1/2 of u (the clamp
//   only moves a value that rounded past an end back onto it). x̂ − x = s·(q − z) − x = s·(q − u).
//   Symmetric: z = 0, u = x/s in [−qmax, qmax] since s = amax/qmax: the same argument.
// In float32, s, min⁻/s, 1/s and x·(1/s) each carry a relative rounding of 2^-24; in units of q the
// four add at most 4·(qmax − qmin + 1)·2^-24 <= 4·256·2^-24, which is <= 2^-21·(max⁺ − min⁻) in
// units of x; q − z and round(·) + z are exact (small integers), and s·(q − z) rounds once more, by
// 2^-24·|x̂|. Hence the test bound below.
double roundtrip_bound(const QParams& qp, size_t c, float range_min, float range_max, float xhat) {
  const double range = static_cast<double>(std::max(range_max, 0.0f)) - std::min(range_min, 0.0f);
  const double widened = qp.spec.scheme == Scheme::Symmetric
                             ? 2.0 * std::max(std::fabs(range_min), std::fabs(range_max))
                             : range;
  return qp.scale[c] / 2.0 + std::ldexp(widened, -21) + std::ldexp(std::fabs(xhat), -24);
}

struct Recorded {
  float min, max;
  float scale;  // identical for quint8 and qint8: both span 255 steps
  int32_t zp_quint8, zp_qint8;
};

// Recorded from PyTorch 1.13 (Debian python3-torch 1.13.1) with
//   from torch.ao.quantization.observer import MinMaxObserver
//   x = torch.tensor(values, dtype=torch.float32)
//   for dt in (torch.quint8, torch.qint8):
//       o = MinMaxObserver(dtype=dt, qscheme=torch.per_tensor_affine); o(x)
//       s, z = o.calculate_qparams(); print(float(s.item()).hex(), z.item())
// for values [-1, 1], [0, 1], [2, 5], [-5, -2], [0, 0], [3, 3], [-0.3, 7.1], [-1, 0, 0.5, 2],
// [-0.125, 0.625] and [-0.375, 0.375] (the last two make min⁻/s an exact tie in float32).
// Scales are written as hex literals so that they are the exact float32 values PyTorch printed.
const Recorded kPyTorch[] = {
    {-1.0f, 1.0f, 0x1.010102p-7f, 127, -1},      // 0.00784313772; −1/s = −127.49999 → z = 127, not 128
    {0.0f, 1.0f, 0x1.010102p-8f, 0, -128},       // 0.00392156886
    {2.0f, 5.0f, 0x1.414142p-6f, 0, -128},       // 0.0196078438: all positive, range widened to [0, 5]
    {-5.0f, -2.0f, 0x1.414142p-6f, 255, 127},    // all negative, widened to [−5, 0]
    {0.0f, 0.0f, 0x1p-23f, 0, -128},             // all zero: s = eps
    {3.0f, 3.0f, 0x1.818182p-7f, 0, -128},       // constant 3: range [0, 3], s = 0.0117647061
    {-0.3f, 7.1f, 0x1.db751p-6f, 10, -118},      // 0.0290196091
    {-1.0f, 2.0f, 0x1.818182p-7f, 85, -43},      // min/max of [-1, 0, 0.5, 2]
    {-0.125f, 0.625f, 0x1.818182p-9f, 42, -86},  // min⁻/s = −42.5 exactly: half to even gives 42, not 43
    {-0.375f, 0.375f, 0x1.818182p-9f, 128, 0},   // min⁻/s = −127.5 exactly → −128
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// QuantSpec

TEST(QuantSpec, IntegerRanges) {
  EXPECT_EQ(uint8_affine().qmin(), 0);
  EXPECT_EQ(uint8_affine().qmax(), 255);
  EXPECT_EQ(int8_affine().qmin(), -128);
  EXPECT_EQ(int8_affine().qmax(), 127);
  EXPECT_EQ(symmetric(8).qmin(), -127);  // restricted: −128 is never produced
  EXPECT_EQ(symmetric(8).qmax(), 127);
  EXPECT_EQ(symmetric(4).qmin(), -7);
  EXPECT_EQ(symmetric(4).qmax(), 7);
  EXPECT_EQ(symmetric(2).qmin(), -1);
  EXPECT_EQ(symmetric(2).qmax(), 1);
  const QuantSpec u4{4, Scheme::Affine, Granularity::PerTensor, 0, false};
  EXPECT_EQ(u4.qmin(), 0);
  EXPECT_EQ(u4.qmax(), 15);
  const QuantSpec s4{4, Scheme::Affine, Granularity::PerTensor, 0, true};
  EXPECT_EQ(s4.qmin(), -8);
  EXPECT_EQ(s4.qmax(), 7);
  // Symmetric is signed whatever is_signed says.
  const QuantSpec sym_unsigned_flag{8, Scheme::Symmetric, Granularity::PerTensor, 0, false};
  EXPECT_EQ(sym_unsigned_flag.qmin(), -127);
  EXPECT_TRUE(sym_unsigned_flag.signed_range());
  EXPECT_TRUE(sym_unsigned_flag == symmetric(8));
}

TEST(QuantSpec, NamesAndEquality) {
  EXPECT_EQ(uint8_affine().to_string(), "uint8 affine per-tensor");
  EXPECT_EQ(int8_affine().to_string(), "int8 affine per-tensor");
  EXPECT_EQ(QuantSpec::int8_symmetric_per_channel(0).to_string(), "int8 symmetric per-channel(axis=0)");
  QuantSpec s4 = QuantSpec::int8_symmetric_per_channel(1);
  s4.bits = 4;
  EXPECT_EQ(s4.to_string(), "int4 symmetric per-channel(axis=1)");
  EXPECT_FALSE(uint8_affine() == int8_affine());
  EXPECT_FALSE(QuantSpec::int8_symmetric_per_channel(0) == QuantSpec::int8_symmetric_per_channel(1));
  QuantSpec a = uint8_affine(), b = uint8_affine();
  b.axis = 3;  // ignored per tensor
  EXPECT_TRUE(a == b);
}

// One table of names for files, DOT pictures and the command line: each name parses back to its
// value, and a name outside the table is an error that lists the ones there are.
TEST(QuantSpec, SchemeAndGranularityNamesRoundTrip) {
  EXPECT_EQ(scheme_names(), (std::vector<std::string>{"affine", "symmetric"}));
  EXPECT_EQ(granularity_names(), (std::vector<std::string>{"per-tensor", "per-channel"}));
  for (const Scheme s : {Scheme::Affine, Scheme::Symmetric}) EXPECT_EQ(parse_scheme(to_string(s)), s);
  for (const Granularity g : {Granularity::PerTensor, Granularity::PerChannel})
    EXPECT_EQ(parse_granularity(to_string(g)), g);
  try {
    parse_scheme("Affine");  // names are case-sensitive
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "parse_scheme: unknown scheme 'Affine'; expected affine or symmetric");
  }
  EXPECT_THROW(parse_granularity("per-row"), Error);
}

TEST(QuantSpec, BadBitsThrow) {
  for (const int bits : {-1, 0, 1, 9, 16, 32}) {
    QuantSpec s = uint8_affine();
    s.bits = bits;
    EXPECT_THROW(s.validate("test"), Error) << bits;
    EXPECT_THROW(s.qmax(), Error) << bits;
    EXPECT_THROW(choose_qparams(-1.0f, 1.0f, s), Error) << bits;
  }
  QuantSpec s = uint8_affine();
  s.bits = 9;
  try {
    choose_qparams(-1.0f, 1.0f, s);
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("choose_qparams"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2..8"), std::string::npos) << msg;
    EXPECT_NE(msg.find("9"), std::string::npos) << msg;
  }
}

// ---------------------------------------------------------------------------------------------
// choose_qparams

TEST(ChooseQParams, MatchesPyTorchMinMaxObserverBitForBit) {
  for (const auto& r : kPyTorch) {
    const QParams u = choose_qparams(r.min, r.max, uint8_affine());
    ASSERT_EQ(u.scale.size(), 1u);
    EXPECT_EQ(u.scale[0], r.scale) << "[" << r.min << ", " << r.max << "]";
    EXPECT_EQ(u.zero_point[0], r.zp_quint8) << "[" << r.min << ", " << r.max << "]";
    const QParams s = choose_qparams(r.min, r.max, int8_affine());
    EXPECT_EQ(s.scale[0], r.scale) << "[" << r.min << ", " << r.max << "]";
    EXPECT_EQ(s.zero_point[0], r.zp_qint8) << "[" << r.min << ", " << r.max << "]";
    // The tensor overload finds the same min/max.
    const QParams t = choose_qparams(Tensor::from_vector({r.min, r.max}, {2}), uint8_affine());
    EXPECT_EQ(t.scale[0], r.scale);
    EXPECT_EQ(t.zero_point[0], r.zp_quint8);
  }
}

TEST(ChooseQParams, SingleElementMatchesPyTorch) {
  // PyTorch 1.13, MinMaxObserver on torch.tensor([-2.5]): s = 0x1.414142p-7 (0.00980392192),
  // z = 255 (quint8) and 127 (qint8): the range is widened to [−2.5, 0].
  const Tensor x = Tensor::from_vector({-2.5f}, {1});
  const QParams u = choose_qparams(x, uint8_affine());
  EXPECT_EQ(u.scale[0], 0x1.414142p-7f);
  EXPECT_EQ(u.zero_point[0], 255);
  const QParams s = choose_qparams(x, int8_affine());
  EXPECT_EQ(s.scale[0], 0x1.414142p-7f);
  EXPECT_EQ(s.zero_point[0], 127);
  // −2.5 itself maps to qmin and comes back exactly: −2.5/s = −255.0000 → q = 0, x̂ = s·(0 − 255).
  EXPECT_EQ(quantize_value(-2.5f, u.scale[0], 255, 0, 255), 0);
  EXPECT_NEAR(dequantize_value(0, u.scale[0], 255), -2.5f, roundtrip_bound(u, 0, -2.5f, 0.0f, 2.5f));
}

TEST(ChooseQParams, EdgeCasesRoundTrip) {
  const QuantSpec specs[] = {uint8_affine(),
                             int8_affine(),
                             symmetric(8),
                             symmetric(4),
                             {4, Scheme::Affine, Granularity::PerTensor, 0, false}};
  const std::vector<std::vector<float>> cases = {
      {0.0f, 0.0f, 0.0f},         // all zero: must stay zero, not become garbage
      {3.0f, 3.0f, 3.0f},         // constant positive: not quantized to zeros
      {-3.0f, -3.0f},             // constant negative
      {2.0f, 3.5f, 5.0f},         // all positive: the top (5) must not be lost
      {-5.0f, -4.0f, -2.0f},      // all negative
      {0.7f},                     // a single element
      {-1.0f, 0.0f, 0.5f, 2.0f},  // mixed, with an exact 0
  };
  for (const auto& spec : specs)
    for (const auto& vals : cases) {
      const Tensor x = Tensor::from_vector(vals, {static_cast<int64_t>(vals.size())});
      const QParams qp = choose_qparams(x, spec);
      const float mn = *std::min_element(vals.begin(), vals.end());
      const float mx = *std::max_element(vals.begin(), vals.end());
      const std::vector<float> xh = fake_quantize(x, qp).to_vector();
      for (size_t i = 0; i < vals.size(); ++i) {
        EXPECT_LE(std::fabs(xh[i] - vals[i]), roundtrip_bound(qp, 0, mn, mx, xh[i]))
            << spec.to_string() << " x=" << vals[i] << " x̂=" << xh[i] << " s=" << qp.scale[0]
            << " z=" << qp.zero_point[0];
      }
      // 0.0 is exact: round(0/s) + z = z and s·(z − z) = 0.
      EXPECT_EQ(
          dequantize_value(quantize_value(0.0f, qp.scale[0], qp.zero_point[0], spec.qmin(), spec.qmax()),
                           qp.scale[0], qp.zero_point[0]),
          0.0f)
          << spec.to_string();
    }
}

TEST(ChooseQParams, ConstantThreeKeepsItsValue) {
  // All 3.0: the range becomes [0, 3], s = 3/255, z = 0; 3.0/s rounds to 255 and returns within s/2.
  const Tensor x = Tensor::full({4}, 3.0f);
  const QParams qp = choose_qparams(x, uint8_affine());
  EXPECT_EQ(qp.zero_point[0], 0);
  EXPECT_EQ(quantize_value(3.0f, qp.scale[0], 0, 0, 255), 255);
  const float back = dequantize_value(255, qp.scale[0], 0);
  EXPECT_LE(std::fabs(back - 3.0f), qp.scale[0] / 2);
  EXPECT_GT(back, 2.99f);  // not zero, the defect this guards against
}

TEST(ChooseQParams, SymmetricUsesRestrictedRange) {
  // amax = 2.54 → s = 2.54/127 = 0.02; −amax maps to −127, never −128.
  const QParams qp = choose_qparams(-2.54f, 1.0f, symmetric(8));
  EXPECT_EQ(qp.zero_point[0], 0);
  EXPECT_EQ(qp.scale[0], 2.54f / 127.0f);
  EXPECT_EQ(quantize_value(-2.54f, qp.scale[0], 0, -127, 127), -127);
  EXPECT_EQ(quantize_value(-100.0f, qp.scale[0], 0, -127, 127), -127);  // clamped, not −128
  EXPECT_EQ(quantize_value(2.54f, qp.scale[0], 0, -127, 127), 127);
  // All zero: s = eps rather than 0, so x/s stays finite.
  const QParams z = choose_qparams(0.0f, 0.0f, symmetric(8));
  EXPECT_EQ(z.scale[0], kEps);
}

TEST(ChooseQParams, RoundTripOnRandomTensors) {
  Generator gen(2024);
  const QuantSpec specs[] = {uint8_affine(),
                             int8_affine(),
                             symmetric(8),
                             symmetric(4),
                             symmetric(2),
                             {4, Scheme::Affine, Granularity::PerTensor, 0, false},
                             {6, Scheme::Affine, Granularity::PerTensor, 0, true}};
  for (const auto& spec : specs)
    for (const float shift : {0.0f, 3.0f, -7.0f}) {  // mixed-sign, all-positive and all-negative data
      const Tensor x = Tensor::randn({64, 33}, gen) * 2.0f + shift;
      const QParams qp = choose_qparams(x, spec);
      const std::vector<float> v = x.to_vector(), xh = fake_quantize(x, qp).to_vector();
      const float mn = *std::min_element(v.begin(), v.end()), mx = *std::max_element(v.begin(), v.end());
      double worst = 0.0;
      for (size_t i = 0; i < v.size(); ++i) {
        ASSERT_LE(std::fabs(xh[i] - v[i]), roundtrip_bound(qp, 0, mn, mx, xh[i]))
            << spec.to_string() << " shift " << shift << " x=" << v[i];
        worst = std::max(worst, static_cast<double>(std::fabs(xh[i] - v[i])));
      }
      // Not vacuous: with ~2000 values the worst error comes close to s/2.
      EXPECT_GT(worst, 0.4 * qp.scale[0]) << spec.to_string();
    }
}

TEST(ChooseQParams, PerChannelMatchesPyTorch) {
  // PyTorch 1.13:
  //   w = torch.tensor([[-1.0, 0.5, 2.0], [0.1, 0.2, 0.3], [-4.0, -3.0, -0.5]])
  //   o = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.quint8, qscheme=torch.per_channel_affine); o(w)
  //   → scales 0x1.818182p-7, 0x1.34679cp-10, 0x1.010102p-6; zero points [85, 0, 255]
  //   with ch_axis=1 → scales 0x1.076dd4p-6, 0x1.c1c1c2p-7, 0x1.414142p-7; zero points [249, 219, 51]
  const Tensor w({{-1.0f, 0.5f, 2.0f}, {0.1f, 0.2f, 0.3f}, {-4.0f, -3.0f, -0.5f}});
  QuantSpec spec = uint8_affine();
  spec.granularity = Granularity::PerChannel;
  spec.axis = 0;
  QParams qp = choose_qparams(w, spec);
  EXPECT_EQ(qp.scale, (std::vector<float>{0x1.818182p-7f, 0x1.34679cp-10f, 0x1.010102p-6f}));
  EXPECT_EQ(qp.zero_point, (std::vector<int32_t>{85, 0, 255}));
  spec.axis = 1;
  qp = choose_qparams(w, spec);
  EXPECT_EQ(qp.scale, (std::vector<float>{0x1.076dd4p-6f, 0x1.c1c1c2p-7f, 0x1.414142p-7f}));
  EXPECT_EQ(qp.zero_point, (std::vector<int32_t>{249, 219, 51}));
  spec.axis = -1;  // counts from the end, as in PyTorch
  const QParams neg = choose_qparams(w, spec);
  EXPECT_EQ(neg.scale, qp.scale);
  EXPECT_EQ(neg.zero_point, qp.zero_point);

  // Symmetric per output channel: s_c = amax_c / 127 → [2/127, 0.3/127, 4/127].
  const QParams sym = choose_qparams(w, QuantSpec::int8_symmetric_per_channel(0));
  EXPECT_EQ(sym.scale, (std::vector<float>{2.0f / 127.0f, 0.3f / 127.0f, 4.0f / 127.0f}));
  EXPECT_EQ(sym.zero_point, (std::vector<int32_t>{0, 0, 0}));
  // Each row round-trips within its own scale (each row of w is sorted: its min and max are its
  // first and last entries).
  const std::vector<float> v = w.to_vector(), xh = fake_quantize(w, sym).to_vector();
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t c = i / 3;
    EXPECT_LE(std::fabs(xh[i] - v[i]), roundtrip_bound(sym, c, v[c * 3], v[c * 3 + 2], xh[i])) << i;
  }
  // The span overload agrees with the tensor overload.
  const std::vector<float> mins = {-1.0f, 0.1f, -4.0f}, maxs = {2.0f, 0.3f, -0.5f};
  const QParams from_ranges = choose_qparams(mins, maxs, QuantSpec::int8_symmetric_per_channel(0));
  EXPECT_EQ(from_ranges.scale, sym.scale);
}

TEST(ChooseQParams, BadInputThrows) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  EXPECT_THROW(choose_qparams(nan, 1.0f, uint8_affine()), Error);
  EXPECT_THROW(choose_qparams(-1.0f, inf, uint8_affine()), Error);
  EXPECT_THROW(choose_qparams(2.0f, 1.0f, uint8_affine()), Error);  // min > max
  EXPECT_THROW(choose_qparams(Tensor::from_vector({1.0f, nan}, {2}), uint8_affine()), Error);
  EXPECT_THROW(choose_qparams(Tensor::from_vector({-inf, 1.0f}, {2}), symmetric(8)), Error);
  EXPECT_THROW(choose_qparams(Tensor::zeros({0, 3}), uint8_affine()), Error);
  EXPECT_THROW(choose_qparams(-1.0f, 1.0f, QuantSpec::int8_symmetric_per_channel(0)), Error);
  const std::vector<float> two = {0.0f, 1.0f}, three = {0.0f, 1.0f, 2.0f};
  EXPECT_THROW(choose_qparams(two, three, QuantSpec::int8_symmetric_per_channel(0)), Error);
  EXPECT_THROW(choose_qparams(two, two, uint8_affine()), Error);       // not a per-channel spec
  EXPECT_THROW(choose_qparams(-3e38f, 3e38f, uint8_affine()), Error);  // scale overflows to inf

  // An axis outside the tensor names the axis and the shape.
  const Tensor w = Tensor::zeros({4, 5});
  for (const int64_t axis : {2, 7, -3}) {
    try {
      choose_qparams(w, QuantSpec::int8_symmetric_per_channel(axis));
      FAIL() << "no throw for axis " << axis;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(fmt::format("axis {}", axis)), std::string::npos) << msg;
      EXPECT_NE(msg.find("[4, 5]"), std::string::npos) << msg;
    }
  }
  try {
    choose_qparams(Tensor::from_vector({0.0f, nan, 1.0f}, {3}), uint8_affine());
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// rounding and single values

TEST(QuantizeValue, RoundsHalfToEven) {
  EXPECT_EQ(round_half_even(0.5f), 0.0f);
  EXPECT_EQ(round_half_even(1.5f), 2.0f);
  EXPECT_EQ(round_half_even(2.5f), 2.0f);
  EXPECT_EQ(round_half_even(-0.5f), 0.0f);
  EXPECT_EQ(round_half_even(-1.5f), -2.0f);
  EXPECT_EQ(round_half_even(-2.5f), -2.0f);
  EXPECT_EQ(round_half_even(2.4999998f), 2.0f);
  EXPECT_EQ(round_half_even(2.5000002f), 3.0f);
  EXPECT_EQ(round_half_even(-127.5f), -128.0f);
  EXPECT_EQ(round_half_even(8388609.0f), 8388609.0f);  // 2^23 + 1: already an integer
}

TEST(QuantizeValue, ClampsAndRejectsNaN) {
  EXPECT_EQ(quantize_value(1e30f, 0.1f, 3, 0, 255), 255);
  EXPECT_EQ(quantize_value(-1e30f, 0.1f, 3, 0, 255), 0);
  EXPECT_EQ(quantize_value(std::numeric_limits<float>::infinity(), 0.1f, 3, 0, 255), 255);
  EXPECT_EQ(quantize_value(-std::numeric_limits<float>::infinity(), 0.1f, 3, -128, 127), -128);
  // In float32, 1/0.1f is 10 and 0.25f·10, 0.35f·10 are exactly 2.5 and 3.5: ties, to the even neighbour.
  EXPECT_EQ(quantize_value(0.25f, 0.1f, 3, 0, 255), 5);  // 2 + 3
  EXPECT_EQ(quantize_value(0.35f, 0.1f, 3, 0, 255), 7);  // 4 + 3
  EXPECT_THROW(quantize_value(std::numeric_limits<float>::quiet_NaN(), 0.1f, 0, 0, 255), Error);
}

// Ties where x / s and x · (1/s) round differently in float32; the integers are PyTorch 1.13's:
//   from torch.ao.quantization.observer import MinMaxObserver
//   x = torch.tensor(values); o = MinMaxObserver(dtype=dt); o(x); s, z = o.calculate_qparams()
//   torch.quantize_per_tensor(x, s.item(), int(z), dt).int_repr()
//   torch.fake_quantize_per_tensor_affine(x, s.item(), int(z), qmin, qmax)  (the same integers · s)
// Dividing by s gives [0, 254] for the first and 42 for the 0.001 of the third.
TEST(QuantizeValue, MatchesPyTorchAtTies) {
  struct Case {
    std::vector<float> x;
    bool is_signed;
    std::vector<int32_t> q;  // PyTorch's
  };
  const std::vector<Case> cases = {
      {{-0.01f, 0.01f}, false, {0, 255}},               // s = 7.84313743e-05, z = 127
      {{0.001f, -0.005f, 0.0f}, false, {255, 0, 212}},  // s = 2.3529412e-05, z = 212
      {{0.001f, -0.005f, 0.0f}, true, {127, -128, 84}},
      {{0.006f, 0.001f, 0.003f}, false, {255, 43, 128}},  // s = 2.3529412e-05, z = 0
      {{0.006f, 0.001f, 0.003f}, true, {127, -85, 0}},    // z = −128
  };
  for (const Case& c : cases) {
    const QuantSpec spec{8, Scheme::Affine, Granularity::PerTensor, 0, c.is_signed};
    const Tensor x = Tensor::from_vector(c.x, {static_cast<int64_t>(c.x.size())});
    const QParams qp = choose_qparams(x, spec);
    EXPECT_EQ(QTensor::quantize(x, qp).values(), c.q) << c.x[0];
    const std::vector<float> xhat = fake_quantize(x, qp).to_vector();
    for (size_t i = 0; i < c.q.size(); ++i) {
      EXPECT_EQ(quantize_value(c.x[i], qp.scale[0], qp.zero_point[0], spec.qmin(), spec.qmax()), c.q[i]);
      EXPECT_EQ(xhat[i], dequantize_value(c.q[i], qp.scale[0], qp.zero_point[0]));
    }
  }
  // The first case's scale, as PyTorch prints it.
  EXPECT_EQ(choose_qparams(-0.01f, 0.01f, uint8_affine()).scale[0], 7.84313743e-05f);
}

TEST(FakeQuantize, EqualsQuantizeThenDequantize) {
  Generator gen(5);
  const Tensor x = Tensor::randn({7, 6}, gen);
  for (const QuantSpec& spec : {uint8_affine(), QuantSpec::int8_symmetric_per_channel(1)}) {
    const QParams qp = choose_qparams(x, spec);
    EXPECT_TRUE(equal(fake_quantize(x, qp), QTensor::quantize(x, qp).dequantize())) << spec.to_string();
  }
  // Values outside the range clamp to its ends.
  const QParams qp = choose_qparams(-1.0f, 1.0f, uint8_affine());
  const std::vector<float> out = fake_quantize(Tensor::from_vector({-5.0f, 5.0f}, {2}), qp).to_vector();
  EXPECT_EQ(out[0], dequantize_value(0, qp.scale[0], qp.zero_point[0]));
  EXPECT_EQ(out[1], dequantize_value(255, qp.scale[0], qp.zero_point[0]));
  // Qparams that do not fit the tensor are rejected.
  QParams wrong = choose_qparams(x, QuantSpec::int8_symmetric_per_channel(0));  // 7 channels
  EXPECT_THROW(fake_quantize(x.t().contiguous(), wrong), Error);                // shape [6, 7]
  QParams bad_scale = qp;
  bad_scale.scale[0] = 0.0f;
  EXPECT_THROW(fake_quantize(x, bad_scale), Error);
}

// ---------------------------------------------------------------------------------------------
// The worked examples of docs/quantization.md, number for number.

TEST(DocExample, Uint8Affine) {
  // x = [−1, 0, 0.5, 2]: s = 3/255 = 0.0117647061, z = 0 − round(−1/s) = 85; in float32
  // x/s = [−85, 0, 42.5, 170], and the tie 42.5 goes to the even 42:
  // q = [0, 85, 127, 255], x̂ = [−1, 0, 0.494117647, 2].
  // PyTorch 1.13 gives the same: torch.quantize_per_tensor(x, s, 85, torch.quint8).int_repr()
  // = [0, 85, 127, 255], dequantize() = [-1, 0, 0.494117647, 2].
  const Tensor x = Tensor::from_vector({-1.0f, 0.0f, 0.5f, 2.0f}, {4});
  const QTensor q = QTensor::quantize(x, uint8_affine());
  EXPECT_EQ(q.qparams().scale[0], 0x1.818182p-7f);
  EXPECT_FLOAT_EQ(q.qparams().scale[0], 0.0117647061f);
  EXPECT_EQ(q.qparams().zero_point[0], 85);
  EXPECT_EQ(q.values(), (std::vector<int32_t>{0, 85, 127, 255}));
  const std::vector<float> xh = q.dequantize().to_vector();
  EXPECT_FLOAT_EQ(xh[0], -1.0f);
  EXPECT_EQ(xh[1], 0.0f);
  EXPECT_FLOAT_EQ(xh[2], 0.494117647f);
  EXPECT_FLOAT_EQ(xh[3], 2.0f);
  // The course's dequantization s·q + z·s has the sign of z wrong: for q = 85 (x = 0) it gives 2.0.
  const float s = q.qparams().scale[0];
  EXPECT_FLOAT_EQ(s * 85.0f + 85.0f * s, 2.0f);
  EXPECT_EQ(dequantize_value(85, s, 85), 0.0f);
}

TEST(DocExample, Int8Symmetric) {
  // amax = 2: s = 2/127 = 0.0157480314; x/s = [−63.5, 0, 31.75, 127] → q = [−64, 0, 32, 127]
  // (−63.5 is a tie and goes to the even −64); x̂ = [−1.00787401, 0, 0.503937006, 2].
  const Tensor x = Tensor::from_vector({-1.0f, 0.0f, 0.5f, 2.0f}, {4});
  const QTensor q = QTensor::quantize(x, symmetric(8));
  EXPECT_FLOAT_EQ(q.qparams().scale[0], 0.0157480314f);
  EXPECT_EQ(q.qparams().zero_point[0], 0);
  EXPECT_EQ(q.values(), (std::vector<int32_t>{-64, 0, 32, 127}));
  const std::vector<float> xh = q.dequantize().to_vector();
  EXPECT_FLOAT_EQ(xh[0], -1.00787401f);
  EXPECT_EQ(xh[1], 0.0f);
  EXPECT_FLOAT_EQ(xh[2], 0.503937006f);
  EXPECT_FLOAT_EQ(xh[3], 2.0f);
  EXPECT_EQ(q.raw()[0], 0xC0);  // −64 stored as its int8 bit pattern
}

TEST(DocExample, Int4) {
  // uint4 affine: s = 3/15 = 0.2, z = 5, x/s + z = [0, 5, 7.5, 15] → q = [0, 5, 7, 15] (7.5 → 7,
  // the even neighbour, since 0.5/s = 2.5 exactly), x̂ = [−1, 0, 0.4, 2]; packed two per byte,
  // low nibble first: bytes [0x50, 0xF7].
  const Tensor x = Tensor::from_vector({-1.0f, 0.0f, 0.5f, 2.0f}, {4});
  const QTensor u = QTensor::quantize(x, QuantSpec{4, Scheme::Affine, Granularity::PerTensor, 0, false});
  EXPECT_FLOAT_EQ(u.qparams().scale[0], 0.2f);
  EXPECT_EQ(u.qparams().zero_point[0], 5);
  EXPECT_EQ(u.values(), (std::vector<int32_t>{0, 5, 7, 15}));
  EXPECT_EQ(u.dtype(), QDtype::UInt4Packed);
  ASSERT_EQ(u.storage_bytes(), 2u);
  EXPECT_EQ(u.raw()[0], 0x50);
  EXPECT_EQ(u.raw()[1], 0xF7);
  const std::vector<float> uh = u.dequantize().to_vector();
  EXPECT_FLOAT_EQ(uh[0], -1.0f);
  EXPECT_EQ(uh[1], 0.0f);
  EXPECT_FLOAT_EQ(uh[2], 0.4f);
  EXPECT_FLOAT_EQ(uh[3], 2.0f);

  // int4 symmetric: s = 2/7 = 0.285714298, x/s = [−3.49999976, 0, 1.74999988, 6.99999952]
  // → q = [−3, 0, 2, 7], x̂ = [−0.857142925, 0, 0.571428597, 2]; bytes [0x0D, 0x72] (−3 = 0xD).
  const QTensor s = QTensor::quantize(x, symmetric(4));
  EXPECT_FLOAT_EQ(s.qparams().scale[0], 0.285714298f);
  EXPECT_EQ(s.values(), (std::vector<int32_t>{-3, 0, 2, 7}));
  EXPECT_EQ(s.raw()[0], 0x0D);
  EXPECT_EQ(s.raw()[1], 0x72);
  const std::vector<float> sh = s.dequantize().to_vector();
  EXPECT_FLOAT_EQ(sh[0], -0.857142925f);
  EXPECT_FLOAT_EQ(sh[2], 0.571428597f);
  EXPECT_FLOAT_EQ(sh[3], 2.0f);
}

TEST(DocExample, ZeroPointAlgebra2x2) {
  // A = s_a·(qa − za) with s_a = 0.5, za = 2, qa = [[3, 5], [0, 4]]  → A = [[0.5, 1.5], [−1, 1]]
  // B = s_b·(qb − zb) with s_b = 0.25, zb = −1, qb = [[1, −3], [3, 0]] → B = [[0.5, −0.5], [1, 0.25]]
  // Σ qa·qb = [[18, −9], [12, 0]], rowsum(qa) = [8, 4], colsum(qb) = [4, −3], K·za·zb = −4:
  // C = acc − zb·rowsum − za·colsum + K·za·zb = [[18 + 8 − 8 − 4, −9 + 8 + 6 − 4], [12 + 4 − 8 − 4, 0 + 4 + 6
  // − 4]]
  //   = [[14, 1], [4, 6]] = Σ (qa − za)(qb − zb); y = s_a·s_b·C = [[1.75, 0.125], [0.5, 0.75]] = A·B.
  const uint8_t qa[] = {3, 5, 0, 4};
  const int8_t qb[] = {1, -3, 3, 0};
  int32_t acc[4], rowsum[2], colsum[2];
  kernels::qgemm_u8s8(2, 2, 2, qa, 2, qb, 2, false, acc, 2);
  EXPECT_EQ(std::vector<int32_t>(acc, acc + 4), (std::vector<int32_t>{18, -9, 12, 0}));
  kernels::row_sums_u8(2, 2, qa, 2, rowsum);
  kernels::col_sums_s8(2, 2, qb, 2, false, colsum);
  EXPECT_EQ(std::vector<int32_t>(rowsum, rowsum + 2), (std::vector<int32_t>{8, 4}));
  EXPECT_EQ(std::vector<int32_t>(colsum, colsum + 2), (std::vector<int32_t>{4, -3}));
  const int32_t zb[] = {-1};
  kernels::zero_point_correct(2, 2, 2, 2, zb, rowsum, colsum, acc, 2);
  EXPECT_EQ(std::vector<int32_t>(acc, acc + 4), (std::vector<int32_t>{14, 1, 4, 6}));

  // The same through QTensor and quant::matmul.
  const QuantSpec s8{8, Scheme::Affine, Granularity::PerTensor, 0, true};
  const QTensor a =
      QTensor::from_values(std::vector<int32_t>{3, 5, 0, 4}, {2, 2}, QParams{uint8_affine(), {0.5f}, {2}});
  const QTensor b =
      QTensor::from_values(std::vector<int32_t>{1, -3, 3, 0}, {2, 2}, QParams{s8, {0.25f}, {-1}});
  EXPECT_EQ(matmul(a, b).to_vector(), (std::vector<float>{1.75f, 0.125f, 0.5f, 0.75f}));
}
