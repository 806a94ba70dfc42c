// Error metrics of an approximation against its reference: MSE, largest and mean error, relative error, SNR.
#pragma once

#include "tinyml/core/tensor.hpp"

namespace tinyml::quant {

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

}  // namespace tinyml::quant
