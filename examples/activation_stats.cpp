// Looking inside a model with forward hooks: per-layer activation statistics collected by hand,
// then the same measurement done by quant::calibrate, which is built on the same hooks.
// Usage: activation_stats [training steps (default 200)]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/quant/calibrate.hpp"

using namespace tinyml;

namespace {

// Statistics of every value a tensor has held over several batches: what a hook accumulates.
struct RunningStats {
  int64_t count = 0;
  int64_t zeros = 0;
  double sum = 0.0;
  double sum_sq = 0.0;
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();

  void add(const Tensor& t) {
    for (float v : t.to_vector()) {  // to_vector: a row-major copy, whatever the strides
      ++count;
      zeros += v == 0.0f;
      sum += v;
      sum_sq += static_cast<double>(v) * v;
      min = std::min(min, v);
      max = std::max(max, v);
    }
  }
  double mean() const { return sum / static_cast<double>(count); }
  double stddev() const {
    return std::sqrt(std::max(0.0, sum_sq / static_cast<double>(count) - mean() * mean()));
  }
};

// Hooks attached to every module of the tree (the root excepted), counted as the modules see them.
size_t hooks_attached(nn::Module& model) {
  size_t n = 0;
  for (const auto& [name, m] : model.named_modules()) n += m->num_forward_hooks();
  return n;
}

// Four Gaussian blobs in 8-D and a small classifier, trained for `steps` Adam steps so that its
// activations look like a trained model's rather than a random one's; `batches` gets four batches
// of 256 of the blobs, as a data loader would give them.
std::shared_ptr<nn::Sequential> trained_classifier(int steps, std::vector<Tensor>& batches) {
  Generator gen(0);
  const data::TensorDataset blobs = data::blobs(/*n=*/1024, /*centers=*/4, /*dim=*/8, /*stddev=*/2.0f, gen);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(8, 32, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(32, 32, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(32, 4, true, gen));
  optim::Adam adam(model->parameters(), {.lr = 1e-2});
  for (int step = 0; step < steps; ++step) {
    adam.zero_grad();
    nn::CrossEntropyLoss()((*model)(blobs.data()), blobs.targets()).backward();
    adam.step();
  }
  for (int64_t b = 0; b < 4; ++b) batches.push_back(blobs.data().narrow(0, 256 * b, 256));
  return model;
}

// 1. Hooks by hand. A forward hook sees the module, its input and its output after forward();
//    returning nothing keeps the output. The statistics live outside the hooks (in `outputs` and
//    the returned inputs), so they outlast them; the lambdas hold pointers into maps whose
//    elements never move. Prints the outputs' statistics; returns those of the Linear inputs.
std::map<std::string, RunningStats> stats_by_hand(nn::Sequential& model, const std::vector<Tensor>& batches) {
  std::map<std::string, RunningStats> outputs, inputs;
  std::vector<nn::HookHandle> handles;
  for (const auto& [name, module] : model.named_modules()) {
    if (name.empty()) continue;  // the Sequential itself: its output is its last child's
    RunningStats* out_stats = &outputs[name];
    RunningStats* in_stats = module->type_name() == "Linear" ? &inputs[name] : nullptr;
    handles.push_back(module->register_forward_hook(
        [out_stats, in_stats](nn::Module&, const Tensor& in, const Tensor& out) {
          out_stats->add(out);
          if (in_stats != nullptr) in_stats->add(in);
        }));
  }
  fmt::print("hooks attached: {}\n", hooks_attached(model));

  model.eval();
  {
    NoGradGuard no_grad;  // statistics only: no graph to record
    for (const Tensor& b : batches) model(b);
  }
  fmt::print("\noutputs of every module over {} batches\n", batches.size());
  fmt::print("{:<6} {:<8} {:>7} {:>10} {:>10} {:>10} {:>10} {:>7}\n", "module", "type", "count", "min", "max",
             "mean", "std", "zeros%");
  for (const auto& [name, m] : model.named_modules()) {
    if (name.empty()) continue;
    const RunningStats& s = outputs.at(name);
    fmt::print("{:<6} {:<8} {:>7} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>6.1f}%\n", name, m->type_name(),
               s.count, s.min, s.max, s.mean(), s.stddev(),
               100.0 * static_cast<double>(s.zeros) / static_cast<double>(s.count));
  }

  // Hooks are removed through their handles. A hook left attached would keep running (and keep
  // its captures alive) on every later forward.
  for (nn::HookHandle& h : handles) h.remove();
  fmt::print("\nhooks attached after remove(): {}\n", hooks_attached(model));
  return inputs;
}

// 2. quant::calibrate does the same with an observer per Linear input (here the histogram
//    observer, which also chooses the range an int8 quantizer should cover), and removes its
//    hooks itself, even when a forward throws. Both saw exactly the same values, so their ranges
//    and counts must agree with `inputs`.
void compare_with_calibrate(nn::Sequential& model, const std::vector<Tensor>& batches,
                            const std::map<std::string, RunningStats>& inputs) {
  const quant::CalibrationResult calib = quant::calibrate(model, batches);
  fmt::print("\nquant::calibrate, inputs of every Linear\n{}", calib.table());
  fmt::print("hooks attached after calibrate(): {}\n", hooks_attached(model));

  fmt::print("\ninputs of the Linear layers: hooks by hand vs calibrate\n");
  for (const auto& [name, s] : inputs) {
    const quant::LayerStats& c = calib.at(name);
    const bool agree = s.count == c.count && s.min == c.min && s.max == c.max;
    fmt::print("layer {}: hooks count {} [{:.4f}, {:.4f}], calibrate count {} [{:.4f}, {:.4f}]: {}\n", name,
               s.count, s.min, s.max, c.count, c.min, c.max, agree ? "agree" : "DIFFER");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 200;
  if (steps < 0) {
    fmt::print(stderr, "usage: activation_stats [training steps >= 0]\n");
    return 2;
  }
  try {
    std::vector<Tensor> batches;
    auto model = trained_classifier(steps, batches);
    const std::map<std::string, RunningStats> inputs = stats_by_hand(*model, batches);
    compare_with_calibrate(*model, batches, inputs);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
