// A user-defined Module: its own parameter, a child module, and a forward hook that reports
// activation statistics while a forward and backward pass run.
#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

// x + gate ⊙ relu(W·x + b): a residual block whose per-feature gate is learned. A small initial
// gate keeps the block close to the identity, so a deep stack of them starts out stable.
class GatedResidual : public nn::Module {
 public:
  GatedResidual(int64_t features, Generator& gen) : features_(features) {
    // Registered parameters and children are what parameters(), state_dict() and repr() see.
    fc = register_module("fc", std::make_shared<nn::Linear>(features, features, true, gen));
    gate = register_parameter("gate", Tensor::full({features}, 0.1f));
  }

  Tensor forward(const Tensor& x) override { return x + gate * relu((*fc)(x)); }
  std::string type_name() const override { return "GatedResidual"; }
  std::string extra_repr() const override { return fmt::format("features={}", features_); }

  std::shared_ptr<nn::Linear> fc;
  Tensor gate;

 private:
  int64_t features_;
};

int main() {
  Generator gen(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(4, 16, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<GatedResidual>(16, gen), std::make_shared<nn::Linear>(16, 3, true, gen));
  fmt::print("{}\n", model->repr());
  for (const auto& [name, p] : model->named_parameters())
    fmt::print("  {:<10} {}\n", name, shape_str(p.shape()));

  // A hook sees every module's input and output; returning nothing leaves the output unchanged.
  std::vector<nn::HookHandle> hooks;
  for (const auto& [name, child] : model->named_children()) {
    hooks.push_back(
        child->register_forward_hook([label = name](nn::Module& m, const Tensor&, const Tensor& out) {
          const float mean = out.mean().item();
          const float stddev = std::sqrt((out - mean).pow(2.0f).mean().item());
          const float zeros = eq(out, Tensor::zeros(out.shape())).mean().item();
          fmt::print("hook {} ({}): shape {} mean {:+.4f} std {:.4f} min {:+.4f} max {:+.4f} zeros {:.0f}%\n",
                     label, m.type_name(), shape_str(out.shape()), mean, stddev, out.min().item(),
                     out.max().item(), 100.0f * zeros);
        }));
  }

  const Tensor x = Tensor::randn({8, 4}, gen);
  const Tensor target = Tensor({0, 1, 2, 0, 1, 2, 0, 1});
  Tensor loss = nn::CrossEntropyLoss()((*model)(x), target);
  loss.backward();
  fmt::print("loss {:.4f}\n", loss.item());
  for (const auto& [name, p] : model->named_parameters())
    fmt::print("  grad {:<10} norm {:.6f}\n", name, std::sqrt(p.grad().pow(2.0f).sum().item()));

  for (nn::HookHandle& h : hooks) h.remove();
  (*model)(x);  // silent now: the hooks are gone
  fmt::print("hooks attached after remove(): {}\n", model->at<GatedResidual>(2)->num_forward_hooks());
  return 0;
}
