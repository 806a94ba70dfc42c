// Adam and AdamW: adaptive moment estimation, with L2 (Adam) or decoupled (AdamW) weight decay.
#pragma once

#include <cstdint>

#include "tinyml/optim/optimizer.hpp"

namespace tinyml::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;  // use the running maximum of v (Reddi et al. 2018)
};

// PyTorch 1.13's update, per parameter p with gradient g at its step t = 1, 2, ...:
//   g = g + weight_decay · p                          (Adam; AdamW instead scales p by 1 − lr·wd)
//   m = β1·m + (1 − β1)·g,  v = β2·v + (1 − β2)·g²    (v_max = max(v_max, v) with amsgrad)
//   step_size = lr / (1 − β1ᵗ)
//   p = p − step_size · m / (√v / √(1 − β2ᵗ) + eps)
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  void step() override;
  const AdamOptions& options() const { return options_; }
  // Steps taken by parameter i (a parameter without a gradient does not advance).
  int64_t step_count(size_t i) const;
  // First and second moment of parameter i (undefined before its first step).
  const Tensor& exp_avg(size_t i) const;
  const Tensor& exp_avg_sq(size_t i) const;

 protected:
  Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled, const char* name);

 private:
  struct State {
    int64_t step = 0;
    Tensor exp_avg;
    Tensor exp_avg_sq;
    Tensor max_exp_avg_sq;  // amsgrad only
  };
  const State& state(size_t i, const char* fn) const;

  AdamOptions options_;
  bool decoupled_;  // AdamW
  const char* name_;
  std::vector<State> state_;
};

// AdamW (Loshchilov & Hutter 2019): weight decay applied to the parameter, not the gradient, so
// it is not rescaled by the adaptive denominator. PyTorch's default weight_decay is 0.01.
class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, AdamOptions options = {.weight_decay = 0.01});
};

}  // namespace tinyml::optim
