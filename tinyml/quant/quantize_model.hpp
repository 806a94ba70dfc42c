// quantize_model: replaces a model's Linear layers by QuantizedLinear in place and reports what it did; model
// sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/precision.hpp"  // snr_db, reported per layer
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::quant {

struct QuantConfig {
  QuantSpec weight_spec = QuantSpec::int8_symmetric_per_channel(0);
  // Static mode's activations (per tensor); Dynamic mode always uses uint8 affine per batch.
  QuantSpec activation_spec = QuantSpec::int8_affine();
  QuantMode mode = QuantMode::Dynamic;
  // Static mode: the make_observer() name that chooses each Linear's input range.
  std::string observer = "histogram";
  // How each weight channel's range is chosen: "minmax" (the whole range) or "mse" (the clipping
  // of least squared error; see choose_weight_qparams_mse). With calibration batches, "mse"
  // minimises the error each Linear's output would have on them (its input second moments weigh
  // the weight errors); without, the error of the weight itself. MSE matters at 4 bits and below,
  // where one outlier would otherwise stretch every step.
  std::string weight_range = "minmax";
  // Linear layers kept in float: names as in named_modules() ("0", "block.1"; a container's name
  // skips every Linear inside it), or "first" / "last" for the first / last Linear of the tree.
  std::vector<std::string> skip;
  // Static mode: a Linear directly followed by a ReLU inside a Sequential computes the ReLU in
  // its output pass, and the ReLU is replaced by nn::Identity.
  bool fuse_relu = true;
};

struct LayerReport {
  std::string name;  // as in named_modules()
  std::string kind;  // "QuantizedLinear(dynamic)", "QuantizedLinear(static+relu)", "Linear (skipped)"
  int64_t in_features = 0;
  int64_t out_features = 0;
  size_t bytes_before = 0;  // fp32 weight and bias
  size_t bytes_after = 0;   // QuantizedLinear::memory_usage().total(), or bytes_before if skipped
  // 10·log10(Σw² / Σ(w − ŵ)²) of the weight; +Inf for an exact weight, NaN for a skipped layer.
  double weight_snr_db = 0.0;
  float act_lo = 0.0f;  // Static: the input range the observer chose; NaN otherwise
  float act_hi = 0.0f;
  std::string observer;     // Static: the observer's name; "" otherwise
  std::string weight_spec;  // QuantSpec::to_string() (with " mse" for MSE clipping), "fp32" if skipped
};

struct QuantReport {
  std::vector<LayerReport> layers;  // every Linear of the tree, in named_modules() order
  size_t bytes_before = 0;          // model_bytes() of the whole model before and after
  size_t bytes_after = 0;

  // Fixed-width table, one row per layer and a total row.
  std::string table() const;
  // {"layers": [...], "bytes_before", "bytes_after", "ratio"}, each layer an object of the
  // LayerReport fields by their names; NaN/Inf numbers as null.
  nlohmann::json to_json() const;
};

// Replaces every nn::Linear of the tree (nested modules walked, named as in named_modules()) that
// is not skipped by a QuantizedLinear in `config.mode`, in place. Static mode first calibrates
// the float model on `calibration_batches` (quant::calibrate, observing each Linear's input),
// which it needs; weight_range "mse" uses them too, when given. Throws, leaving the model unchanged, on a bad
// config (unknown weight_range or observer, a skip name that matches nothing, a per-channel activation spec,
// a weight spec the mode cannot run), on a tree without Linear layers, and on calibration errors.
QuantReport quantize_model(nn::Sequential& model, const QuantConfig& config,
                           const std::vector<Tensor>& calibration_batches = {});

// Weight qparams whose range is clipped for least squared error: for each channel (or the whole
// tensor, per tensor) the range [r·min⁻, r·max⁺] (symmetric: ±r·amax) is tried for `steps`
// ratios r evenly spaced from 1 down to `min_ratio`, and the one of least error wins (ties keep
// the wider range). The error is Σ(w − ŵ)² of the weight itself, or, given `input_moment`
// M = E[x xᵀ] of the layer's inputs (in × in, from calibrate with input_moments), the output
// error it causes: E[((w − ŵ)·x)²] = (w − ŵ) M (w − ŵ)ᵀ per output row. A Linear weight quantized
// per output channel (or per tensor) only, in that case.
QParams choose_weight_qparams_mse(const Tensor& weight, const QuantSpec& spec, int steps = 100,
                                  float min_ratio = 0.3f, const Tensor& input_moment = Tensor());

// Bytes a model really holds: 4 per element of every fp32 parameter and buffer (each tensor
// counted once), plus QuantizedLinear::memory_usage().total() of every quantized layer.
size_t model_bytes(const nn::Module& model);

struct SizeComparison {
  size_t a_bytes = 0;
  size_t b_bytes = 0;
  double ratio = 0.0;  // b_bytes / a_bytes
  // "942.3 KB -> 240.1 KB (0.255x, 3.92x smaller)"
  std::string to_string() const;
};
SizeComparison compare_model_sizes(const nn::Module& a, const nn::Module& b);

}  // namespace tinyml::quant
