// The "tiny" bench suite: one Adam step of the course's first models, where the cost is the framework.
//
// XOR: MLP 2-8-2 on the four points, batch 4, one pass of a shuffling DataLoader per step (as
// `tinyml train --dataset xor --batch 4` runs it). Spirals: MLP 2-64-64-3 on 600 points (3 arms of
// 200), the whole set as one batch (as examples/spirals.cpp trains). A step is zero_grad, forward,
// cross-entropy, backward and Adam's update; bench/compare_pytorch.py times the same in PyTorch.
#include <memory>
#include <vector>

#include "bench.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/optim/adam.hpp"

namespace tinyml::cli {

namespace {

// `layers` hidden Linear+ReLU pairs of width `hidden`, then a Linear to `out` logits.
std::shared_ptr<nn::Sequential> tiny_mlp(int64_t in, int64_t hidden, int64_t layers, int64_t out,
                                         Generator& gen) {
  auto model = std::make_shared<nn::Sequential>();
  int64_t width = in;
  for (int64_t i = 0; i < layers; ++i) {
    model->push_back(std::make_shared<nn::Linear>(width, hidden, true, gen));
    model->push_back(std::make_shared<nn::ReLU>());
    width = hidden;
  }
  model->push_back(std::make_shared<nn::Linear>(width, out, true, gen));
  return model;
}

// Microseconds per training step of `model` over the batches of `loader` (one pass per call).
BenchResult time_steps(const BenchOptions& o, const char* name, const char* note, nn::Sequential& model,
                       data::DataLoader& loader) {
  optim::Adam adam(model.parameters(), {.lr = 1e-2});
  const nn::CrossEntropyLoss loss_fn;
  size_t steps_per_pass = 0;
  const Timing t = time_calls(o, [&] {
    steps_per_pass = 0;
    for (const data::Batch& batch : loader) {
      adam.zero_grad();
      const Tensor loss = loss_fn(model(batch.data), batch.target);
      loss.backward();
      adam.step();
      ++steps_per_pass;
    }
  });
  const auto per_step = static_cast<double>(steps_per_pass);
  return BenchResult{.name = name,
                     .value = t.median_s / per_step * 1e6,
                     .unit = "us",
                     .note = note,
                     .best = t.min_s / per_step * 1e6,
                     .samples = t.calls};
}

std::vector<BenchResult> run_tiny(const BenchOptions& o) {
  std::vector<BenchResult> out;
  Generator gen(0);
  {
    const data::TensorDataset x = data::xor_dataset();
    auto xor4 = std::make_shared<data::TensorDataset>(x.data(), x.targets().reshape({4}));
    data::DataLoader loader(xor4, {.batch_size = 4, .shuffle = true, .seed = 0});
    auto model = tiny_mlp(2, 8, 1, 2, gen);
    out.push_back(time_steps(o, "tiny_xor_step", "Adam step of MLP 2-8-2 on XOR, batch 4, shuffling loader",
                             *model, loader));
  }
  {
    Generator data_gen(1);
    auto spirals = std::make_shared<data::TensorDataset>(data::spirals(200, 3, 0.2f, data_gen));
    data::DataLoader loader(spirals, {.batch_size = 600});
    auto model = tiny_mlp(2, 64, 2, 3, gen);
    out.push_back(time_steps(o, "tiny_spirals_step",
                             "Adam step of MLP 2-64-64-3 on 600 spiral points, one batch", *model, loader));
  }
  return out;
}

}  // namespace

BenchSuite tiny_bench_suite() {
  return {"tiny", "one Adam step of the XOR MLP 2-8-2 (batch 4) and the spirals MLP 2-64-64-3 (600 points)",
          run_tiny};
}

}  // namespace tinyml::cli
