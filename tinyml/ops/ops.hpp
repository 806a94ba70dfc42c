// The differentiable ops as free functions (the Tensor methods forward to these).
#pragma once

#include "tinyml/core/tensor.hpp"

namespace tinyml {

// ---- shape ----
// Broadcast shape of a and b under NumPy rules; throws naming `fn` and both shapes if incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* fn);
// Sums `grad` down to `shape` (the adjoint of broadcasting `shape` up to grad.shape()).
Tensor sum_to(const Tensor& grad, const Shape& shape);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);

// ---- elementwise ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient goes to a where a >= b
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor clamp(const Tensor& x, float lo, float hi);  // gradient 1 inside [lo, hi], 0 outside
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// Comparison masks (1.0 / 0.0), not differentiable.
Tensor gt(const Tensor& a, float b);
Tensor lt(const Tensor& a, float b);
Tensor eq(const Tensor& a, const Tensor& b);

// ---- reductions ----
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);

// ---- linear algebra ----
// 1-D·1-D, 2-D×2-D (sgemm), batched 3-D×3-D (and 3-D×2-D), like torch.matmul.
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x·wᵀ + b for x (N, in), w (out, in), b (out) or undefined; one sgemm, bias fused.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

// ---- losses (mean over the batch) ----
// logits (N, C), targets (N) holding class indices as floats in [0, C).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets);
Tensor mse_loss(const Tensor& input, const Tensor& target);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target);

// ---- misc ----
// Dropout: zeroes with probability p and scales the rest by 1/(1-p) (inverted dropout).
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen = default_generator());

}  // namespace tinyml
