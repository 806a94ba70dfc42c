#include "tinyml/optim/optimizer.hpp"

#include <cmath>
#include <set>

#include "tinyml/core/error.hpp"

namespace tinyml::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  TINYML_CHECK(!params_.empty(),
               "Optimizer: got an empty parameter list; expected at least one tensor to optimize (e.g. "
               "model.parameters() of a model that has parameters)");
  TINYML_CHECK(std::isfinite(lr) && lr >= 0.0, "Optimizer: learning rate must be finite and >= 0, got {}",
               lr);
  std::set<const TensorImpl*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    TINYML_CHECK(p.defined(), "Optimizer: parameter {} is undefined", i);
    TINYML_CHECK(p.requires_grad(), "Optimizer: parameter {} (shape {}) does not require grad", i,
                 shape_str(p.shape()));
    TINYML_CHECK(p.is_leaf(), "Optimizer: parameter {} (shape {}) is not a leaf tensor; optimize the leaves",
                 i, shape_str(p.shape()));
    TINYML_CHECK(p.is_contiguous(),
                 "Optimizer: parameter {} (shape {}, strides {}) is not contiguous; the update loops need "
                 "contiguous storage",
                 i, shape_str(p.shape()), shape_str(p.strides()));
    // A repeated parameter would be updated twice per step.
    TINYML_CHECK(seen.insert(p.impl().get()).second,
                 "Optimizer: parameter {} (shape {}) appears more than once", i, shape_str(p.shape()));
  }
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

void Optimizer::set_lr(double lr) {
  TINYML_CHECK(std::isfinite(lr) && lr >= 0.0,
               "Optimizer::set_lr: learning rate must be finite and >= 0, got {}", lr);
  lr_ = lr;
}

Tensor Optimizer::grad_of(size_t i, const char* fn) const {
  const Tensor& p = params_[i];
  Tensor g = p.grad();
  if (!g.defined()) return g;
  TINYML_CHECK(g.shape() == p.shape(), "{}: gradient of parameter {} has shape {}, parameter has shape {}",
               fn, i, shape_str(g.shape()), shape_str(p.shape()));
  // TensorImpl is open to everyone, so the layout checked at construction is checked again.
  TINYML_CHECK(p.is_contiguous(), "{}: parameter {} (shape {}) is no longer contiguous", fn, i,
               shape_str(p.shape()));
  return g.is_contiguous() ? g : g.contiguous();
}

}  // namespace tinyml::optim
