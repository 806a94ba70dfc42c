#include "tinyml/optim/sgd.hpp"

#include <cmath>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml::optim {

namespace {

SGDOptions checked(const SGDOptions& o) {
  auto ok = [](double v) { return std::isfinite(v) && v >= 0.0; };
  TINYML_CHECK(ok(o.momentum), "SGD: momentum must be finite and >= 0, got {}", o.momentum);
  TINYML_CHECK(ok(o.dampening), "SGD: dampening must be finite and >= 0, got {}", o.dampening);
  TINYML_CHECK(ok(o.weight_decay), "SGD: weight_decay must be finite and >= 0, got {}", o.weight_decay);
  TINYML_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0),
               "SGD: Nesterov momentum requires momentum > 0 and dampening == 0, got momentum = {}, "
               "dampening = {}",
               o.momentum, o.dampening);
  return o;
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params), options.lr),
      options_(checked(options)),
      momentum_buffers_(params_.size()) {}

const Tensor& SGD::momentum_buffer(size_t i) const {
  TINYML_CHECK(i < momentum_buffers_.size(), "SGD::momentum_buffer: index {} out of range for {} parameters",
               i, momentum_buffers_.size());
  return momentum_buffers_[i];
}

void SGD::step() {
  // BEGIN SOLUTION 05: SGD::step: weight decay, momentum (first step: d), Nesterov, p -= lr * d
  NoGradGuard no_grad;
  // Scalars in float, as PyTorch applies them to float32 tensors.
  const auto lr = static_cast<float>(lr_);
  const auto momentum = static_cast<float>(options_.momentum);
  const auto damp = static_cast<float>(1.0 - options_.dampening);
  const auto wd = static_cast<float>(options_.weight_decay);
  const bool nesterov = options_.nesterov;

  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor g_t = grad_of(i, "SGD::step");
    if (!g_t.defined()) continue;
    float* p = params_[i].data();
    const float* g = g_t.data();
    const int64_t n = params_[i].numel();

    if (options_.momentum == 0.0) {
      for (int64_t k = 0; k < n; ++k) p[k] -= lr * (wd != 0.0f ? g[k] + wd * p[k] : g[k]);
      continue;
    }
    Tensor& buf_t = momentum_buffers_[i];
    const bool first = !buf_t.defined();
    if (first) buf_t = Tensor::empty(params_[i].shape());
    float* b = buf_t.data();
    for (int64_t k = 0; k < n; ++k) {
      // The decay term is skipped, not multiplied by 0, so an inf parameter does not become NaN.
      float d = wd != 0.0f ? g[k] + wd * p[k] : g[k];
      b[k] = first ? d : momentum * b[k] + damp * d;
      d = nesterov ? d + momentum * b[k] : b[k];
      p[k] -= lr * d;
    }
  }
  // END SOLUTION
}

}  // namespace tinyml::optim
