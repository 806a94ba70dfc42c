// Parameter initialisation (tinyml::nn::init): PyTorch's torch.nn.init formulas, seeded, in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"

namespace tinyml::nn::init {

// Tensors are taken by value (a handle) so that views and temporaries can be filled; the values
// are written through to the shared storage and the same handle is returned. Every function
// runs under NoGradGuard, so it may fill parameters that require grad. Random values are drawn
// in row-major order, so a seed gives the same tensor whatever its memory layout.

// (fan_in, fan_out) of a weight of at least 2 dimensions: fan_in = size(1) · receptive field,
// fan_out = size(0) · receptive field, where the receptive field is the product of dims 2...
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

// The recommended gain for a nonlinearity: "linear", "conv1d/2d/3d", "conv_transpose1d/2d/3d",
// "sigmoid" → 1; "tanh" → 5/3; "relu" → √2; "leaky_relu" → √(2 / (1 + slope²)) with the slope
// `param` (default 0.01); "selu" → 3/4.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);

Tensor uniform_(Tensor tensor, double a = 0.0, double b = 1.0, Generator& gen = default_generator());
Tensor normal_(Tensor tensor, double mean = 0.0, double stddev = 1.0, Generator& gen = default_generator());
Tensor constant_(Tensor tensor, double value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

// He et al. (2015). std = gain / √fan with gain = calculate_gain(nonlinearity, a) and fan the
// fan_in or fan_out of `mode` ("fan_in" keeps the forward variance, "fan_out" the backward one).
// The uniform variant draws from U(−√3·std, √3·std), which has that standard deviation.
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());

// Glorot & Bengio (2010). std = gain · √(2 / (fan_in + fan_out)); uniform bound √3·std.
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0, Generator& gen = default_generator());
Tensor xavier_normal_(Tensor tensor, double gain = 1.0, Generator& gen = default_generator());

}  // namespace tinyml::nn::init
