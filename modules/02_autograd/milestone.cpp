// Milestone 02: linear regression with tensors and backward() alone — no layers, no optimizer.
#include <fmt/format.h>

#include <cmath>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

int main() {
  Generator gen(0);
  const Tensor x = Tensor::randn({200, 1}, gen);
  const Tensor y = x * 3.0f + 2.0f + Tensor::randn({200, 1}, gen) * 0.1f;  // y = 3x + 2 + noise

  Tensor w = Tensor::zeros({1});
  Tensor b = Tensor::zeros({1});
  w.requires_grad_();
  b.requires_grad_();
  const float lr = 0.1f;
  for (int step = 0; step <= 100; ++step) {
    const Tensor err = x * w + b - y;
    const Tensor loss = (err * err).mean();
    loss.backward();
    {
      NoGradGuard no_grad;  // the update itself must not become part of the next graph
      w.add_(w.grad(), -lr);
      b.add_(b.grad(), -lr);
    }
    w.zero_grad();
    b.zero_grad();
    if (step % 20 == 0)
      fmt::print("step {:3}  loss {:.5f}  w {:.4f}  b {:.4f}\n", step, loss.item(), w.item(), b.item());
  }
  fmt::print("fitted y = {:.3f}·x + {:.3f}  (the data came from y = 3x + 2)\n", w.item(), b.item());
  return std::abs(w.item() - 3.0f) < 0.05f && std::abs(b.item() - 2.0f) < 0.05f ? 0 : 1;
}
