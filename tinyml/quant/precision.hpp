// Precision analyses: one layer's output error in each number format, the smallest bit width for an
// error bound, and the weight errors of every Linear of a model.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/quant/error_metrics.hpp"  // the metrics every analysis reports
#include "tinyml/quant/number_format.hpp"  // NumberFormat and the round trips
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

// ---- one layer in one format ----
struct PrecisionReport {
  NumberFormat format = NumberFormat::FP32;
  // Output y = X·Wᵀ computed from W and X stored in `format` (accumulated in fp32), against fp32.
  double mean_abs_error = 0.0;
  double max_abs_error = 0.0;
  double mean_relative_error = 0.0;
  double snr_db = 0.0;
  float out_min = 0.0f;  // range of the fp32 output
  float out_max = 0.0f;
  float approx_min = 0.0f;  // range of the output computed in the format
  float approx_max = 0.0f;
  double weight_snr_db = 0.0;  // of W itself after the round trip
  double input_snr_db = 0.0;   // of X itself
  size_t weight_bytes = 0;     // W stored in the format
};
// W (out, in), X (N, in). INT formats quantize W symmetric per output channel and X affine per
// tensor (as a static QuantizedLinear does); FP16/BF16 round every value. Throws on shapes that
// do not fit, empty or non-finite inputs.
PrecisionReport analyze_layer_precision(const Tensor& W, const Tensor& X, NumberFormat format);

// ---- choosing a bit width ----
struct BitwidthChoice {
  bool found = false;              // some width in 2..8 met the bound
  int bits = 32;                   // the smallest width meeting it (32: none does; keep fp32)
  double relative_error = 0.0;     // mean_relative_error at that width (0 for fp32)
  double compression_ratio = 1.0;  // fp32 bytes / stored bytes (packed, qparams included)
  std::vector<double> errors;      // mean_relative_error at 2, 3, ..., 8 bits
};
// Quantizes `values` per tensor with affine min/max qparams at 2, 3, ..., 8 bits and picks the
// smallest width whose mean_relative_error is <= max_rel_error (> 0). Non-increasing in the
// bound: a looser bound never needs more bits.
BitwidthChoice find_optimal_bitwidth(const Tensor& values, double max_rel_error);

// ---- per-layer weight errors of a model ----
struct LayerError {
  std::string name;  // as in named_modules()
  Shape shape;       // the weight's (out, in)
  int bits = 8;
  double mse = 0.0;
  double max_abs_error = 0.0;
  double mean_relative_error = 0.0;
  double snr_db = 0.0;
  size_t fp32_bytes = 0;
  size_t quantized_bytes = 0;  // QTensor::nbytes(): packed for <= 4 bits, scales included
};
// Every nn::Linear weight of `model` (depth first) quantized symmetric per output channel at
// `bits` (2..8), as QuantizedLinear stores it. Throws if the model holds no Linear.
std::vector<LayerError> weight_error_table(const nn::Module& model, int bits);

}  // namespace tinyml::quant
