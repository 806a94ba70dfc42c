// Histogram-based observers (percentile, least-MSE search, KL/entropy) and the growing histogram they share.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinyml/quant/observer.hpp"

namespace tinyml::quant {

// A fixed number of equal bins whose edges are integer multiples of the bin width w, so 0.0 is
// always an edge (every quantization grid contains 0, and the entropy search folds at 0).
// The range always includes 0 and only grows: when data falls outside, the width becomes an
// integer multiple r·w and every r old bins merge exactly into one new bin (no interpolation,
// unlike PyTorch's HistogramObserver). Until a non-zero value arrives the width is 0 and the
// zeros are only counted.
class Histogram {
 public:
  explicit Histogram(int64_t bins = 2048);

  // Adds n finite values whose extremes are min and max (the caller has scanned them once).
  // Throws on non-finite or inverted extremes; values outside them land in the end bins.
  void add(const float* data, int64_t n, float min, float max);
  // Scans x itself; throws on a non-finite value.
  void add(const Tensor& x);
  void reset();

  int64_t bins() const { return static_cast<int64_t>(counts_.size()); }
  int64_t total() const { return total_; }
  int64_t zeros() const { return zeros_; }     // values exactly 0.0 (they sit in bin zero_bin())
  double bin_width() const { return width_; }  // 0 while every value seen is 0
  double edge(int64_t k) const { return static_cast<double>(origin_ + k) * width_; }
  double lo() const { return edge(0); }
  double hi() const { return edge(bins()); }
  int64_t zero_bin() const { return -origin_; }  // the bin whose left edge is 0.0
  const std::vector<int64_t>& counts() const { return counts_; }
  double min() const { return min_; }  // exact extremes of the values added (0 when empty)
  double max() const { return max_; }
  // Where bin k's values can lie: the bin cut to [min(), max()], so the end bins do not
  // pretend to hold values beyond the extremes. May be a single point.
  std::pair<double, double> extent(int64_t k) const;
  // The value below which a share q of the values lies, interpolating linearly inside a bin's
  // extent (so it is off by at most one bin width). q in [0, 1].
  double quantile(double q) const;

 private:
  void start(double lo, double hi);
  void widen(double lo, double hi);
  int64_t global_bin(double x) const;

  std::vector<int64_t> counts_;
  double width_ = 0.0;
  double inv_width_ = 0.0;
  int64_t origin_ = 0;  // global index (in units of width_) of bin 0
  int64_t total_ = 0;
  int64_t zeros_ = 0;
  double min_ = 0.0;
  double max_ = 0.0;
};

// Estimated MSE of fake-quantizing the histogram's values with per-tensor qp. Values are taken
// as spread uniformly inside their bin; inside the grid [s·(qmin−z), s·(qmax−z)] the squared
// distance to the nearest grid point is integrated exactly over that density (s²/12 per value
// when a bin spans whole steps), outside it the squared distance to the nearest grid end;
// exact zeros cost 0. O(bins). Returns 0 for an empty histogram.
double estimate_quantization_mse(const Histogram& h, const QParams& qp);
// Share of the histogram's values outside [lo, hi] (values uniform inside a bin). O(bins).
double fraction_outside(const Histogram& h, double lo, double hi);

// The base of the observers below: it accumulates a Histogram of every value it sees, and its
// subclasses choose the range from that histogram (compute_range).
class HistogramBackedObserver : public Observer {
 public:
  const Histogram& histogram() const { return hist_; }

 protected:
  HistogramBackedObserver(std::string kind, const QuantSpec& spec, int64_t bins);
  void observe_batch(const Batch& batch) override;
  void reset_state() override { hist_.reset(); }

  Histogram hist_;
};

// The p-th percentile as hi and the (100−p)-th as lo, read from a Histogram: bounded memory,
// mergeable across batches and deterministic, with an error of at most one bin width. A bounded
// sample cannot do the 99.99th percentile well: it is the 10th largest of 10^5 kept values, so
// its variance is large, and keeping more costs memory with every batch.
class PercentileObserver : public HistogramBackedObserver {
 public:
  explicit PercentileObserver(double percentile = 99.99, const QuantSpec& spec = {}, int64_t bins = 2048);
  std::string name() const override { return "percentile"; }
  double percentile() const { return percentile_; }

 protected:
  ObservedRange compute_range() const override;

 private:
  double percentile_;
};

// Accumulates a Histogram, then searches candidate ranges for the least estimated quantization
// MSE (estimate_quantization_mse: clipping error + scale²/12 rounding error). Ties keep the wider
// range. With C = candidates and [min⁻, max⁺] the observed range widened to include 0:
//  - symmetric scheme: thresholds t = amax·k/C, k = 1..C, range [−t, t];
//  - affine scheme: (1) shrink both ends towards 0 together, [f·min⁻, f·max⁺] with f = k/C;
//    (2) keep the best hi, try lo = g·min⁻, g = k/C, k = 0..C; (3) keep that lo, try
//    hi = g·max⁺, k = 1..C. At most 3C + 1 ranges, each O(bins).
class HistogramObserver : public HistogramBackedObserver {
 public:
  explicit HistogramObserver(const QuantSpec& spec = {}, int64_t bins = 2048, int64_t candidates = 128);
  std::string name() const override { return "histogram"; }

 protected:
  ObservedRange compute_range() const override;

 private:
  int64_t candidates_;
};

// TensorRT-style entropy calibration: the threshold whose quantized distribution Q is closest to
// the observed distribution P in KL(P‖Q). Exactly:
//  1. Histogram of x (zero bin z = zero_bin()) without its exact zeros: every grid holds 0
//     exactly, and a spike of zeros (half of a ReLU's outputs) in one bin would make every
//     merge of bins look costly and drive the threshold down. Symmetric scheme: fold it at 0
//     into a histogram of |x| (bins z+k and z−1−k add up to bin k) and use L = qmax + 1 levels
//     (0..qmax); affine scheme: keep x and use L = 2^bits levels.
//  2. Candidate i (bins on each side of 0): the window of bins [max(0, z−i), min(B, z+i)) of the
//     x histogram, or [0, i) of the |x| one; it must hold at least L bins. i runs from the
//     smallest such window to the one covering every non-empty bin, in at most `candidates` even
//     steps, widest included.
//  3. P = the window's counts, with every count left of it added to its first bin and every
//     count right of it added to its last bin (outliers clipped to the edge).
//  4. Q: split the window's own counts (without the folded outliers) into L groups of
//     consecutive bins, group g = bins [⌊g·n/L⌋, ⌊(g+1)·n/L⌋) for a window of n bins; spread each
//     group's total evenly over the group's bins where P > 0; bins with P = 0 get 0.
//  5. Normalise P and Q to sum 1; a bin with P > 0 but Q = 0 (an edge bin that holds only
//     outliers) gets Q = 1e-10 instead of an infinite term; KL = Σ_{P>0} P·ln(P/Q).
//  6. Least KL wins (ties keep the wider window). The range is the window's edges, cut to the
//     observed [min, max]; symmetric: [−t, t] with t = min(window edge, max|x|).
// Cost: O(bins · candidates).
class EntropyObserver : public HistogramBackedObserver {
 public:
  explicit EntropyObserver(const QuantSpec& spec = {}, int64_t bins = 2048, int64_t candidates = 128);
  std::string name() const override { return "entropy"; }

 protected:
  ObservedRange compute_range() const override;

 private:
  int64_t candidates_;
};

}  // namespace tinyml::quant
