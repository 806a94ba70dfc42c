// Calibration: runs data through a model with observers hooked onto every Linear and reports per-layer
// statistics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/quant/observer.hpp"
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

struct CalibrationConfig {
  std::string observer = "histogram";  // a make_observer() name
  QuantSpec spec;                      // the activation spec; default int8 affine (uint8) per tensor
  // true: observe each Linear's input (what a static quantized Linear quantizes);
  // false: its output.
  bool observe_inputs = true;
  // Also accumulate each Linear's input second moments E[x xᵀ] (LayerStats::input_moment): the
  // matrix that turns a weight error into the output error it causes, which MSE weight clipping
  // (choose_weight_qparams_mse) minimises. Costs one in×in matrix per layer. Needs observe_inputs.
  bool input_moments = false;
};

// What one Linear's input (or output) looked like over the calibration data.
struct LayerStats {
  std::string name;   // as in named_modules(): "0", "block.1"; "" for the model itself
  std::string type;   // "Linear"
  int64_t count = 0;  // values seen
  float min = 0.0f;
  float max = 0.0f;
  float mean = 0.0f;
  float std = 0.0f;  // population standard deviation (divides by count)
  // 1st, 99th and 99.99th percentiles, read from `histogram` by linear interpolation inside a
  // bin: off by at most one bin width, (hist_hi − hist_lo) / histogram.size(); clamped to [min, max].
  float p01 = 0.0f;
  float p99 = 0.0f;
  float p9999 = 0.0f;
  ObservedRange chosen;            // what the configured observer chose, and why
  std::vector<int64_t> histogram;  // 2048 equal bins over [hist_lo, hist_hi], which spans 0
  float hist_lo = 0.0f;
  float hist_hi = 0.0f;
  QParams qparams;       // the observer's qparams for this activation
  std::string observer;  // the observer's name ("histogram", ...)
  // With CalibrationConfig::input_moments: E[x xᵀ] over the input rows seen, shape (in, in);
  // undefined otherwise.
  Tensor input_moment;

  // The histogram.size() + 1 bin edges, evenly spaced from hist_lo to hist_hi (in double):
  // edge i = hist_lo + (hist_hi − hist_lo) · i / bins. Empty if there is no histogram.
  std::vector<double> bin_edges() const;
};

struct CalibrationResult {
  std::vector<LayerStats> layers;  // in named_modules() order

  // Fixed-width text table: one row per layer with count, min/max, mean/std, percentiles, the
  // chosen range, clipped share, scale and zero point.
  std::string table() const;
  // The stats of the layer named `name`; throws listing the names there are.
  const LayerStats& at(const std::string& name) const;
};

// Attaches an observer (config.observer, config.spec) through a forward pre-hook (or forward
// hook, if !observe_inputs) to every nn::Linear in the tree, runs every batch in eval mode
// without recording gradients, and returns each layer's statistics. Whatever happens, even an
// exception thrown from forward, every hook it attached is removed and every module gets back
// its train/eval mode. Throws on no batches, an undefined or empty batch, a model without
// Linear layers, a Linear that never ran, and non-finite activations (naming the layer).
CalibrationResult calibrate(nn::Module& model, const std::vector<Tensor>& batches,
                            const CalibrationConfig& config = {});

// calibrate() with a MinMax observer: plain activation statistics.
CalibrationResult collect_activation_stats(nn::Module& model, const std::vector<Tensor>& batches);

}  // namespace tinyml::quant
