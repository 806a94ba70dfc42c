// Milestone 05: XOR — a 2-8-1 MLP and Adam learn what no single linear layer can.
#include <fmt/format.h>

#include <memory>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"

using namespace tinyml;

int main() {
  Generator gen(0);
  const data::TensorDataset xor_data = data::xor_dataset();
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 8, true, gen),
                                                std::make_shared<nn::Tanh>(),
                                                std::make_shared<nn::Linear>(8, 1, true, gen));
  optim::Adam opt(model->parameters(), {.lr = 0.05});
  const nn::BCEWithLogitsLoss bce;
  int solved_at = -1;
  for (int epoch = 1; epoch <= 2000 && solved_at < 0; ++epoch) {
    opt.zero_grad();
    const Tensor logits = (*model)(xor_data.data());
    const Tensor loss = bce(logits, xor_data.targets());
    loss.backward();
    opt.step();
    // Solved: every point on the right side, each with probability at least 0.9 (logit ±2.2).
    const Tensor margin = (logits.detach() * (xor_data.targets() * 2.0f - 1.0f)).min();
    if (epoch % 100 == 0) fmt::print("epoch {:4}  loss {:.4f}\n", epoch, loss.item());
    if (margin.item() > 2.2f) solved_at = epoch;
  }
  NoGradGuard no_grad;
  const Tensor p = (*model)(xor_data.data()).sigmoid();
  for (int64_t i = 0; i < 4; ++i)
    fmt::print("  {} xor {} -> {:.3f}\n", xor_data.data().at({i, 0}), xor_data.data().at({i, 1}),
               p.at({i, 0}));
  if (solved_at > 0)
    fmt::print("solved after {} epochs\n", solved_at);
  else
    fmt::print("not solved in 2000 epochs\n");
  return solved_at > 0 ? 0 : 1;
}
