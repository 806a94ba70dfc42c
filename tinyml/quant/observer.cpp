#include "tinyml/quant/observer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/quant/histogram_observer.hpp"

namespace tinyml::quant {

namespace {

std::string plural(int64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Scanning values

// v − v is NaN exactly when v is NaN or ±Inf.
namespace detail {

ValueScan scan_values_reference(const float* data, int64_t n) {
  ValueScan r{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    const float v = data[i];
    r.non_finite += !(v - v == 0.0f);
    r.zeros += (v == 0.0f);
    r.min = v < r.min ? v : r.min;
    r.max = v > r.max ? v : r.max;
  }
  return r;
}

}  // namespace detail

ValueScan scan_values(const float* data, int64_t n) {
  constexpr int64_t L = 16;
  // int32 lane counters match the float lanes' width; flushed before they could overflow.
  constexpr int64_t kFlush = int64_t{1} << 20;
  float mn[L];
  float mx[L];
  int32_t bad[L] = {};
  int32_t zeros[L] = {};
  for (int64_t l = 0; l < L; ++l) {
    mn[l] = std::numeric_limits<float>::infinity();
    mx[l] = -std::numeric_limits<float>::infinity();
  }
  ValueScan r{0.0f, 0.0f, 0, 0};
  int64_t i = 0;
  while (i + L <= n) {
    const int64_t end = std::min(n, i + kFlush);
    for (; i + L <= end; i += L) {
      for (int64_t l = 0; l < L; ++l) {
        const float v = data[i + l];
        bad[l] += !(v - v == 0.0f);
        zeros[l] += (v == 0.0f);
        mn[l] = v < mn[l] ? v : mn[l];
        mx[l] = v > mx[l] ? v : mx[l];
      }
    }
    for (int64_t l = 0; l < L; ++l) {
      r.non_finite += bad[l];
      r.zeros += zeros[l];
      bad[l] = zeros[l] = 0;
    }
  }
  const ValueScan tail = detail::scan_values_reference(data + i, n - i);
  r.non_finite += tail.non_finite;
  r.zeros += tail.zeros;
  r.min = tail.min;
  r.max = tail.max;
  for (int64_t l = 0; l < L; ++l) {
    r.min = mn[l] < r.min ? mn[l] : r.min;
    r.max = mx[l] > r.max ? mx[l] : r.max;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Observer

Observer::Observer(std::string kind, const QuantSpec& spec, bool per_channel)
    : kind_(std::move(kind)), spec_(spec) {
  spec_.validate(kind_.c_str());
  if (per_channel) {
    TINYML_CHECK(spec_.granularity == Granularity::PerChannel, "{}: needs a per-channel spec, got {}", kind_,
                 spec_.to_string());
  } else {
    TINYML_CHECK(spec_.granularity == Granularity::PerTensor,
                 "{}: needs a per-tensor spec, got {}; use PerChannelMinMaxObserver "
                 "(\"per-channel-minmax\") for per-channel qparams",
                 kind_, spec_.to_string());
  }
}

void Observer::observe(const Tensor& x) {
  TINYML_CHECK(x.defined(), "{}::observe: got an undefined tensor", kind_);
  TINYML_CHECK(x.numel() > 0,
               "{}::observe: got an empty tensor of shape {}; calibration batches must hold data", kind_,
               shape_str(x.shape()));
  // A strided input is copied once; the copy must not enter an autograd graph.
  NoGradGuard no_grad;
  const Tensor c = x.contiguous();
  const float* p = c.data();
  const int64_t n = c.numel();

  const ValueScan scan = scan_values(p, n);
  TINYML_CHECK(scan.non_finite == 0,
               "{}::observe: {} of the {} values of the tensor of shape {} are NaN or infinite; "
               "calibration data must be finite",
               kind_, scan.non_finite, n, shape_str(x.shape()));

  observe_batch(Batch{c, p, n, scan.min, scan.max, scan.zeros});  // may throw; then nothing below changes

  min_ = count_ == 0 ? scan.min : std::min(min_, scan.min);
  max_ = count_ == 0 ? scan.max : std::max(max_, scan.max);
  count_ += n;
  zeros_ += scan.zeros;
  ++batches_;
  cached_.reset();
}

ObservedRange Observer::range() const {
  TINYML_CHECK(count_ > 0, "{}::range: calibration saw no data (observe() was never called)", kind_);
  const std::lock_guard<std::mutex> lock(cache_mutex_);
  if (!cached_) cached_ = compute_range();
  return *cached_;
}

QParams Observer::qparams() const {
  TINYML_CHECK(count_ > 0, "{}::qparams: calibration saw no data (observe() was never called)", kind_);
  return compute_qparams(range());
}

QParams Observer::compute_qparams(const ObservedRange& r) const { return choose_qparams(r.lo, r.hi, spec_); }

void Observer::reset() {
  reset_state();
  count_ = 0;
  batches_ = 0;
  zeros_ = 0;
  min_ = 0.0f;
  max_ = 0.0f;
  cached_.reset();
}

Coverage covered_range(float lo, float hi, const QuantSpec& spec) {
  if (spec.scheme == Scheme::Symmetric) {
    const double a = std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi)));
    return {-a, a};
  }
  return {std::min(static_cast<double>(lo), 0.0), std::max(static_cast<double>(hi), 0.0)};
}

// ---------------------------------------------------------------------------------------------
// MinMaxObserver

MinMaxObserver::MinMaxObserver(const QuantSpec& spec) : Observer("MinMaxObserver", spec, false) {}

ObservedRange MinMaxObserver::compute_range() const {
  ObservedRange r;
  r.min = r.lo = seen_min();
  r.max = r.hi = seen_max();
  r.clipped_fraction = 0.0;
  const double s = choose_qparams(r.lo, r.hi, spec()).scale[0];
  const double nonzero = static_cast<double>(count() - seen_zeros()) / static_cast<double>(count());
  r.estimated_mse = nonzero * s * s / 12.0;
  r.why = fmt::format("min/max of {}", plural(batches(), "batch", "batches"));
  return r;
}

// ---------------------------------------------------------------------------------------------
// MovingAverageMinMaxObserver

MovingAverageMinMaxObserver::MovingAverageMinMaxObserver(float averaging_constant, const QuantSpec& spec)
    : Observer("MovingAverageMinMaxObserver", spec, false), c_(averaging_constant) {
  TINYML_CHECK(std::isfinite(c_) && c_ > 0.0f && c_ <= 1.0f,
               "MovingAverageMinMaxObserver: averaging_constant must be in (0, 1], got {}", c_);
}

void MovingAverageMinMaxObserver::observe_batch(const Batch& b) {
  if (batches() == 0) {
    avg_min_ = b.min;
    avg_max_ = b.max;
  } else {
    avg_min_ = avg_min_ + c_ * (b.min - avg_min_);
    avg_max_ = avg_max_ + c_ * (b.max - avg_max_);
  }
  const Coverage cov = covered_range(avg_min_, avg_max_, spec());
  int64_t clipped = 0;
  double sq = 0.0;
  for (int64_t i = 0; i < b.n; ++i) {
    const double v = b.data[i];
    const double d = v < cov.lo ? cov.lo - v : (v > cov.hi ? v - cov.hi : 0.0);
    clipped += d > 0.0;
    sq += d * d;
  }
  clipped_ += clipped;
  clip_sq_error_ += sq;
}

ObservedRange MovingAverageMinMaxObserver::compute_range() const {
  ObservedRange r;
  r.min = seen_min();
  r.max = seen_max();
  r.lo = avg_min_;
  r.hi = avg_max_;
  const double n = static_cast<double>(count());
  r.clipped_fraction = static_cast<double>(clipped_) / n;
  const double s = choose_qparams(r.lo, r.hi, spec()).scale[0];
  const double rounded = static_cast<double>(count() - clipped_ - seen_zeros()) / n;
  r.estimated_mse = rounded * s * s / 12.0 + clip_sq_error_ / n;
  r.why = fmt::format("moving average (c={:g}) of per-batch min/max over {}", c_,
                      plural(batches(), "batch", "batches"));
  return r;
}

void MovingAverageMinMaxObserver::reset_state() {
  avg_min_ = avg_max_ = 0.0f;
  clipped_ = 0;
  clip_sq_error_ = 0.0;
}

// ---------------------------------------------------------------------------------------------
// PerChannelMinMaxObserver

PerChannelMinMaxObserver::PerChannelMinMaxObserver(const QuantSpec& spec)
    : Observer("PerChannelMinMaxObserver", spec, true) {}

PerChannelMinMaxObserver::PerChannelMinMaxObserver(int64_t axis)
    : PerChannelMinMaxObserver(QuantSpec::int8_symmetric_per_channel(axis)) {}

void PerChannelMinMaxObserver::observe_batch(const Batch& b) {
  const Tensor& t = b.tensor;
  TINYML_CHECK(
      t.dim() >= 1,
      "PerChannelMinMaxObserver::observe: needs at least one dimension for channel axis {}, got shape {}",
      spec().axis, shape_str(t.shape()));
  const int64_t dim = t.dim();
  TINYML_CHECK(spec().axis >= -dim && spec().axis < dim,
               "PerChannelMinMaxObserver::observe: channel axis {} is out of range for a tensor of shape {} "
               "(expected {} <= axis < {})",
               spec().axis, shape_str(t.shape()), -dim, dim);
  const int64_t axis = spec().axis < 0 ? spec().axis + dim : spec().axis;
  const int64_t channels = t.size(axis);
  if (!mins_.empty()) {
    TINYML_CHECK(axis == resolved_axis_ && channels == static_cast<int64_t>(mins_.size()),
                 "PerChannelMinMaxObserver::observe: earlier batches had {} channels along axis {}, "
                 "this one has shape {} ({} along axis {})",
                 mins_.size(), resolved_axis_, shape_str(t.shape()), channels, axis);
  }
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= t.size(d);
  const int64_t inner = b.n / (outer * channels);

  std::vector<float> mins = mins_;
  std::vector<float> maxs = maxs_;
  if (mins.empty()) {
    mins.assign(channels, std::numeric_limits<float>::infinity());
    maxs.assign(channels, -std::numeric_limits<float>::infinity());
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* row = b.data + (o * channels + c) * inner;
      float mn = mins[c];
      float mx = maxs[c];
      for (int64_t i = 0; i < inner; ++i) {
        mn = row[i] < mn ? row[i] : mn;
        mx = row[i] > mx ? row[i] : mx;
      }
      mins[c] = mn;
      maxs[c] = mx;
    }
  }
  mins_ = std::move(mins);
  maxs_ = std::move(maxs);
  resolved_axis_ = axis;
}

ObservedRange PerChannelMinMaxObserver::compute_range() const {
  ObservedRange r;
  r.min = r.lo = seen_min();
  r.max = r.hi = seen_max();
  r.clipped_fraction = 0.0;
  const QParams qp = compute_qparams(r);
  double mean_sq_scale = 0.0;
  for (float s : qp.scale) mean_sq_scale += static_cast<double>(s) * s;
  mean_sq_scale /= static_cast<double>(qp.scale.size());
  const double nonzero = static_cast<double>(count() - seen_zeros()) / static_cast<double>(count());
  r.estimated_mse = nonzero * mean_sq_scale / 12.0;
  r.why = fmt::format("per-channel min/max along axis {} ({}) of {}", resolved_axis_,
                      plural(static_cast<int64_t>(mins_.size()), "channel", "channels"),
                      plural(batches(), "batch", "batches"));
  return r;
}

QParams PerChannelMinMaxObserver::compute_qparams(const ObservedRange&) const {
  return choose_qparams(std::span<const float>(mins_), std::span<const float>(maxs_), spec());
}

void PerChannelMinMaxObserver::reset_state() {
  mins_.clear();
  maxs_.clear();
  resolved_axis_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Factory

const std::vector<std::string>& observer_names() {
  static const std::vector<std::string> names = {"minmax",     "moving-average", "per-channel-minmax",
                                                 "percentile", "histogram",      "entropy"};
  return names;
}

const std::vector<std::string>& per_tensor_observer_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const std::string& n : observer_names())
      if (n != "per-channel-minmax") out.push_back(n);
    return out;
  }();
  return names;
}

std::unique_ptr<Observer> make_observer(const std::string& name, const QuantSpec& spec) {
  if (name == "minmax") return std::make_unique<MinMaxObserver>(spec);
  if (name == "moving-average") return std::make_unique<MovingAverageMinMaxObserver>(0.01f, spec);
  if (name == "per-channel-minmax") return std::make_unique<PerChannelMinMaxObserver>(spec);
  if (name == "percentile") return std::make_unique<PercentileObserver>(99.99, spec);
  if (name == "histogram") return std::make_unique<HistogramObserver>(spec);
  if (name == "entropy") return std::make_unique<EntropyObserver>(spec);
  throw Error(fmt::format("make_observer: unknown observer '{}'; valid names: {}", name,
                          fmt::join(observer_names(), ", ")));
}

}  // namespace tinyml::quant
