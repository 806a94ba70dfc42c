// gradcheck: compares autograd gradients with central differences, as torch.autograd.gradcheck.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml {

struct GradcheckOptions {
  double eps = 1e-3;  // finite-difference step (float32 inputs: 1e-3 balances truncation vs rounding)
  double atol = 1e-3;
  double rtol = 1e-2;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string message;  // the first mismatch: input, element, analytic vs numeric
};

// `fn` maps the inputs to a tensor; the check differentiates sum(fn(inputs) * r) for a fixed
// random r, so every output element takes part. Inputs that require grad are checked.
// Differences are computed in double from float evaluations.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace tinyml
