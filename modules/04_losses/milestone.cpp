// Milestone 04: logistic regression by hand — cross-entropy on three blobs, gradient steps written out.
#include <fmt/format.h>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

int main() {
  Generator gen(1);
  const data::TensorDataset blobs = data::blobs(300, 3, 2, 1.5f, gen);
  const Tensor& x = blobs.data();     // (300, 2)
  const Tensor& y = blobs.targets();  // (300) class indices
  Tensor w = Tensor::zeros({2, 3});
  Tensor b = Tensor::zeros({3});
  w.requires_grad_();
  b.requires_grad_();
  const float lr = 0.05f;
  float loss_value = 0.0f;
  for (int step = 0; step <= 300; ++step) {
    const Tensor loss = cross_entropy(matmul(x, w) + b, y);
    loss_value = loss.item();
    loss.backward();
    {
      NoGradGuard no_grad;
      w.add_(w.grad(), -lr);
      b.add_(b.grad(), -lr);
    }
    w.zero_grad();
    b.zero_grad();
    if (step % 50 == 0) fmt::print("step {:3}  cross-entropy {:.4f}\n", step, loss_value);
  }
  const Tensor pred = argmax(matmul(x, w) + b, 1);
  const float accuracy = eq(pred, y).mean().item();
  fmt::print("training accuracy {:.1f}% (chance: 33.3%)\n", 100.0f * accuracy);
  return accuracy > 0.8f ? 0 : 1;
}
