#include "tinyml/quant/histogram_observer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml::quant {

namespace {

// floor(a / b) for b > 0, also for negative a.
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Beyond this merge factor the old histogram fits in one or two new bins anyway, and the
// global bin indices would no longer fit comfortably in an int64.
constexpr double kMaxMergeFactor = 1099511627776.0;  // 2^40

}  // namespace

// ---------------------------------------------------------------------------------------------
// Histogram

Histogram::Histogram(int64_t bins) {
  TINYML_CHECK(bins >= 16 && bins <= (int64_t{1} << 24), "Histogram: bins must be in [16, 2^24], got {}",
               bins);
  counts_.assign(static_cast<size_t>(bins), 0);
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  width_ = inv_width_ = 0.0;
  origin_ = 0;
  total_ = zeros_ = 0;
  min_ = max_ = 0.0;
}

// Global bin of x (in units of the width); only called for x inside or next to the grid.
int64_t Histogram::global_bin(double x) const { return static_cast<int64_t>(std::floor(x * inv_width_)); }

// A fresh grid over [lo, hi] (lo <= 0 <= hi, hi > lo) with one bin to spare, so rounding in
// x·(1/w) can never push hi past the last bin.
void Histogram::start(double lo, double hi) {
  width_ = (hi - lo) / static_cast<double>(bins() - 2);
  inv_width_ = 1.0 / width_;
  origin_ = static_cast<int64_t>(std::floor(lo * inv_width_));
}

void Histogram::widen(double lo, double hi) {
  const int64_t B = bins();
  const double gmin = std::min(std::floor(lo * inv_width_), static_cast<double>(origin_));
  const double gmax = std::max(std::floor(hi * inv_width_), static_cast<double>(origin_ + B - 1));
  const double r0 = std::ceil((gmax - gmin + 1.0) / static_cast<double>(B));
  std::vector<int64_t> merged(counts_.size(), 0);

  if (r0 <= kMaxMergeFactor) {
    // Exact merge: old global bin g lies inside new global bin floor(g / r).
    const auto g_lo = static_cast<int64_t>(gmin);
    const auto g_hi = static_cast<int64_t>(gmax);
    int64_t r = std::max<int64_t>(1, static_cast<int64_t>(r0));
    while (floor_div(g_hi, r) - floor_div(g_lo, r) > B - 1) ++r;
    const int64_t new_origin = floor_div(g_lo, r);
    for (int64_t k = 0; k < B; ++k) {
      if (counts_[k] != 0) merged[floor_div(origin_ + k, r) - new_origin] += counts_[k];
    }
    width_ *= static_cast<double>(r);
    inv_width_ = 1.0 / width_;
    origin_ = new_origin;
  } else {
    // A jump of many orders of magnitude: start a grid over the union and move each old bin's
    // count to the new bin holding its centre.
    const double old_width = width_;
    const int64_t old_origin = origin_;
    start(std::min(lo, this->lo()), std::max(hi, this->hi()));
    for (int64_t k = 0; k < B; ++k) {
      if (counts_[k] == 0) continue;
      const double centre = (static_cast<double>(old_origin + k) + 0.5) * old_width;
      const int64_t j = std::clamp<int64_t>(global_bin(centre) - origin_, 0, B - 1);
      merged[j] += counts_[k];
    }
  }
  counts_ = std::move(merged);
}

void Histogram::add(const float* data, int64_t n, float min, float max) {
  if (n <= 0) return;
  TINYML_CHECK(std::isfinite(min) && std::isfinite(max) && min <= max,
               "Histogram::add: needs finite extremes min <= max, got min={} max={}", min, max);
  min_ = total_ == 0 ? min : std::min(min_, static_cast<double>(min));
  max_ = total_ == 0 ? max : std::max(max_, static_cast<double>(max));
  const double lo = std::min(static_cast<double>(min), 0.0);
  const double hi = std::max(static_cast<double>(max), 0.0);
  const int64_t B = bins();
  if (lo == 0.0 && hi == 0.0) {  // every value is 0: no width needed
    if (width_ > 0.0) counts_[zero_bin()] += n;
    zeros_ += n;
    total_ += n;
    return;
  }
  if (width_ == 0.0) {
    start(lo, hi);
    counts_[zero_bin()] += zeros_;  // the zeros seen while there was no grid
  } else if (std::floor(lo * inv_width_) < static_cast<double>(origin_) ||
             std::floor(hi * inv_width_) > static_cast<double>(origin_ + B - 1)) {
    widen(lo, hi);
  }
  int64_t zeros = 0;
  int64_t* counts = counts_.data();
  const double inv = inv_width_;
  const auto origin = static_cast<double>(origin_);
  const auto last = static_cast<double>(B - 1);
  for (int64_t i = 0; i < n; ++i) {
    const double v = data[i];
    // floor(v/w) − origin: the difference is >= 0 for every covered value, so truncation is the
    // floor. The clamp guards against rounding at the two outer edges and against a caller
    // whose values break the promise (a NaN fails `t > 0` and lands in bin 0).
    double t = v * inv - origin;
    t = t > 0.0 ? t : 0.0;
    t = t < last ? t : last;
    const auto k = static_cast<int64_t>(t);
    ++counts[k];
    zeros += (v == 0.0);
  }
  zeros_ += zeros;
  total_ += n;
}

void Histogram::add(const Tensor& x) {
  TINYML_CHECK(x.defined(), "Histogram::add: got an undefined tensor");
  if (x.numel() == 0) return;
  NoGradGuard no_grad;
  const Tensor c = x.contiguous();
  const float* p = c.data();
  const int64_t n = c.numel();
  const ValueScan scan = scan_values(p, n);
  TINYML_CHECK(scan.non_finite == 0,
               "Histogram::add: {} of the {} values of the tensor of shape {} are NaN or infinite",
               scan.non_finite, n, shape_str(x.shape()));
  add(p, n, scan.min, scan.max);
}

std::pair<double, double> Histogram::extent(int64_t k) const {
  TINYML_CHECK(k >= 0 && k < bins(), "Histogram::extent: bin {} out of range [0, {})", k, bins());
  const double a = std::clamp(edge(k), min_, max_);
  const double b = std::clamp(edge(k + 1), min_, max_);
  return {a, b};
}

double Histogram::quantile(double q) const {
  TINYML_CHECK(q >= 0.0 && q <= 1.0, "Histogram::quantile: q must be in [0, 1], got {}", q);
  if (total_ == 0 || width_ == 0.0) return 0.0;
  const double target = q * static_cast<double>(total_);
  double below = 0.0;
  for (int64_t k = 0; k < bins(); ++k) {
    const auto c = static_cast<double>(counts_[k]);
    if (c == 0.0) continue;
    if (below + c >= target) {
      // The exact zeros sit at the zero bin's left edge, ahead of its other values.
      double rest = target - below;
      double spread = c;
      if (k == zero_bin() && zeros_ > 0) {
        const auto z = static_cast<double>(zeros_);
        if (rest <= z) return 0.0;
        rest -= z;
        spread -= z;
      }
      const auto [a, b] = extent(k);
      return a + (b - a) * std::clamp(rest / spread, 0.0, 1.0);
    }
    below += c;
  }
  return max_;
}

// ---------------------------------------------------------------------------------------------
// Estimates from a histogram

namespace {

// c non-zero values spread uniformly over [a, b] (a == b: all of them at one point).
struct Spread {
  double a;
  double b;
  double c;
};

// Every bin's non-zero values; the exact zeros are left out. Built once per search.
std::vector<Spread> spreads_of(const Histogram& h) {
  std::vector<Spread> out;
  if (h.bin_width() == 0.0) return out;
  const auto& counts = h.counts();
  for (int64_t k = 0; k < h.bins(); ++k) {
    double c = static_cast<double>(counts[k]);
    if (k == h.zero_bin()) c -= static_cast<double>(h.zeros());
    if (c <= 0.0) continue;
    const auto [a, b] = h.extent(k);
    out.push_back({a, b, c});
  }
  return out;
}

double cube(double x) { return x * x * x; }

// Σ squared errors of quantizing the spreads with per-tensor qp (see estimate_quantization_mse).
double squared_error(const std::vector<Spread>& spreads, const QParams& qp) {
  const double s = qp.scale[0];
  const double z = qp.zero_point[0];
  const double glo = s * (qp.spec.qmin() - z);
  const double ghi = s * (qp.spec.qmax() - z);
  const double inv_s = 1.0 / s;
  // ∫ (t − nearest grid point)² dt from a fixed origin to x, for x inside the grid: the rounding
  // cells [c − s/2, c + s/2) each cost s³/12 whole, plus the part of x's own cell. Exact for a
  // uniform density, so a bin narrower than a step is not charged the average s²/12.
  const double s3 = cube(s);
  auto rounding_integral = [&](double x) {
    const double u = x - glo + 0.5 * s;
    const double cells = std::floor(u * inv_s);
    const double r = u - cells * s - 0.5 * s;  // offset from the cell's grid point, in [−s/2, s/2)
    return cells * s3 / 12.0 + (cube(r) + s3 / 8.0) / 3.0;
  };
  // Squared error of one value: to the nearest grid point inside, to the grid's end outside.
  auto point_error = [&](double x) {
    const double e = x < glo   ? glo - x
                     : x > ghi ? x - ghi
                               : x - (glo + std::nearbyint((x - glo) * inv_s) * s);
    return e * e;
  };
  double sum = 0.0;
  for (const Spread& sp : spreads) {
    const double a = sp.a;
    const double b = sp.b;
    if (b <= a) {
      sum += sp.c * point_error(a);
      continue;
    }
    const double density = sp.c / (b - a);
    const double ia = std::max(a, glo);
    const double ib = std::min(b, ghi);
    double e = 0.0;
    if (ib > ia) e += rounding_integral(ib) - rounding_integral(ia);
    if (a < glo) e += (cube(glo - a) - cube(glo - std::min(b, glo))) / 3.0;  // ∫ (glo − x)² below the grid
    if (b > ghi) e += (cube(b - ghi) - cube(std::max(a, ghi) - ghi)) / 3.0;  // ∫ (x − ghi)² above it
    sum += density * e;
  }
  return sum;
}

void check_per_tensor(const QParams& qp, const char* fn) {
  TINYML_CHECK(qp.scale.size() == 1 && qp.zero_point.size() == 1,
               "{}: needs per-tensor qparams, got {} scales", fn, qp.scale.size());
}

}  // namespace

double estimate_quantization_mse(const Histogram& h, const QParams& qp) {
  check_per_tensor(qp, "estimate_quantization_mse");
  if (h.total() == 0) return 0.0;
  return squared_error(spreads_of(h), qp) / static_cast<double>(h.total());
}

double fraction_outside(const Histogram& h, double lo, double hi) {
  TINYML_CHECK(lo <= hi, "fraction_outside: needs lo <= hi, got [{}, {}]", lo, hi);
  if (h.total() == 0) return 0.0;
  double out = (lo > 0.0 || hi < 0.0) ? static_cast<double>(h.zeros()) : 0.0;
  for (const Spread& sp : spreads_of(h)) {
    if (sp.b <= sp.a) {
      out += (sp.a < lo || sp.a > hi) ? sp.c : 0.0;
      continue;
    }
    const double below = std::clamp(lo, sp.a, sp.b) - sp.a;
    const double above = sp.b - std::clamp(hi, sp.a, sp.b);
    out += sp.c * std::min(1.0, (below + above) / (sp.b - sp.a));
  }
  return out / static_cast<double>(h.total());
}

namespace {

// Fills the estimates of a chosen [lo, hi] from the histogram.
ObservedRange summarize(const Histogram& h, float mn, float mx, double lo, double hi, const QuantSpec& spec,
                        std::string why) {
  ObservedRange r;
  r.min = mn;
  r.max = mx;
  r.lo = static_cast<float>(lo);
  r.hi = static_cast<float>(hi);
  const Coverage cov = covered_range(r.lo, r.hi, spec);
  r.clipped_fraction = fraction_outside(h, cov.lo, cov.hi);
  r.estimated_mse = estimate_quantization_mse(h, choose_qparams(r.lo, r.hi, spec));
  r.why = std::move(why);
  return r;
}

ObservedRange all_zero_range(std::string why) {
  ObservedRange r;
  r.why = std::move(why);
  return r;
}

void check_candidates(const char* fn, int64_t candidates) {
  TINYML_CHECK(candidates >= 1 && candidates <= 65536, "{}: candidates must be in [1, 65536], got {}", fn,
               candidates);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PercentileObserver

HistogramBackedObserver::HistogramBackedObserver(std::string kind, const QuantSpec& spec, int64_t bins)
    : Observer(std::move(kind), spec, false), hist_(bins) {}

void HistogramBackedObserver::observe_batch(const Batch& b) { hist_.add(b.data, b.n, b.min, b.max); }

PercentileObserver::PercentileObserver(double percentile, const QuantSpec& spec, int64_t bins)
    : HistogramBackedObserver("PercentileObserver", spec, bins), percentile_(percentile) {
  TINYML_CHECK(std::isfinite(percentile) && percentile > 50.0 && percentile <= 100.0,
               "PercentileObserver: percentile must be in (50, 100], got {}", percentile);
}

ObservedRange PercentileObserver::compute_range() const {
  if (hist_.bin_width() == 0.0) return all_zero_range("every observed value is 0");
  const double p = percentile_ / 100.0;
  const double lo =
      std::clamp(hist_.quantile(1.0 - p), static_cast<double>(seen_min()), static_cast<double>(seen_max()));
  const double hi =
      std::clamp(hist_.quantile(p), static_cast<double>(seen_min()), static_cast<double>(seen_max()));
  return summarize(hist_, seen_min(), seen_max(), lo, hi, spec(),
                   fmt::format("{:g}th percentile (low end: {:g}th) of a {}-bin histogram", percentile_,
                               100.0 - percentile_, hist_.bins()));
}

// ---------------------------------------------------------------------------------------------
// HistogramObserver

HistogramObserver::HistogramObserver(const QuantSpec& spec, int64_t bins, int64_t candidates)
    : HistogramBackedObserver("HistogramObserver", spec, bins), candidates_(candidates) {
  check_candidates("HistogramObserver", candidates);
}

ObservedRange HistogramObserver::compute_range() const {
  if (hist_.bin_width() == 0.0) return all_zero_range("every observed value is 0");
  const double mn = seen_min();
  const double mx = seen_max();
  const double lo0 = std::min(mn, 0.0);
  const double hi0 = std::max(mx, 0.0);
  const auto C = static_cast<double>(candidates_);
  int64_t evaluated = 0;
  const std::vector<Spread> spreads = spreads_of(hist_);
  auto mse = [&](double lo, double hi) {  // the total is the same for all: compare sums
    ++evaluated;
    return squared_error(spreads, choose_qparams(static_cast<float>(lo), static_cast<float>(hi), spec()));
  };

  double best_lo = lo0;
  double best_hi = hi0;
  if (spec().scheme == Scheme::Symmetric) {
    const double amax = std::max(-lo0, hi0);
    double best_t = amax;
    double best = mse(-amax, amax);
    for (int64_t k = candidates_ - 1; k >= 1; --k) {
      const double t = amax * static_cast<double>(k) / C;
      const double e = mse(-t, t);
      if (e < best) best = e, best_t = t;
    }
    best_lo = -best_t;
    best_hi = best_t;
  } else {
    double best = mse(lo0, hi0);
    for (int64_t k = candidates_ - 1; k >= 1; --k) {  // both ends together
      const double f = static_cast<double>(k) / C;
      const double e = mse(f * lo0, f * hi0);
      if (e < best) best = e, best_lo = f * lo0, best_hi = f * hi0;
    }
    if (lo0 < 0.0) {  // the low end alone
      const double hi = best_hi;
      for (int64_t k = candidates_; k >= 0; --k) {
        const double lo = lo0 * static_cast<double>(k) / C;
        if (lo == hi) continue;
        const double e = mse(lo, hi);
        if (e < best) best = e, best_lo = lo;
      }
    }
    if (hi0 > 0.0) {  // the high end alone
      const double lo = best_lo;
      for (int64_t k = candidates_; k >= 1; --k) {
        const double hi = hi0 * static_cast<double>(k) / C;
        if (lo == hi) continue;
        const double e = mse(lo, hi);
        if (e < best) best = e, best_hi = hi;
      }
    }
  }
  // Cut to what was seen: the same qparams, a more telling report.
  best_lo = std::max(best_lo, mn);
  best_hi = std::min(best_hi, mx);
  return summarize(hist_, seen_min(), seen_max(), best_lo, best_hi, spec(),
                   fmt::format("least estimated MSE over {} candidate ranges of a {}-bin histogram",
                               evaluated, hist_.bins()));
}

// ---------------------------------------------------------------------------------------------
// EntropyObserver

EntropyObserver::EntropyObserver(const QuantSpec& spec, int64_t bins, int64_t candidates)
    : HistogramBackedObserver("EntropyObserver", spec, bins), candidates_(candidates) {
  check_candidates("EntropyObserver", candidates);
}

namespace {

// KL(P‖Q) of the window [a, b) of `counts` quantized to `levels` groups; steps 3–5 of the
// procedure in the header. prefix[k] = Σ counts[0, k). Returns +inf for a window without data.
double window_kl(const std::vector<double>& counts, const std::vector<double>& prefix, int64_t a, int64_t b,
                 int64_t levels, std::vector<double>& p, std::vector<double>& q) {
  const int64_t n = b - a;
  const double inside = prefix[b] - prefix[a];
  if (inside <= 0.0) return std::numeric_limits<double>::infinity();
  const double total = prefix.back();
  p.assign(counts.begin() + a, counts.begin() + b);
  p.front() += prefix[a];         // outliers left of the window
  p.back() += total - prefix[b];  // outliers right of it
  q.assign(static_cast<size_t>(n), 0.0);
  for (int64_t g = 0; g < levels; ++g) {
    const int64_t s = g * n / levels;
    const int64_t e = (g + 1) * n / levels;
    int64_t nonzero = 0;
    for (int64_t j = s; j < e; ++j) nonzero += p[j] > 0.0;
    if (nonzero == 0) continue;
    const double share = (prefix[a + e] - prefix[a + s]) / static_cast<double>(nonzero);
    for (int64_t j = s; j < e; ++j) q[j] = p[j] > 0.0 ? share : 0.0;
  }
  double kl = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    if (p[j] <= 0.0) continue;
    const double pj = p[j] / total;
    const double qj = std::max(q[j] / inside, 1e-10);
    kl += pj * std::log(pj / qj);
  }
  return kl;
}

// Step 1 of the procedure: the histogram the windows are cut from (folded at 0 into |x| bins for
// a symmetric spec), without the exact zeros (they sit at the zero bin's left edge), and what the
// window search needs to know about it.
struct KlSearch {
  std::vector<double> counts;
  std::vector<double> prefix;  // prefix[k] = Σ counts[0, k)
  int64_t levels = 0;          // quantization levels a window stands for
  int64_t centre = 0;          // the bin of 0.0, around which the windows grow
  int64_t first = -1;          // the first and last non-empty bins
  int64_t last = -1;

  // The bins [a, b) of the window of half-width i.
  std::pair<int64_t, int64_t> window(int64_t i) const {
    return {std::max<int64_t>(0, centre - i),
            std::min<int64_t>(static_cast<int64_t>(counts.size()), centre + i)};
  }
};

KlSearch kl_search(const Histogram& hist, const QuantSpec& spec) {
  const int64_t B = hist.bins();
  const int64_t z = hist.zero_bin();
  const auto& raw = hist.counts();
  KlSearch s;
  if (spec.scheme == Scheme::Symmetric) {
    const int64_t K = std::max(z, B - z);
    s.counts.assign(static_cast<size_t>(K), 0.0);
    for (int64_t k = 0; k < K; ++k) {
      if (z + k < B) s.counts[k] += static_cast<double>(raw[z + k]);
      if (z - 1 - k >= 0) s.counts[k] += static_cast<double>(raw[z - 1 - k]);
    }
    s.counts[0] -= static_cast<double>(hist.zeros());
    s.levels = spec.qmax() + 1;
    s.centre = 0;
  } else {
    s.counts.assign(raw.begin(), raw.end());
    s.counts[z] -= static_cast<double>(hist.zeros());
    s.levels = int64_t{1} << spec.bits;
    s.centre = z;
  }
  s.prefix.assign(s.counts.size() + 1, 0.0);
  for (size_t k = 0; k < s.counts.size(); ++k) {
    s.prefix[k + 1] = s.prefix[k] + s.counts[k];
    if (s.counts[k] > 0.0) {
      if (s.first < 0) s.first = static_cast<int64_t>(k);
      s.last = static_cast<int64_t>(k);
    }
  }
  return s;
}

// Step 2: at most `candidates` half-widths, evenly spaced from the one covering every non-empty
// bin (first) down to the smallest window that still holds `levels` bins.
std::vector<int64_t> candidate_half_widths(const KlSearch& s, int64_t candidates) {
  const int64_t i_hi = std::max<int64_t>(s.centre - s.first, s.last + 1 - s.centre);
  int64_t i_lo = 1;
  while (i_lo < i_hi && s.window(i_lo).second - s.window(i_lo).first < s.levels) ++i_lo;
  std::vector<int64_t> cand;
  if (i_hi - i_lo + 1 <= candidates) {
    for (int64_t i = i_hi; i >= i_lo; --i) cand.push_back(i);
  } else {
    for (int64_t k = 0; k < candidates; ++k) {
      const int64_t i = i_hi - (candidates > 1 ? k * (i_hi - i_lo) / (candidates - 1) : 0);
      if (cand.empty() || cand.back() != i) cand.push_back(i);
    }
  }
  return cand;
}

}  // namespace

ObservedRange EntropyObserver::compute_range() const {
  if (hist_.bin_width() == 0.0) return all_zero_range("every observed value is 0");
  const double mn = seen_min();
  const double mx = seen_max();
  const bool symmetric = spec().scheme == Scheme::Symmetric;
  const KlSearch s = kl_search(hist_, spec());
  const std::vector<int64_t> cand = candidate_half_widths(s, candidates_);

  // Steps 3–6: the window of least KL divergence (ties keep the wider, which comes first).
  std::vector<double> p;
  std::vector<double> q;
  double best = std::numeric_limits<double>::infinity();
  int64_t best_i = 0;  // set with best
  int64_t evaluated = 0;
  for (int64_t i : cand) {
    const auto [a, b] = s.window(i);
    if (b - a < s.levels) continue;  // too few bins to stand for the quantized grid
    ++evaluated;
    const double kl = window_kl(s.counts, s.prefix, a, b, s.levels, p, q);
    if (kl < best) best = kl, best_i = i;
  }
  if (evaluated == 0) {
    return summarize(
        hist_, seen_min(), seen_max(), mn, mx, spec(),
        fmt::format("min/max: the data fills fewer than {} bins, too few for the KL search", s.levels));
  }

  // The widest window holds every value, so best is finite once a window was evaluated.
  double lo = mn;
  double hi = mx;
  if (std::isfinite(best)) {
    const auto [a, b] = s.window(best_i);
    if (symmetric) {
      const double t = std::min(static_cast<double>(b) * hist_.bin_width(), std::max(-mn, mx));
      lo = std::max(-t, mn);
      hi = std::min(t, mx);
    } else {
      lo = std::max(hist_.edge(a), mn);
      hi = std::min(hist_.edge(b), mx);
    }
  }
  return summarize(
      hist_, seen_min(), seen_max(), lo, hi, spec(),
      fmt::format("least KL divergence over {} candidate thresholds ({}-bin histogram of {}, {} levels)",
                  evaluated, hist_.bins(), symmetric ? "|x|" : "x", s.levels));
}

}  // namespace tinyml::quant
