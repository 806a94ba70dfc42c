// Precision lab: fp16/bf16 conversion by hand, number-format round trips, error metrics, experiments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/quant/qparams.hpp"

namespace tinyml::quant {

// ---- IEEE 754 half precision and bfloat16, written out bit by bit ----
// float → binary16: round to nearest, ties to even; magnitudes from 65520 up (and ±Inf) become
// ±Inf (0x7C00); values below 2^-14 become subnormals (steps of 2^-24) and those up to 2^-25
// round to ±0; −0.0 keeps its sign (0x8000); NaN stays a (quiet) NaN with its sign.
uint16_t float_to_half_bits(float x);
// binary16 → float: exact (every half value is a float).
float half_bits_to_float(uint16_t h);
// float → bfloat16 (the top 16 bits of a float): round to nearest, ties to even; overflow past
// the largest bfloat16 (≈ 3.3895e38) gives ±Inf; subnormals round like any other value; NaN
// stays a quiet NaN with its sign.
uint16_t float_to_bfloat16_bits(float x);
// bfloat16 → float: exact (the bits shifted into the top half).
float bfloat16_bits_to_float(uint16_t b);

// ---- number formats ----
enum class NumberFormat { FP32, FP16, BF16, INT8, INT4 };
const char* to_string(NumberFormat f);  // "fp32", "fp16", "bf16", "int8", "int4"
// The inverse of to_string; anything else throws, listing the names.
NumberFormat parse_number_format(const std::string& s);
// Bits per stored value: 32, 16, 16, 8, 4.
int bits_of(NumberFormat f);

// x stored in format f and read back as float. FP16/BF16: each value rounded as above. INT8/INT4:
// quantized per tensor with affine min/max qparams (choose_qparams, uint8 / uint4 range) and
// dequantized, so the error of a value inside the range is at most scale/2.
Tensor round_trip(const Tensor& x, NumberFormat f);
// The stored size of x in format f, in bytes, as QTensor / a 16-bit array would really hold it
// (INT formats include their scale and zero point; int4 is packed two values per byte).
size_t stored_bytes(const Tensor& x, NumberFormat f);

// ---- error metrics: reference first, approximation second; same shape, non-empty ----
double mse(const Tensor& reference, const Tensor& approx);
double max_abs_error(const Tensor& reference, const Tensor& approx);
double mean_abs_error(const Tensor& reference, const Tensor& approx);
// mean |approx − reference| divided by mean |reference|. A ratio of means rather than the mean of
// elementwise ratios, which a single reference value near zero would dominate (quantization maps
// small values to 0, an elementwise relative error of 1 however small they are).
// 0 when both are all zero; +Inf when only the reference is.
double mean_relative_error(const Tensor& reference, const Tensor& approx);
// Signal-to-noise ratio 10·log10(Σ reference² / Σ (approx − reference)²) in dB: +Inf when the
// approximation is exact, −Inf for an all-zero reference with an error.
double snr_db(const Tensor& reference, const Tensor& approx);

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

// ---- how many predictions flip ----
struct FlipResult {
  int64_t inputs = 12, hidden = 512, classes = 4096;
  int64_t samples = 0;
  int64_t flips_int8 = 0;  // samples whose argmax differs from fp32 with int8 weights
  int64_t flips_int4 = 0;
  double mean_top2_gap = 0.0;  // mean fp32 gap between the two largest logits (why flips happen)
  double logit_snr_int8_db = 0.0;
  double logit_snr_int4_db = 0.0;
};
// A random MLP 12 → 512 (ReLU) → 4096 with PyTorch's default initialisation, 1000 inputs drawn
// from N(0, 1): how many argmax predictions change when its weights are stored in int8 or in int4
// (symmetric per output channel, weight-only). With 4096 classes the top logits sit close
// together, so even small weight errors move the winner.
FlipResult argmax_flip_experiment(Generator& gen, int64_t samples = 1000);

}  // namespace tinyml::quant
