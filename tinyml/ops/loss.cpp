// Losses: cross-entropy fused with log-softmax, NLL, MSE, BCE-with-logits.
#include <cmath>

#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml {

using autograd::Node;
using autograd::OpArgs;
using autograd::record;

namespace {
// Validates integer class labels in [0, C) and returns them as indices.
std::vector<int64_t> class_indices(const Tensor& targets, const Tensor& input, const char* fn) {
  const int64_t n = input.shape()[0], c = input.shape()[1];
  TINYML_CHECK(targets.dim() == 1 && targets.shape()[0] == n,
               "{}: targets must have shape [{}] (one class index per row of the input of shape {}), got {}",
               fn, n, shape_str(input.shape()), shape_str(targets.shape()));
  const auto v = targets.to_vector();
  std::vector<int64_t> idx(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float t = v[i];
    TINYML_CHECK(std::isfinite(t) && t == std::floor(t) && t >= 0 && t < static_cast<float>(c),
                 "{}: target {} at position {} is not a class index in [0, {})", fn, t, i, c);
    idx[i] = static_cast<int64_t>(t);
  }
  return idx;
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  // BEGIN SOLUTION 04: cross_entropy: mean -log_softmax[t], backward (softmax - onehot) / N
  TINYML_CHECK(logits.defined() && targets.defined(), "cross_entropy: an input is undefined");
  TINYML_CHECK(logits.dim() == 2, "cross_entropy: logits must be (N, C), got {}", shape_str(logits.shape()));
  const int64_t n = logits.shape()[0], c = logits.shape()[1];
  TINYML_CHECK(
      n > 0 && c > 0,
      "cross_entropy: empty logits of shape {} (no rows or no classes); expected (N, C) with N >= 1 and "
      "C >= 1: the mean over an empty batch is undefined",
      shape_str(logits.shape()));
  const auto idx = class_indices(targets, logits, "cross_entropy");
  // log p = x − logsumexp(x), computed once; the softmax is kept for backward.
  const Tensor logp = log_softmax(logits.detach(), 1);
  const float* lp = logp.data();
  double loss = 0.0;
  for (int64_t i = 0; i < n; ++i) loss -= lp[i * c + idx[static_cast<size_t>(i)]];
  Tensor out = Tensor::scalar(static_cast<float>(loss / static_cast<double>(n)));
  return record(
      out, "NllLossBackward0", {logits},
      [](Node& node, const Tensor& g) {
        const Tensor& lp = node.saved[0];
        const int64_t n = lp.shape()[0], c = lp.shape()[1];
        const float scale = g.item() / static_cast<float>(n);
        Tensor grad = Tensor::empty({n, c});
        float* pg = grad.data();
        const float* pl = lp.data();
        for (int64_t i = 0; i < n * c; ++i) pg[i] = std::exp(pl[i]) * scale;  // softmax / N
        for (int64_t i = 0; i < n; ++i) pg[i * c + node.args.ints[static_cast<size_t>(i)]] -= scale;
        return std::vector<Tensor>{grad};
      },
      {logp}, OpArgs::list(idx));
  // END SOLUTION
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& targets) {
  TINYML_CHECK(log_probs.defined() && targets.defined(), "nll_loss: an input is undefined");
  TINYML_CHECK(log_probs.dim() == 2, "nll_loss: input must be (N, C), got {}", shape_str(log_probs.shape()));
  const int64_t n = log_probs.shape()[0], c = log_probs.shape()[1];
  TINYML_CHECK(
      n > 0 && c > 0,
      "nll_loss: empty input of shape {} (no rows or no classes); expected (N, C) with N >= 1 and C >= 1: "
      "the mean over an empty batch is undefined",
      shape_str(log_probs.shape()));
  const auto idx = class_indices(targets, log_probs, "nll_loss");
  double loss = 0.0;
  for (int64_t i = 0; i < n; ++i) loss -= log_probs.at({i, idx[static_cast<size_t>(i)]});
  Tensor out = Tensor::scalar(static_cast<float>(loss / static_cast<double>(n)));
  return record(
      out, "NllLossBackward0", {log_probs},
      [](Node& node, const Tensor& g) {
        const Tensor& in = node.inputs[0];
        const int64_t n = in.shape()[0];
        Tensor grad = Tensor::zeros(in.shape());
        for (int64_t i = 0; i < n; ++i)
          grad.set({i, node.args.ints[static_cast<size_t>(i)]}, -g.item() / static_cast<float>(n));
        return std::vector<Tensor>{grad};
      },
      {}, OpArgs::list(idx));
}

Tensor mse_loss(const Tensor& input, const Tensor& target) {
  // BEGIN SOLUTION 04: mse_loss: check the shapes, then mean((input - target)^2)
  TINYML_CHECK(input.defined() && target.defined(), "mse_loss: an input is undefined");
  TINYML_CHECK(input.shape() == target.shape(), "mse_loss: input shape {} differs from target shape {}",
               shape_str(input.shape()), shape_str(target.shape()));
  TINYML_CHECK(
      input.numel() > 0,
      "mse_loss: empty input of shape {}; expected at least one element: the mean over zero elements is "
      "undefined",
      shape_str(input.shape()));
  return mean(pow(sub(input, target), 2.0f));
  // END SOLUTION
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target) {
  // BEGIN SOLUTION 04: binary_cross_entropy_with_logits: stable mean loss and its backward
  TINYML_CHECK(logits.defined() && target.defined(),
               "binary_cross_entropy_with_logits: an input is undefined");
  TINYML_CHECK(logits.shape() == target.shape(),
               "binary_cross_entropy_with_logits: logits shape {} differs from target shape {}",
               shape_str(logits.shape()), shape_str(target.shape()));
  TINYML_CHECK(
      logits.numel() > 0,
      "binary_cross_entropy_with_logits: empty logits of shape {}; expected at least one element: the mean "
      "over zero elements is undefined",
      shape_str(logits.shape()));
  const auto x = logits.to_vector();
  const auto t = target.to_vector();
  double loss = 0.0;
  for (size_t i = 0; i < x.size(); ++i)  // max(x,0) − x·t + log(1 + e^{−|x|}): stable for any x
    loss += std::max(x[i], 0.0f) - x[i] * t[i] + std::log1p(std::exp(-std::fabs(x[i])));
  Tensor out = Tensor::scalar(static_cast<float>(loss / static_cast<double>(x.size())));
  return record(out, "BinaryCrossEntropyWithLogitsBackward0", {logits, target},
                [](Node& node, const Tensor& g) {
                  const Tensor& x = node.inputs[0];
                  const Tensor& t = node.inputs[1];
                  const float scale = g.item() / static_cast<float>(x.numel());
                  // d/dx = (σ(x) − t)/N ; d/dt = −x/N
                  return std::vector<Tensor>{
                      x.requires_grad() ? mul(sub(sigmoid(x), t), Tensor::scalar(scale)) : Tensor(),
                      t.requires_grad() ? mul(neg(x), Tensor::scalar(scale)) : Tensor()};
                });
  // END SOLUTION
}

}  // namespace tinyml
