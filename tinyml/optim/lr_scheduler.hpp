// Learning-rate schedulers: StepLR (decay by gamma every step_size epochs).
#pragma once

#include <cstdint>

#include "tinyml/optim/optimizer.hpp"

namespace tinyml::optim {

// Holds a reference to the optimizer, which must outlive the scheduler. As in PyTorch, call
// step() once per epoch, after the optimizer's steps of that epoch.
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and writes the new rate into the optimizer.
  void step();
  // The rate set by the last step() (or the initial one).
  double get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  double base_lr() const { return base_lr_; }

 protected:
  // The rate for epoch last_epoch(), given the rate of the previous epoch.
  virtual double next_lr(double current_lr) const = 0;
  Optimizer& optimizer_;

 private:
  double base_lr_;
  double last_lr_;
  int64_t last_epoch_ = 0;
};

// lr = base_lr · gamma^⌊epoch / step_size⌋, applied as a multiplication by gamma every
// step_size epochs (PyTorch's chainable form, so a rate changed by hand is decayed from there).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  int64_t step_size() const { return step_size_; }
  double gamma() const { return gamma_; }

 protected:
  double next_lr(double current_lr) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

}  // namespace tinyml::optim
