// Tests for the observers: hand-computed ranges, heavy-tailed and uniform data, the histogram and its
// estimates, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/histogram_observer.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/quant/qparams.hpp"

namespace {

using tinyml::Error;
using tinyml::Generator;
using tinyml::Tensor;
using namespace tinyml::quant;
using ::testing::HasSubstr;

// Student-t with nu degrees of freedom: N(0, 1) / sqrt(χ²_nu / nu), χ² as a sum of nu squared normals.
std::vector<float> student_t(int64_t n, int nu, Generator& gen) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    double chi2 = 0.0;
    for (int k = 0; k < nu; ++k) {
      const double z = gen.normal();
      chi2 += z * z;
    }
    x = static_cast<float>(gen.normal() / std::sqrt(chi2 / nu));
  }
  return v;
}

// Laplace(0, 1) as the difference of two Exp(1) variables, Exp(1) = −ln(1 − U) with U in [0, 1).
std::vector<float> laplace(int64_t n, Generator& gen) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const double a = -std::log(1.0 - gen.uniform());
    const double b = -std::log(1.0 - gen.uniform());
    x = static_cast<float>(a - b);
  }
  return v;
}

constexpr int64_t kN = 200000;

// The data sets, built once: 200k values (enough that the 99.99th percentile rests on 20 values
// per tail), fed to the observers in 4 batches so that the histograms have to grow.
const Tensor& heavy_tailed(const std::string& which) {
  static const Tensor t3 = [] {
    Generator gen(1);
    return Tensor::from_vector(student_t(kN, 3, gen), {kN});
  }();
  static const Tensor lap = [] {
    Generator gen(2);
    return Tensor::from_vector(laplace(kN, gen), {kN});
  }();
  return which == "student-t3" ? t3 : lap;
}

const Tensor& uniform_pm1() {
  static const Tensor u = [] {
    Generator gen(3);
    std::vector<float> v(kN);
    for (auto& x : v) x = gen.uniform(-1.0f, 1.0f);
    return Tensor::from_vector(v, {kN});
  }();
  return u;
}

void observe_in_batches(Observer& ob, const Tensor& x, int batches = 4) {
  const int64_t n = x.size(0) / batches;
  for (int b = 0; b < batches; ++b) ob.observe(x.narrow(0, b * n, n));
}

// The real reconstruction error: mean (fake_quantize(x) − x)².
double measured_mse(const Tensor& x, const QParams& qp) {
  const std::vector<float> xs = x.to_vector();
  const std::vector<float> ys = fake_quantize(x, qp).to_vector();
  double sum = 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double d = static_cast<double>(ys[i]) - xs[i];
    sum += d * d;
  }
  return sum / static_cast<double>(xs.size());
}

QuantSpec spec_of(int bits, Scheme scheme) {
  QuantSpec s;
  s.bits = bits;
  s.scheme = scheme;
  s.is_signed = scheme == Scheme::Symmetric;
  return s;
}

// Width of what the quantizer covers for a chosen range (see ObservedRange::clipped_fraction).
double covered_width(const ObservedRange& r, const QuantSpec& spec) {
  const Coverage c = covered_range(r.lo, r.hi, spec);
  return c.hi - c.lo;
}

using tinyml_test::error_of;

// ---------------------------------------------------------------------------------------------
// The one-pass scan every observe() starts with

TEST(ScanValues, FastPathMatchesReference) {
  Generator gen(14);
  const float inf = std::numeric_limits<float>::infinity();
  // Lengths around the 16-lane width, and one long enough to flush the lane counters; NaN,
  // ±Inf and zeros sprinkled at random places.
  for (int64_t n :
       {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{1000}, int64_t{(1 << 20) + 37}}) {
    // A cheap saw-tooth in (−0.5, 0.5) with random extremes and zeros at random places.
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      v[static_cast<size_t>(i)] = static_cast<float>(i % 999 + 1) / 1000.0f - 0.5f;
    v[gen.randint(static_cast<uint64_t>(n))] = gen.uniform(-3.0f, -1.0f);
    v[gen.randint(static_cast<uint64_t>(n))] = gen.uniform(1.0f, 3.0f);
    for (int k = 0; k < 5; ++k) v[gen.randint(static_cast<uint64_t>(n))] = 0.0f;
    SCOPED_TRACE(n);
    ValueScan fast = scan_values(v.data(), n);
    ValueScan ref = detail::scan_values_reference(v.data(), n);
    EXPECT_EQ(fast.non_finite, 0);
    EXPECT_EQ(fast.zeros, ref.zeros);
    EXPECT_EQ(fast.min, ref.min);
    EXPECT_EQ(fast.max, ref.max);
    for (int k = 0; k < 5; ++k)
      v[gen.randint(static_cast<uint64_t>(n))] = k % 2 ? std::nanf("") : (k % 4 ? inf : -inf);
    fast = scan_values(v.data(), n);
    ref = detail::scan_values_reference(v.data(), n);
    EXPECT_GT(ref.non_finite, 0);
    EXPECT_EQ(fast.non_finite, ref.non_finite);
    EXPECT_EQ(fast.zeros, ref.zeros);
  }
  // The plain loop itself, on hand data.
  const std::vector<float> hand{3.0f, -0.0f, 0.0f, -7.5f, 2.0f};
  const ValueScan r = detail::scan_values_reference(hand.data(), 5);
  EXPECT_EQ(r.min, -7.5f);
  EXPECT_EQ(r.max, 3.0f);
  EXPECT_EQ(r.zeros, 2);  // −0.0 == 0.0
  EXPECT_EQ(r.non_finite, 0);
}

// ---------------------------------------------------------------------------------------------
// Min/max family on hand data

TEST(MinMaxObserver, HandData) {
  MinMaxObserver ob;
  ob.observe(Tensor({{1.0f, -2.0f}, {3.0f, 0.5f}}));
  ob.observe(Tensor({4.0f, -1.0f}));
  EXPECT_EQ(ob.count(), 6);
  EXPECT_EQ(ob.batches(), 2);
  const ObservedRange r = ob.range();
  EXPECT_EQ(r.min, -2.0f);
  EXPECT_EQ(r.max, 4.0f);
  EXPECT_EQ(r.lo, -2.0f);
  EXPECT_EQ(r.hi, 4.0f);
  EXPECT_EQ(r.clipped_fraction, 0.0);
  EXPECT_EQ(r.why, "min/max of 2 batches");
  // uint8 affine: s = (4 − (−2)) / 255, z = 0 − round(−2 / s) = round(85.0) = 85.
  const QParams qp = ob.qparams();
  ASSERT_EQ(qp.scale.size(), 1u);
  EXPECT_FLOAT_EQ(qp.scale[0], 6.0f / 255.0f);
  EXPECT_EQ(qp.zero_point[0], 85);
  // No zeros among the six values, so every value pays the rounding error s²/12.
  const double s = qp.scale[0];
  EXPECT_NEAR(r.estimated_mse, s * s / 12.0, 1e-12);
}

TEST(MinMaxObserver, StridedInputGivesTheSameRangeAsContiguous) {
  Generator gen(7);
  const Tensor x = Tensor::randn({5, 7}, gen);
  MinMaxObserver a;
  MinMaxObserver b;
  a.observe(x.t());
  b.observe(x.t().contiguous());
  EXPECT_EQ(a.range().lo, b.range().lo);
  EXPECT_EQ(a.range().hi, b.range().hi);
  EXPECT_EQ(a.range().lo, x.min().item());
  EXPECT_EQ(a.range().hi, x.max().item());
}

TEST(MovingAverageMinMaxObserver, MatchesHandComputedSequence) {
  // c = 0.5: the first batch sets the range, then min += c·(batch_min − min), likewise max.
  MovingAverageMinMaxObserver ob(0.5f);
  ob.observe(Tensor({-1.0f, 1.0f, 0.0f, 0.5f}));
  EXPECT_EQ(ob.range().lo, -1.0f);
  EXPECT_EQ(ob.range().hi, 1.0f);
  ob.observe(Tensor({-3.0f, 5.0f, 0.0f, 1.0f}));  // → (−1 + 0.5·(−2), 1 + 0.5·4) = (−2, 3)
  EXPECT_EQ(ob.range().lo, -2.0f);
  EXPECT_EQ(ob.range().hi, 3.0f);
  ob.observe(Tensor({0.0f, 1.0f, 0.5f, 0.25f}));  // → (−2 + 0.5·2, 3 + 0.5·(−2)) = (−1, 2)
  const ObservedRange r = ob.range();
  EXPECT_EQ(r.lo, -1.0f);
  EXPECT_EQ(r.hi, 2.0f);
  EXPECT_EQ(r.min, -3.0f);
  EXPECT_EQ(r.max, 5.0f);
  // Only batch 2 had values outside its range (−2, 3): −3 (by 1) and 5 (by 2). Of the other
  // 10 values, 3 are exact zeros, so 7 pay the rounding error s²/12 of the final range (−1, 2).
  EXPECT_DOUBLE_EQ(r.clipped_fraction, 2.0 / 12.0);
  const double s = choose_qparams(-1.0f, 2.0f, ob.spec()).scale[0];
  EXPECT_NEAR(r.estimated_mse, 7.0 / 12.0 * s * s / 12.0 + (1.0 + 4.0) / 12.0, 1e-12);
  EXPECT_THAT(r.why, HasSubstr("3 batches"));
}

TEST(MovingAverageMinMaxObserver, DefaultConstantAsPyTorch) {
  // PyTorch's default averaging_constant 0.01, by hand:
  // (−1, 2) → (−1 + 0.01·(−3 + 1), 2 + 0.01·(4 − 2)) = (−1.02, 2.02)
  //         → (−1.02 + 0.01·(0 + 1.02), 2.02 + 0.01·(0.5 − 2.02)) = (−1.0098, 2.0048).
  MovingAverageMinMaxObserver ob;
  EXPECT_FLOAT_EQ(ob.averaging_constant(), 0.01f);
  ob.observe(Tensor({-1.0f, 2.0f}));
  ob.observe(Tensor({-3.0f, 4.0f}));
  EXPECT_NEAR(ob.range().lo, -1.02, 1e-6);
  EXPECT_NEAR(ob.range().hi, 2.02, 1e-6);
  ob.observe(Tensor({0.0f, 0.5f}));
  // float arithmetic on values of magnitude ~2: a few ulp (2.4e-7 each) at most.
  EXPECT_NEAR(ob.range().lo, -1.0098, 1e-6);
  EXPECT_NEAR(ob.range().hi, 2.0048, 1e-6);
  EXPECT_EQ(ob.qparams().scale[0], choose_qparams(ob.range().lo, ob.range().hi, ob.spec()).scale[0]);
}

TEST(MovingAverageMinMaxObserver, RejectsBadConstant) {
  EXPECT_THROW(MovingAverageMinMaxObserver(0.0f), Error);
  EXPECT_THROW(MovingAverageMinMaxObserver(1.5f), Error);
  EXPECT_THROW(MovingAverageMinMaxObserver(std::nanf("")), Error);
}

TEST(PerChannelMinMaxObserver, PerRowRanges) {
  PerChannelMinMaxObserver ob(0);  // int8 symmetric per-channel along axis 0
  ob.observe(Tensor({{1.0f, -2.0f, 3.0f}, {0.5f, 0.25f, -0.125f}, {-4.0f, 4.0f, 2.0f}}));
  EXPECT_EQ(ob.channel_min(), (std::vector<float>{-2.0f, -0.125f, -4.0f}));
  EXPECT_EQ(ob.channel_max(), (std::vector<float>{3.0f, 0.5f, 4.0f}));
  ob.observe(Tensor({{5.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, -8.0f}}));
  EXPECT_EQ(ob.channel_min(), (std::vector<float>{-2.0f, -0.125f, -8.0f}));
  EXPECT_EQ(ob.channel_max(), (std::vector<float>{5.0f, 0.5f, 4.0f}));
  // Symmetric: s_c = max|x_c| / 127, z = 0.
  const QParams qp = ob.qparams();
  ASSERT_EQ(qp.scale.size(), 3u);
  EXPECT_FLOAT_EQ(qp.scale[0], 5.0f / 127.0f);
  EXPECT_FLOAT_EQ(qp.scale[1], 0.5f / 127.0f);
  EXPECT_FLOAT_EQ(qp.scale[2], 8.0f / 127.0f);
  EXPECT_EQ(qp.zero_point, (std::vector<int32_t>{0, 0, 0}));
  const ObservedRange r = ob.range();
  EXPECT_EQ(r.min, -8.0f);
  EXPECT_EQ(r.max, 5.0f);
  EXPECT_THAT(r.why, HasSubstr("axis 0 (3 channels)"));
}

TEST(PerChannelMinMaxObserver, OtherAxisAndAffine) {
  QuantSpec spec;
  spec.granularity = Granularity::PerChannel;
  spec.axis = 1;
  PerChannelMinMaxObserver ob(spec);
  const Tensor x({{1.0f, -2.0f, 3.0f}, {0.5f, 0.25f, -0.125f}, {-4.0f, 4.0f, 2.0f}});
  ob.observe(x);
  EXPECT_EQ(ob.channel_min(), (std::vector<float>{-4.0f, -2.0f, -0.125f}));
  EXPECT_EQ(ob.channel_max(), (std::vector<float>{1.0f, 4.0f, 3.0f}));
  const std::vector<float> mins{-4.0f, -2.0f, -0.125f};
  const std::vector<float> maxs{1.0f, 4.0f, 3.0f};
  const QParams expected = choose_qparams(std::span<const float>(mins), std::span<const float>(maxs), spec);
  EXPECT_EQ(ob.qparams().scale, expected.scale);
  EXPECT_EQ(ob.qparams().zero_point, expected.zero_point);
}

TEST(PerChannelMinMaxObserver, ChannelCountMismatchThrowsAndKeepsState) {
  PerChannelMinMaxObserver ob(0);
  ob.observe(Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}));
  const std::string msg = error_of([&] { ob.observe(Tensor::ones({3, 2})); });
  EXPECT_THAT(msg, HasSubstr("2 channels"));
  EXPECT_THAT(msg, HasSubstr("[3, 2]"));
  EXPECT_EQ(ob.channel_max(), (std::vector<float>{2.0f, 4.0f}));
  EXPECT_EQ(ob.count(), 4);
}

TEST(PerChannelMinMaxObserver, SpecMustMatchGranularity) {
  EXPECT_THAT(error_of([] { PerChannelMinMaxObserver ob(QuantSpec{}); }), HasSubstr("per-channel spec"));
  EXPECT_THAT(error_of([] { MinMaxObserver ob(QuantSpec::int8_symmetric_per_channel(0)); }),
              HasSubstr("per-channel-minmax"));
}

// ---------------------------------------------------------------------------------------------
// Heavy tails: clipping pays

// The least-MSE search has the min/max range among its candidates, so its estimate can only be
// lower; the measured MSE follows because the estimate tracks it closely (checked below). The
// 5% margin is conservative: for Laplace data at int8 the best clip gives ~10% less error than
// min/max in theory (rounding t²/195075 + clipping 2e^−t, least at t ≈ 9.3 against a max of
// ~11.5), measured 18%; for Student-t(3) measured ~30%.
TEST(HistogramObserver, HeavyTailsGiveNarrowerRangeAndLowerMse) {
  for (const char* dist : {"student-t3", "laplace"}) {
    for (int bits : {8, 4}) {
      for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
        SCOPED_TRACE(
            fmt::format("{} int{} {}", dist, bits, scheme == Scheme::Affine ? "affine" : "symmetric"));
        const Tensor& x = heavy_tailed(dist);
        const QuantSpec spec = spec_of(bits, scheme);
        MinMaxObserver mm(spec);
        HistogramObserver hist(spec);
        observe_in_batches(mm, x);
        observe_in_batches(hist, x);
        const ObservedRange r = hist.range();
        EXPECT_LT(covered_width(r, spec), covered_width(mm.range(), spec));
        const double mse_mm = measured_mse(x, mm.qparams());
        const double mse_hist = measured_mse(x, hist.qparams());
        EXPECT_LT(mse_hist, 0.95 * mse_mm);
        // The uniform-inside-a-bin model of a 2048-bin histogram: measured agreement 0.3% at worst.
        EXPECT_NEAR(r.estimated_mse, mse_hist, 0.02 * mse_hist);
        EXPECT_GT(r.clipped_fraction, 0.0);
        EXPECT_THAT(r.why, HasSubstr("least estimated MSE"));
      }
    }
  }
}

// Percentile and entropy calibration are tested at 4 bits. At 8 bits on Student-t(3) both clip
// too hard for MSE (measured: 99.99th percentile 0.056 against min/max 0.024): the ν = 3 tail
// holds enough squared mass beyond the 99.99th percentile (~22) that clipping it costs more than
// the finer step saves; the MSE-best int8 clip is ~50. With 16× coarser steps, clipping pays.
TEST(PercentileAndEntropyObservers, HeavyTailsGiveNarrowerRangeAndLowerMseAt4Bits) {
  for (const char* dist : {"student-t3", "laplace"}) {
    for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
      const QuantSpec spec = spec_of(4, scheme);
      const Tensor& x = heavy_tailed(dist);
      MinMaxObserver mm(spec);
      observe_in_batches(mm, x);
      const double mse_mm = measured_mse(x, mm.qparams());
      for (const char* name : {"percentile", "entropy"}) {
        SCOPED_TRACE(
            fmt::format("{} {} int4 {}", name, dist, scheme == Scheme::Affine ? "affine" : "symmetric"));
        auto ob = make_observer(name, spec);
        observe_in_batches(*ob, x);
        EXPECT_LT(covered_width(ob->range(), spec), covered_width(mm.range(), spec));
        // Measured ratios are 0.13–0.6; 0.9 leaves room without making the check empty.
        EXPECT_LT(measured_mse(x, ob->qparams()), 0.9 * mse_mm);
      }
    }
  }
}

TEST(EntropyObserver, LaplaceAt8BitsBeatsMinMax) {
  // Laplace tails are light enough that the KL threshold (~9 against a max of ~11.5) also pays
  // at int8; measured 5.6e-4 against 6.2e-4.
  for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
    const QuantSpec spec = spec_of(8, scheme);
    const Tensor& x = heavy_tailed("laplace");
    MinMaxObserver mm(spec);
    EntropyObserver ent(spec);
    observe_in_batches(mm, x);
    observe_in_batches(ent, x);
    EXPECT_LT(covered_width(ent.range(), spec), covered_width(mm.range(), spec));
    EXPECT_LT(measured_mse(x, ent.qparams()), measured_mse(x, mm.qparams()));
    EXPECT_THAT(ent.range().why, HasSubstr("least KL divergence"));
  }
}

TEST(EntropyObserver, ExactZerosDoNotDriveTheThresholdDown) {
  // ReLU outputs: half exact zeros. Left in the histogram, their spike in one bin makes every
  // merge of bins look costly in KL and the search takes a far too narrow window (measured on
  // this data: 2.3% of the values clipped, threshold at 0.59 of max, MSE 190× min/max's).
  // Without them the choice is that of the half-normal alone.
  Generator gen(13);
  const Tensor x = Tensor::randn({kN}, gen).relu();
  EntropyObserver ent;
  observe_in_batches(ent, x);
  const ObservedRange r = ent.range();
  EXPECT_LT(r.clipped_fraction, 0.005);
  EXPECT_GT(r.hi, 0.6 * r.max);
  MinMaxObserver mm;
  observe_in_batches(mm, x);
  EXPECT_LT(measured_mse(x, ent.qparams()), 1.5 * measured_mse(x, mm.qparams()));
}

// ---------------------------------------------------------------------------------------------
// Uniform data: nothing to clip

// U(−1, 1) at int8, shrinking each end by δ trades rounding (1−δ)³·Δ²/12 (Δ = 2/255) for
// clipping δ³/3: the least MSE is at δ ≈ 0.004, and the search steps by 1/128, so the
// histogram observer keeps ≥ 0.99 of each end. The 99.99th percentile is 0.9998, read off
// within one bin (0.001). Entropy: clipping δ folds mass δ into one edge bin where Q expects
// ~1/2048, a KL cost of ~δ·ln(2048δ) that outweighs what a narrower window saves for δ ≳ 0.01,
// hence the looser 0.95.
TEST(Observers, UniformDataIsNotClippedAt8Bits) {
  const Tensor& x = uniform_pm1();
  const float mn = x.min().item();
  const float mx = x.max().item();
  for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
    const QuantSpec spec = spec_of(8, scheme);
    for (const auto& [name, keep] : {std::pair{"histogram", 0.99}, {"percentile", 0.99}, {"entropy", 0.95}}) {
      SCOPED_TRACE(fmt::format("{} {}", name, scheme == Scheme::Affine ? "affine" : "symmetric"));
      auto ob = make_observer(name, spec);
      observe_in_batches(*ob, x);
      const ObservedRange r = ob->range();
      EXPECT_LE(r.lo, keep * mn);
      EXPECT_GE(r.hi, keep * mx);
      EXPECT_LT(r.clipped_fraction, 0.01);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The histogram and the estimates read from it

TEST(Histogram, GrowingRangeMergesBinsExactly) {
  Generator gen(11);
  std::vector<float> all;
  Histogram h(64);
  for (auto [lo, hi] : {std::pair{-1.0f, 1.0f}, {-5.0f, 7.0f}, {-100.0f, 3.0f}, {0.0f, 0.5f}}) {
    std::vector<float> v(1000);
    for (auto& e : v) e = gen.uniform(lo, hi);
    v[0] = 0.0f;
    h.add(Tensor::from_vector(v, {1000}));
    all.insert(all.end(), v.begin(), v.end());
  }
  EXPECT_EQ(h.total(), 4000);
  EXPECT_EQ(h.zeros(), 4);
  EXPECT_EQ(h.edge(h.zero_bin()), 0.0);
  EXPECT_LE(h.lo(), -100.0);
  EXPECT_GE(h.hi(), 7.0);
  // Merging r old bins into one loses nothing: the counts equal binning every value directly
  // into the final grid (the grid's edges are multiples of the width, so floor(x / w) finds it).
  std::vector<int64_t> direct(64, 0);
  const double inv = 1.0 / h.bin_width();
  const auto origin = static_cast<int64_t>(std::llround(h.lo() / h.bin_width()));
  for (float v : all) ++direct[static_cast<size_t>(static_cast<int64_t>(std::floor(v * inv)) - origin)];
  EXPECT_EQ(h.counts(), direct);
  EXPECT_EQ(h.min(), *std::min_element(all.begin(), all.end()));
  EXPECT_EQ(h.max(), *std::max_element(all.begin(), all.end()));
}

TEST(Histogram, JumpOfManyOrdersOfMagnitudeKeepsEveryCount) {
  Histogram h(128);
  h.add(Tensor({-1e-30f, 1e-30f, 5e-31f, 0.0f}));
  h.add(Tensor({-1e30f, 1e30f}));
  EXPECT_EQ(h.total(), 6);
  EXPECT_EQ(h.zeros(), 1);
  int64_t sum = 0;
  for (int64_t c : h.counts()) sum += c;
  EXPECT_EQ(sum, 6);
  // The four tiny values now sit in the two bins beside 0.
  EXPECT_EQ(h.counts()[h.zero_bin()] + h.counts()[h.zero_bin() - 1], 4);
}

TEST(Histogram, ZerosBeforeAnyOtherValueLandInTheZeroBin) {
  Histogram h(32);
  h.add(Tensor::zeros({10}));
  EXPECT_EQ(h.bin_width(), 0.0);
  EXPECT_EQ(h.total(), 10);
  h.add(Tensor({-1.0f, 3.0f}));
  EXPECT_EQ(h.counts()[h.zero_bin()], 10);
  EXPECT_EQ(h.zeros(), 10);
}

TEST(Histogram, QuantilesOfUniformData) {
  Generator gen(5);
  Histogram h;
  h.add(Tensor::rand({100000}, gen));
  // Sample median of U(0,1): sd 0.5/sqrt(n) = 0.0016; plus one bin (1/2046). 0.01 ≈ 5 sd.
  EXPECT_NEAR(h.quantile(0.5), 0.5, 0.01);
  EXPECT_NEAR(h.quantile(0.9), 0.9, 0.01);
  EXPECT_EQ(h.quantile(0.0), h.min());
  EXPECT_EQ(h.quantile(1.0), h.max());
  EXPECT_THROW(h.quantile(1.5), Error);
}

TEST(EstimateQuantizationMse, MatchesMeasuredOnGaussianData) {
  Generator gen(9);
  const Tensor x = Tensor::randn({100000}, gen);
  Histogram h;
  h.add(x);
  // Ranges that clip hard, a little and not at all, from 8 bits down to 2, where a step (8/3 for
  // [−4, 4]) is far wider than a bin. Only the uniform-inside-a-bin assumption is approximate:
  // bins are 0.005 wide and the density varies little across one, so 2% is generous.
  for (int bits : {8, 4, 2}) {
    for (auto [lo, hi] :
         {std::pair{-0.5f, 0.5f}, {-1.0f, 2.0f}, {-4.0f, 4.0f}, {x.min().item(), x.max().item()}}) {
      for (Scheme scheme : {Scheme::Affine, Scheme::Symmetric}) {
        SCOPED_TRACE(fmt::format("int{} [{}, {}] {}", bits, lo, hi,
                                 scheme == Scheme::Affine ? "affine" : "symmetric"));
        const QParams qp = choose_qparams(lo, hi, spec_of(bits, scheme));
        const double measured = measured_mse(x, qp);
        EXPECT_NEAR(estimate_quantization_mse(h, qp), measured, 0.02 * measured);
      }
    }
  }
}

TEST(EstimateQuantizationMse, ExactZerosCostNothing) {
  // Half the values are exact zeros (as after a ReLU); they are exactly representable.
  Generator gen(4);
  std::vector<float> v(20000, 0.0f);
  for (size_t i = 0; i < v.size(); i += 2) v[i] = gen.uniform(0.0f, 1.0f);
  const Tensor x = Tensor::from_vector(v, {20000});
  Histogram h;
  h.add(x);
  EXPECT_EQ(h.zeros(), 10000);
  const QParams qp = choose_qparams(0.0f, 1.0f, QuantSpec{});
  const double measured = measured_mse(x, qp);
  // Without the zero rule the estimate would be twice the measured value.
  EXPECT_NEAR(estimate_quantization_mse(h, qp), measured, 0.02 * measured);
}

TEST(FractionOutside, CountsTheTails) {
  Histogram h(128);
  h.add(Tensor::arange(-50.0f, 50.0f));  // −50 … 49, one value each
  EXPECT_EQ(fraction_outside(h, -50.0, 49.0), 0.0);
  // 10 values below −40.5 and 9 above 40.5; values spread uniformly within a bin, so allow one
  // bin's worth (100/126 ≈ 0.8 values) at each end.
  EXPECT_NEAR(fraction_outside(h, -40.5, 40.5), 19.0 / 100.0, 1.6 / 100.0);
}

// ---------------------------------------------------------------------------------------------
// Errors and bookkeeping, for every observer

QuantSpec spec_for(const std::string& name) {
  return name == "per-channel-minmax" ? QuantSpec::int8_symmetric_per_channel(0) : QuantSpec{};
}

TEST(Observers, NonFiniteInputThrowsAndLeavesStateUnchanged) {
  for (const auto& name : observer_names()) {
    SCOPED_TRACE(name);
    auto ob = make_observer(name, spec_for(name));
    const float nan = std::nanf("");
    const float inf = std::numeric_limits<float>::infinity();
    std::string msg = error_of([&] { ob->observe(Tensor({{1.0f, nan}, {3.0f, inf}})); });
    EXPECT_THAT(msg, HasSubstr("Observer::observe"));
    EXPECT_THAT(msg, HasSubstr("2 of the 4 values"));
    EXPECT_THAT(msg, HasSubstr("NaN or infinite"));
    EXPECT_EQ(ob->count(), 0);
    EXPECT_THROW(ob->qparams(), Error);

    ob->observe(Tensor({{1.0f, -1.0f}, {2.0f, 0.5f}}));
    const ObservedRange before = ob->range();
    EXPECT_THROW(ob->observe(Tensor({{-inf, 0.0f}, {0.0f, 0.0f}})), Error);
    EXPECT_EQ(ob->count(), 4);
    EXPECT_EQ(ob->range().lo, before.lo);
    EXPECT_EQ(ob->range().hi, before.hi);
  }
}

TEST(Observers, EmptyOrUndefinedTensorThrows) {
  for (const auto& name : observer_names()) {
    auto ob = make_observer(name, spec_for(name));
    EXPECT_THAT(error_of([&] {
                  ob->observe(Tensor::empty({0, 3}));
                }),
                HasSubstr("empty tensor of shape [0, 3]"));
    EXPECT_THAT(error_of([&] { ob->observe(Tensor()); }), HasSubstr("undefined"));
  }
}

TEST(Observers, NothingObservedThrows) {
  for (const auto& name : observer_names()) {
    SCOPED_TRACE(name);
    auto ob = make_observer(name, spec_for(name));
    EXPECT_THAT(error_of([&] { ob->qparams(); }), HasSubstr("calibration saw no data"));
    EXPECT_THAT(error_of([&] { ob->range(); }), HasSubstr("calibration saw no data"));
  }
}

TEST(Observers, ResetForgetsEverything) {
  for (const auto& name : observer_names()) {
    SCOPED_TRACE(name);
    auto ob = make_observer(name, spec_for(name));
    ob->observe(Tensor({{5.0f, -5.0f}, {1.0f, 2.0f}}));
    ob->reset();
    EXPECT_EQ(ob->count(), 0);
    EXPECT_THROW(ob->range(), Error);
    ob->observe(Tensor({{1.0f, -1.0f}, {0.5f, 0.25f}}));
    EXPECT_EQ(ob->range().min, -1.0f);
    EXPECT_EQ(ob->range().max, 1.0f);
  }
}

TEST(Observers, QParamsComeFromTheChosenRange) {
  Generator gen(8);
  const Tensor x = Tensor::randn({4096}, gen);
  for (const char* name : {"minmax", "moving-average", "percentile", "histogram", "entropy"}) {
    SCOPED_TRACE(name);
    auto ob = make_observer(name);
    ob->observe(x);
    const ObservedRange r = ob->range();
    const QParams qp = ob->qparams();
    const QParams expected = choose_qparams(r.lo, r.hi, ob->spec());
    EXPECT_EQ(qp.scale, expected.scale);
    EXPECT_EQ(qp.zero_point, expected.zero_point);
    EXPECT_LE(r.lo, r.hi);
    EXPECT_GE(r.lo, r.min);
    EXPECT_LE(r.hi, r.max);
  }
}

TEST(Observers, AllZeroDataGivesAUsableRange) {
  for (const auto& name : observer_names()) {
    SCOPED_TRACE(name);
    auto ob = make_observer(name, spec_for(name));
    ob->observe(Tensor::zeros({4, 3}));
    const ObservedRange r = ob->range();
    EXPECT_EQ(r.lo, 0.0f);
    EXPECT_EQ(r.hi, 0.0f);
    EXPECT_EQ(r.clipped_fraction, 0.0);
    const QParams qp = ob->qparams();
    EXPECT_TRUE(equal(fake_quantize(Tensor::zeros({4, 3}), qp), Tensor::zeros({4, 3})));
  }
}

TEST(Observers, ReluLikeDataKeepsZeroPointAtZero) {
  // All values ≥ 0 with many exact zeros: every observer's uint8 range starts at 0, so z = 0.
  Generator gen(12);
  const Tensor x = Tensor::randn({8192}, gen).relu();
  for (const char* name : {"minmax", "percentile", "histogram", "entropy"}) {
    SCOPED_TRACE(name);
    auto ob = make_observer(name);
    ob->observe(x);
    EXPECT_EQ(ob->qparams().zero_point[0], 0);
    EXPECT_EQ(ob->range().lo, 0.0f);
  }
}

TEST(MakeObserver, KnownNamesAndUnknownName) {
  EXPECT_EQ(observer_names(), (std::vector<std::string>{"minmax", "moving-average", "per-channel-minmax",
                                                        "percentile", "histogram", "entropy"}));
  EXPECT_EQ(per_tensor_observer_names(),
            (std::vector<std::string>{"minmax", "moving-average", "percentile", "histogram", "entropy"}));
  for (const auto& name : observer_names()) EXPECT_EQ(make_observer(name, spec_for(name))->name(), name);
  const std::string msg = error_of([] { make_observer("kl"); });
  EXPECT_THAT(msg, HasSubstr("unknown observer 'kl'"));
  for (const auto& name : observer_names()) EXPECT_THAT(msg, HasSubstr(name));
  EXPECT_THROW(make_observer("histogram", QuantSpec::int8_symmetric_per_channel(0)), Error);
  QuantSpec bad;
  bad.bits = 9;
  EXPECT_THROW(make_observer("minmax", bad), Error);
}

TEST(Observers, ParameterChecks) {
  EXPECT_THROW(PercentileObserver(50.0), Error);
  EXPECT_THROW(PercentileObserver(100.5), Error);
  EXPECT_THROW(HistogramObserver(QuantSpec{}, 2048, 0), Error);
  EXPECT_THROW(EntropyObserver(QuantSpec{}, 8), Error);
  EXPECT_THROW(Histogram(4), Error);
}

}  // namespace
