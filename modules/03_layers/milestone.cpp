// Milestone 03: the Fashion-MNIST MLP — its structure, parameter count, and hooks watching a forward pass.
#include <fmt/format.h>

#include <memory>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"

using namespace tinyml;

int main() {
  Generator gen(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(784, 256, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(256, 128, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(128, 10, true, gen));
  fmt::print("{}\n", model->repr());
  int64_t count = 0;
  for (const auto& [name, p] : model->named_parameters()) {
    fmt::print("  {:<10} {}\n", name, shape_str(p.shape()));
    count += p.numel();
  }
  fmt::print("{} parameters\n\n", count);

  std::vector<nn::HookHandle> hooks;
  for (const auto& [name, m] : model->named_modules()) {
    if (m->type_name() != "Linear") continue;
    hooks.push_back(m->register_forward_hook([name = name](nn::Module&, const Tensor&, const Tensor& out) {
      fmt::print("layer {}: output {} mean {:+.4f}\n", name, shape_str(out.shape()), out.mean().item());
    }));
  }
  const Tensor logits = (*model)(Tensor::rand({32, 784}, gen));
  for (auto& h : hooks) h.remove();
  size_t attached = 0;
  for (const auto& [name, m] : model->named_modules()) attached += m->num_forward_hooks();
  fmt::print("\nlogits {}; hooks still attached after remove(): {}\n", shape_str(logits.shape()), attached);
  return count == 235146 ? 0 : 1;
}
