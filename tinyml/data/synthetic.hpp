// Small synthetic datasets for examples and tests: XOR, interleaved spirals, Gaussian blobs.
#pragma once

#include <cstdint>

#include "tinyml/core/random.hpp"
#include "tinyml/data/dataset.hpp"

namespace tinyml::data {

// The four XOR points: data (4, 2) = (0,0), (0,1), (1,0), (1,1); targets (4, 1) = 0, 1, 1, 0 as
// float, the shape binary_cross_entropy_with_logits expects for a one-output model.
TensorDataset xor_dataset();

// `n_classes` spiral arms of `n_per_class` points each in 2-D (class-major order). Arm c starts at
// angle 2π·c / n_classes and turns 4 radians while its radius grows from 0 to 1; `noise` is the
// standard deviation of the angle jitter in radians. data (n_per_class · n_classes, 2), targets
// (n_per_class · n_classes) class indices as float.
TensorDataset spirals(int64_t n_per_class, int64_t n_classes, float noise,
                      Generator& gen = default_generator());

// `n` points around `centers` centres drawn uniformly from [-10, 10]^dim; point i belongs to class
// i mod centers (so class sizes differ by at most one) and is its centre plus N(0, stddev²) noise
// per coordinate. data (n, dim), targets (n) class indices as float.
TensorDataset blobs(int64_t n, int64_t centers, int64_t dim, float stddev,
                    Generator& gen = default_generator());

}  // namespace tinyml::data
