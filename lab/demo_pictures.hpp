// `tinyml demo`: the measurements behind the report's figures, taken from the trained models.
#pragma once

#include <cstdint>
#include <vector>

#include "lab/demo.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataset.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/nn/sequential.hpp"

namespace tinyml::cli::demo {

// A typical clipped channel of layer "0": the one at the first quartile of the ratios of the MSE
// range (of `int4_mse`, per channel) to the channel's largest |w| (of the float `model`); the
// smallest ratios are the extreme cases, the largest barely clip.
ClipPicture clip_picture(nn::Sequential& model, nn::Sequential& int4_mse);

// The weight errors ŵ − w of layer "0" in `int8` and in `int4_minmax` against the float `model`.
ErrorPicture error_picture(nn::Sequential& model, nn::Sequential& int8, nn::Sequential& int4_minmax);

// The calibration histogram of the inputs of layer "2" over `calib` and the range the histogram
// observer chose for uint8.
ActivationPicture activation_picture(nn::Sequential& model, const std::vector<Tensor>& calib);

}  // namespace tinyml::cli::demo
