#include "tinyml/nn/loss.hpp"

#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml::nn {

namespace {

void need_both(const Tensor& input, const Tensor& target, const char* fn) {
  TINYML_CHECK(input.defined() && target.defined(), "{}: input and target must both be defined tensors", fn);
}

}  // namespace

Tensor CrossEntropyLoss::operator()(const Tensor& input, const Tensor& target) const {
  need_both(input, target, "CrossEntropyLoss");
  return cross_entropy(input, target);
}

Tensor MSELoss::operator()(const Tensor& input, const Tensor& target) const {
  need_both(input, target, "MSELoss");
  return mse_loss(input, target);
}

Tensor BCEWithLogitsLoss::operator()(const Tensor& input, const Tensor& target) const {
  need_both(input, target, "BCEWithLogitsLoss");
  return binary_cross_entropy_with_logits(input, target);
}

}  // namespace tinyml::nn
