#include "tinyml/optim/lr_scheduler.hpp"

#include <cmath>

#include "tinyml/core/error.hpp"

namespace tinyml::optim {

LRScheduler::LRScheduler(Optimizer& optimizer)
    : optimizer_(optimizer), base_lr_(optimizer.lr()), last_lr_(optimizer.lr()) {}

void LRScheduler::step() {
  ++last_epoch_;
  last_lr_ = next_lr(optimizer_.lr());
  optimizer_.set_lr(last_lr_);
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  TINYML_CHECK(step_size > 0, "StepLR: step_size must be > 0, got {}", step_size);
  TINYML_CHECK(std::isfinite(gamma) && gamma >= 0.0, "StepLR: gamma must be finite and >= 0, got {}", gamma);
}

double StepLR::next_lr(double current_lr) const {
  return last_epoch() % step_size_ == 0 ? current_lr * gamma_ : current_lr;
}

}  // namespace tinyml::optim
