// XOR: the smallest problem a linear model cannot solve, learned by a 2-4-1 MLP with tanh.
// Prints the four predictions; exits with status 1 unless all four are right.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/optim/optim.hpp"

using namespace tinyml;

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 500;
  if (steps <= 0) {
    fmt::print(stderr, "usage: xor [steps > 0]\n");
    return 2;
  }
  manual_seed(0);
  const data::TensorDataset xor_data = data::xor_dataset();  // inputs (4, 2), targets (4, 1)
  const Tensor& x = xor_data.data();
  const Tensor& y = xor_data.targets();

  // One output logit; the loss applies the sigmoid itself, which is exact where sigmoid saturates.
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(2, 4), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(4, 1));
  optim::SGD sgd(model->parameters(), {.lr = 0.5, .momentum = 0.9});
  nn::BCEWithLogitsLoss loss_fn;

  for (int step = 1; step <= steps; ++step) {
    sgd.zero_grad();
    Tensor loss = loss_fn((*model)(x), y);
    loss.backward();
    sgd.step();
    if (step % (steps / 5 > 0 ? steps / 5 : 1) == 0)
      fmt::print("step {:4d}  loss {:.5f}\n", step, loss.item());
  }

  NoGradGuard no_grad;
  const Tensor p = (*model)(x).sigmoid();
  int correct = 0;
  for (int64_t i = 0; i < 4; ++i) {
    const int predicted = p.at({i, 0}) > 0.5f ? 1 : 0;
    const int target = static_cast<int>(y.at({i, 0}));
    correct += predicted == target;
    fmt::print("{} xor {} -> p = {:.4f}  predicted {}  target {}\n", x.at({i, 0}), x.at({i, 1}), p.at({i, 0}),
               predicted, target);
  }
  fmt::print("accuracy: {}/4\n", correct);
  return correct == 4 ? 0 : 1;
}
