// Loss functions as callables: loss(input, target) → scalar tensor, mean over the batch.
#pragma once

#include "tinyml/core/tensor.hpp"

namespace tinyml::nn {

// Losses take two inputs, so they are plain function objects rather than Modules (a Module's
// forward takes one tensor); they hold no parameters.

// input: logits (N, C); target: (N) class indices stored as floats in [0, C).
// mean over i of logsumexp(input[i]) − input[i, target[i]].
class CrossEntropyLoss {
 public:
  Tensor operator()(const Tensor& input, const Tensor& target) const;
};

// mean((input − target)²) over every element; shapes must match.
class MSELoss {
 public:
  Tensor operator()(const Tensor& input, const Tensor& target) const;
};

// input: logits, target: probabilities in [0, 1] of the same shape;
// mean of −[t·log σ(x) + (1 − t)·log(1 − σ(x))], computed without overflow for large |x|.
class BCEWithLogitsLoss {
 public:
  Tensor operator()(const Tensor& input, const Tensor& target) const;
};

}  // namespace tinyml::nn
