// Optimizer: the base of SGD and Adam — the parameters to update, the learning rate, zero_grad().
#pragma once

#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml::optim {

// Holds handles to the parameters (so the module's tensors are updated in place). Every
// parameter must be a contiguous leaf that requires grad, and appear once: step() updates each
// with one loop over its raw floats.
class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Drops every parameter's gradient (the next backward starts from nothing).
  void zero_grad();
  // One update from the current gradients; parameters without a gradient are left alone.
  virtual void step() = 0;

  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  // The gradient of params_[i] as a contiguous tensor of the parameter's shape, or undefined.
  Tensor grad_of(size_t i, const char* fn) const;

  std::vector<Tensor> params_;
  double lr_;
};

}  // namespace tinyml::optim
