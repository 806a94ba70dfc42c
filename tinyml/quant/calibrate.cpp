#include "tinyml/quant/calibrate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/histogram_observer.hpp"

namespace tinyml::quant {

namespace {

constexpr int64_t kStatsBins = 2048;

// One observed Linear: its observer plus the running statistics reported beside it.
struct Record {
  std::string name;
  nn::Module* module;
  std::unique_ptr<Observer> observer;
  Histogram hist{kStatsBins};
  int64_t count = 0;
  float min = 0.0f;
  float max = 0.0f;
  // Sums of (x − shift) and its square, shift = the first value seen: keeps the variance
  // formula Σd²/n − (Σd/n)² from cancelling when the mean is large against the spread.
  double shift = 0.0;
  double sum = 0.0;
  double sumsq = 0.0;
  // Σ x xᵀ over the input rows (each row one input vector of the Linear), when asked for.
  bool moments = false;
  std::vector<float> xx;
  int64_t rows = 0;

  void observe(const Tensor& x, const char* what) {
    try {
      observer->observe(x);
    } catch (const Error& e) {
      throw Error(
          fmt::format("calibrate: layer '{}' ({} {}): {}", name, module->type_name(), what, e.what()));
    }
    // The observer has checked that x is defined, non-empty and finite.
    const Tensor c = x.contiguous();
    const float* p = c.data();
    const int64_t n = c.numel();
    if (count == 0) shift = p[0];
    const ValueScan scan = scan_values(p, n);
    // Eight independent partial sums, for the same reason scan_values uses lanes.
    constexpr int64_t L = 8;
    double s[L] = {};
    double s2[L] = {};
    int64_t i = 0;
    for (; i + L <= n; i += L) {
      for (int64_t l = 0; l < L; ++l) {
        const double d = static_cast<double>(p[i + l]) - shift;
        s[l] += d;
        s2[l] += d * d;
      }
    }
    for (; i < n; ++i) {
      const double d = static_cast<double>(p[i]) - shift;
      s[0] += d;
      s2[0] += d * d;
    }
    for (int64_t l = 0; l < L; ++l) {
      sum += s[l];
      sumsq += s2[l];
    }
    hist.add(p, n, scan.min, scan.max);
    if (moments) accumulate_moments(p, n, c.dim() == 0 ? 1 : c.shape().back());
    min = count == 0 ? scan.min : std::min(min, scan.min);
    max = count == 0 ? scan.max : std::max(max, scan.max);
    count += n;
  }

  // xx += Xᵀ X for the rows of X (n / k rows of k features); float sums are ample for choosing a
  // clipping range, and a few thousand rows of activations stay far from float's range.
  void accumulate_moments(const float* p, int64_t n, int64_t k) {
    if (xx.empty()) xx.assign(static_cast<size_t>(k * k), 0.0f);
    TINYML_CHECK(static_cast<int64_t>(xx.size()) == k * k,
                 "calibrate: layer '{}' received inputs of {} features after inputs of {}", name, k,
                 static_cast<int64_t>(std::sqrt(static_cast<double>(xx.size()))));
    const int64_t m = n / k;
    kernels::sgemm(true, false, k, k, m, 1.0f, p, k, p, k, 1.0f, xx.data(), k);
    rows += m;
  }

  LayerStats stats() const {
    LayerStats st;
    st.name = name;
    st.type = module->type_name();
    st.count = count;
    st.min = min;
    st.max = max;
    const double n = static_cast<double>(count);
    const double mean_d = sum / n;
    st.mean = static_cast<float>(shift + mean_d);
    st.std = static_cast<float>(std::sqrt(std::max(0.0, sumsq / n - mean_d * mean_d)));
    auto pct = [&](double q) {
      return static_cast<float>(
          std::clamp(hist.quantile(q), static_cast<double>(min), static_cast<double>(max)));
    };
    st.p01 = pct(0.01);
    st.p99 = pct(0.99);
    st.p9999 = pct(0.9999);
    st.chosen = observer->range();
    st.qparams = observer->qparams();
    st.histogram = hist.counts();
    if (moments) {
      const int64_t k = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(xx.size()))));
      std::vector<float> mean_xx(xx.size());
      for (size_t i = 0; i < xx.size(); ++i) mean_xx[i] = xx[i] / static_cast<float>(rows);
      st.input_moment = Tensor::from_vector(mean_xx, {k, k});
    }
    st.hist_lo = static_cast<float>(hist.lo());
    st.hist_hi = static_cast<float>(hist.hi());
    st.observer = observer->name();
    return st;
  }
};

// Owns everything calibrate() changes on the model and undoes it on scope exit, exception or not:
// detaches the hooks and gives every module back its own train/eval flag.
class CalibrationScope {
 public:
  explicit CalibrationScope(const std::vector<std::pair<std::string, nn::ModulePtr>>& modules) {
    modes_.reserve(modules.size());
    for (const auto& [name, m] : modules) modes_.emplace_back(m.get(), m->is_training());
  }
  ~CalibrationScope() {
    for (auto& h : handles_) h.remove();
    // Parents come before their children, so a child's own flag wins over its parent's
    // recursive train().
    for (const auto& [m, training] : modes_) m->train(training);
  }
  CalibrationScope(const CalibrationScope&) = delete;
  CalibrationScope& operator=(const CalibrationScope&) = delete;
  void keep(nn::HookHandle h) { handles_.push_back(std::move(h)); }

 private:
  std::vector<nn::HookHandle> handles_;
  std::vector<std::pair<nn::Module*, bool>> modes_;
};

}  // namespace

CalibrationResult calibrate(nn::Module& model, const std::vector<Tensor>& batches,
                            const CalibrationConfig& config) {
  TINYML_CHECK(
      !batches.empty(),
      "calibrate: no calibration data: got 0 batches; expected at least one batch of inputs for the {} "
      "(a few hundred representative examples are typical)",
      model.type_name());
  for (size_t i = 0; i < batches.size(); ++i) {
    TINYML_CHECK(
        batches[i].defined() && batches[i].numel() > 0,
        "calibrate: batch {} of {} is {}; every calibration batch must hold data", i, batches.size(),
        batches[i].defined() ? "empty, shape " + shape_str(batches[i].shape()) : std::string("undefined"));
  }

  // Everything that can fail on bad arguments fails here, before the model is touched.
  const auto modules = model.named_modules();
  std::vector<std::unique_ptr<Record>> records;
  for (const auto& [name, m] : modules) {
    if (dynamic_cast<nn::Linear*>(m.get()) == nullptr) continue;
    auto rec = std::make_unique<Record>();
    rec->name = name;
    rec->module = m.get();
    rec->observer = make_observer(config.observer, config.spec);
    rec->moments = config.input_moments;
    records.push_back(std::move(rec));
  }
  TINYML_CHECK(!records.empty(), "calibrate: the model ({}) has no nn::Linear to calibrate",
               model.type_name());
  TINYML_CHECK(!config.input_moments || config.observe_inputs,
               "calibrate: input_moments needs observe_inputs (the moments are of each Linear's input)");

  {
    // Declared after `records`, so the hooks (which point into records) are gone before them.
    CalibrationScope scope(modules);
    // BEGIN SOLUTION 08: calibrate: attach each layer's observer with a forward pre-hook (or a forward hook)
    for (const auto& rec : records) {
      Record* r = rec.get();
      if (config.observe_inputs) {
        scope.keep(r->module->register_forward_pre_hook(std::function<void(nn::Module&, const Tensor&)>(
            [r](nn::Module&, const Tensor& x) { r->observe(x, "input"); })));
      } else {
        scope.keep(
            r->module->register_forward_hook(std::function<void(nn::Module&, const Tensor&, const Tensor&)>(
                [r](nn::Module&, const Tensor&, const Tensor& y) { r->observe(y, "output"); })));
      }
    }
    // END SOLUTION
    model.eval();
    NoGradGuard no_grad;
    for (const Tensor& batch : batches) model(batch);
  }

  CalibrationResult result;
  for (const auto& rec : records) {
    TINYML_CHECK(rec->count > 0,
                 "calibrate: layer '{}' ({}) never ran during the {} calibration batches, so there is "
                 "nothing to choose its qparams from",
                 rec->name, rec->module->type_name(), batches.size());
    result.layers.push_back(rec->stats());
  }
  return result;
}

CalibrationResult collect_activation_stats(nn::Module& model, const std::vector<Tensor>& batches) {
  CalibrationConfig config;
  config.observer = "minmax";
  return calibrate(model, batches, config);
}

std::vector<double> LayerStats::bin_edges() const {
  std::vector<double> edges;
  const size_t bins = histogram.size();
  if (bins == 0) return edges;
  const double lo = hist_lo, span = static_cast<double>(hist_hi) - hist_lo;
  for (size_t i = 0; i <= bins; ++i)
    edges.push_back(lo + span * static_cast<double>(i) / static_cast<double>(bins));
  return edges;
}

const LayerStats& CalibrationResult::at(const std::string& name) const {
  for (const auto& l : layers)
    if (l.name == name) return l;
  std::vector<std::string> names;
  for (const auto& l : layers) names.push_back("'" + l.name + "'");
  throw Error(fmt::format("CalibrationResult::at: no layer named '{}'; the layers are {}", name,
                          fmt::join(names, ", ")));
}

std::string CalibrationResult::table() const {
  size_t name_width = 5;
  for (const auto& l : layers) name_width = std::max(name_width, l.name.empty() ? size_t{6} : l.name.size());
  std::string out = fmt::format(
      "{:<{}}  {:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>11} "
      "{:>5}  {}\n",
      "layer", name_width, "type", "count", "min", "max", "mean", "std", "p1", "p99", "p99.99", "lo", "hi",
      "clip%", "scale", "zp", "chosen by");
  for (const auto& l : layers) {
    out += fmt::format(
        "{:<{}}  {:<8} {:>10} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} "
        "{:>10.4g} "
        "{:>10.4g} {:>8.3f} {:>11.5g} {:>5}  {}: {}\n",
        l.name.empty() ? "(root)" : l.name, name_width, l.type, l.count, l.min, l.max, l.mean, l.std, l.p01,
        l.p99, l.p9999, l.chosen.lo, l.chosen.hi, 100.0 * l.chosen.clipped_fraction,
        l.qparams.scale.empty() ? 0.0f : l.qparams.scale[0],
        l.qparams.zero_point.empty() ? 0 : l.qparams.zero_point[0], l.observer, l.chosen.why);
  }
  return out;
}

}  // namespace tinyml::quant
