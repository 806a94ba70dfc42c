// Observers: watch calibration tensors and choose the range (hence QParams) they should be quantized with.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

// What an observer saw and what it chose, for reports and for judging a calibration.
struct ObservedRange {
  float min = 0.0f;  // smallest value seen
  float max = 0.0f;  // largest value seen
  float lo = 0.0f;   // chosen range, as handed to choose_qparams
  float hi = 0.0f;
  // Share of the observed values that the quantizer clips: those outside [lo, hi] widened to
  // include 0 (affine) or outside ±max(|lo|, |hi|) (symmetric), since that is what it covers.
  double clipped_fraction = 0.0;
  // Mean squared error of fake-quantizing the observed values with the chosen qparams:
  // clipping error plus a rounding error of scale²/12 per value inside the range (exact zeros
  // count as error-free, 0.0 being exactly representable). How it is estimated depends on the
  // observer; each one says so below.
  double estimated_mse = 0.0;
  std::string why;  // one line: "min/max of 12 batches", "99.99th percentile of ...", ...
};

// Base of every observer. observe() checks its input (defined, non-empty, finite) in one pass
// over contiguous data that also finds min/max, then hands the batch to the concrete observer.
// A batch that fails the checks leaves the observer unchanged.
class Observer {
 public:
  virtual ~Observer() = default;
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  void observe(const Tensor& x);
  // The qparams for what was observed; throws when nothing was ("calibration saw no data").
  QParams qparams() const;
  // The raw and chosen ranges with the reasoning; throws when nothing was observed.
  ObservedRange range() const;
  // The name make_observer() knows this observer by: "minmax", "histogram", ...
  virtual std::string name() const = 0;
  const QuantSpec& spec() const { return spec_; }
  void reset();
  int64_t count() const { return count_; }      // elements seen
  int64_t batches() const { return batches_; }  // observe() calls that succeeded

 protected:
  // `kind` is the class name used in error messages ("HistogramObserver").
  Observer(std::string kind, const QuantSpec& spec, bool per_channel);

  // One checked batch: contiguous, non-empty, every value finite.
  struct Batch {
    const Tensor& tensor;  // contiguous
    const float* data;
    int64_t n;
    float min;
    float max;
    int64_t zeros;  // values exactly 0.0
  };
  virtual void observe_batch(const Batch& batch) = 0;
  virtual ObservedRange compute_range() const = 0;
  // Default: choose_qparams(lo, hi) of compute_range().
  virtual QParams compute_qparams(const ObservedRange& r) const;
  virtual void reset_state() = 0;

  const std::string& kind() const { return kind_; }
  float seen_min() const { return min_; }
  float seen_max() const { return max_; }
  int64_t seen_zeros() const { return zeros_; }

 private:
  std::string kind_;
  QuantSpec spec_;
  int64_t count_ = 0;
  int64_t batches_ = 0;
  int64_t zeros_ = 0;
  float min_ = 0.0f;
  float max_ = 0.0f;
  // range() may run a search over candidate ranges; qparams() and range() share its result.
  mutable std::optional<ObservedRange> cached_;
  // Guards cached_, so that const calls (range(), qparams()) may run from several threads at once,
  // like every const member of the library. observe() and reset() still need exclusive access.
  mutable std::mutex cache_mutex_;
};

// One pass over n contiguous floats: extremes, exact zeros and non-finite values (NaN, ±Inf).
// min/max are meaningful only when non_finite == 0 (and n > 0).
struct ValueScan {
  float min;
  float max;
  int64_t non_finite;
  int64_t zeros;
};
// Fast path: 16 independent lanes, so the compiler can keep them in vector registers (a single
// running min/max is a serial chain it will not vectorize without -ffast-math).
ValueScan scan_values(const float* data, int64_t n);
namespace detail {
// The plain loop scan_values() is tested against.
ValueScan scan_values_reference(const float* data, int64_t n);
}  // namespace detail

// The range the quantizer really covers for a chosen [lo, hi] (see ObservedRange::clipped_fraction).
struct Coverage {
  double lo;
  double hi;
};
Coverage covered_range(float lo, float hi, const QuantSpec& spec);

// Running min/max of everything seen (PyTorch's MinMaxObserver). Never clips.
// estimated_mse = (share of non-zero values) · scale²/12: it keeps no distribution, so this
// assumes the values spread over many steps, and overstates the error when most of them sit
// within a step of 0 (e.g. 4-bit min/max of heavy-tailed data: 6.9 estimated, 1.9 measured).
class MinMaxObserver : public Observer {
 public:
  explicit MinMaxObserver(const QuantSpec& spec = {});
  std::string name() const override { return "minmax"; }

 protected:
  void observe_batch(const Batch&) override {}  // the base already tracks min/max
  ObservedRange compute_range() const override;
  void reset_state() override {}
};

// Exponential moving average of per-batch min/max, as PyTorch's MovingAverageMinMaxObserver:
// the first batch sets the range, each later one moves it: min += c · (batch_min − min).
// clipped_fraction and estimated_mse are taken batch by batch against the averaged range right
// after that batch was folded in (the range a QAT step would have used for it); this costs one
// extra pass per batch and is exact for that definition, not for the final range.
class MovingAverageMinMaxObserver : public Observer {
 public:
  explicit MovingAverageMinMaxObserver(float averaging_constant = 0.01f, const QuantSpec& spec = {});
  std::string name() const override { return "moving-average"; }
  float averaging_constant() const { return c_; }

 protected:
  void observe_batch(const Batch& batch) override;
  ObservedRange compute_range() const override;
  void reset_state() override;

 private:
  float c_;
  float avg_min_ = 0.0f;
  float avg_max_ = 0.0f;
  int64_t clipped_ = 0;
  double clip_sq_error_ = 0.0;  // Σ (x − clamp(x))² over the values clipped
};

// Min/max per channel along spec.axis (negative counts from the end); the spec must be
// PerChannel. Every batch must have the same number of channels. range() reports the overall
// extremes; the per-channel ones are channel_min()/channel_max().
class PerChannelMinMaxObserver : public Observer {
 public:
  explicit PerChannelMinMaxObserver(const QuantSpec& spec = QuantSpec::int8_symmetric_per_channel(0));
  // int8 symmetric per-channel along `axis` (what weights use).
  explicit PerChannelMinMaxObserver(int64_t axis);
  std::string name() const override { return "per-channel-minmax"; }
  const std::vector<float>& channel_min() const { return mins_; }
  const std::vector<float>& channel_max() const { return maxs_; }

 protected:
  void observe_batch(const Batch& batch) override;
  ObservedRange compute_range() const override;
  QParams compute_qparams(const ObservedRange& r) const override;
  void reset_state() override;

 private:
  std::vector<float> mins_;
  std::vector<float> maxs_;
  int64_t resolved_axis_ = 0;
};

// Factory for the observers by name: "minmax", "moving-average", "per-channel-minmax",
// "percentile" (99.99), "histogram", "entropy"; defaults for their other parameters.
// An unknown name throws, listing the valid ones.
std::unique_ptr<Observer> make_observer(const std::string& name, const QuantSpec& spec = {});
// The names make_observer() accepts, in that order.
const std::vector<std::string>& observer_names();
// The observers that choose one range for a whole tensor (all but "per-channel-minmax"): those an
// activation can use, in the order of observer_names().
const std::vector<std::string>& per_tensor_observer_names();

}  // namespace tinyml::quant
