// SGD: stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum.
#pragma once

#include "tinyml/optim/optimizer.hpp"

namespace tinyml::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // L2 penalty, added to the gradient
  bool nesterov = false;      // needs momentum > 0 and dampening == 0
};

// PyTorch's update, per parameter p with gradient g:
//   d = g + weight_decay · p
//   b = d on the first step, else b = momentum · b + (1 − dampening) · d
//   d = d + momentum · b (Nesterov) or d = b (momentum > 0)
//   p = p − lr · d
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  void step() override;
  const SGDOptions& options() const { return options_; }
  // The momentum buffer of parameter i (undefined before its first step or without momentum).
  const Tensor& momentum_buffer(size_t i) const;

 private:
  SGDOptions options_;
  std::vector<Tensor> momentum_buffers_;
};

}  // namespace tinyml::optim
