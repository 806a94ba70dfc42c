// Milestone 06: train the 784-256-128-10 MLP on Fashion-MNIST with Adam and report test accuracy.
#include <chrono>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"

using namespace tinyml;

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (!data::FashionMNIST::available()) {
    fmt::print(stderr, "Fashion-MNIST not found in {}: install dataset-fashion-mnist or set TINYML_FASHION_MNIST_DIR\n",
               data::FashionMNIST::default_root());
    return 1;
  }
  const auto limit = quick ? std::optional<size_t>(5000) : std::nullopt;
  auto train = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), true, limit);
  const data::FashionMNIST test(data::FashionMNIST::default_root(), false, quick ? std::optional<size_t>(2000) : std::nullopt);
  fmt::print("Fashion-MNIST: {} training and {} test images\n", train->size(), test.size());

  Generator gen(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(784, 256, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(256, 128, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(128, 10, true, gen));
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
  const nn::CrossEntropyLoss loss_fn;

  std::vector<size_t> all(test.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const data::Batch test_batch = test.get_batch(all);
  float acc = 0.0f;
  const int epochs = quick ? 1 : 5;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    model->train();
    double total = 0.0;
    size_t steps = 0;
    for (const data::Batch& batch : loader) {
      opt.zero_grad();
      const Tensor loss = loss_fn((*model)(batch.data), batch.target);
      loss.backward();
      opt.step();
      total += loss.item();
      ++steps;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model->eval();
    {
      NoGradGuard no_grad;
      acc = eq(argmax((*model)(test_batch.data), 1), test_batch.target).mean().item();
    }
    fmt::print("epoch {}  loss {:.4f}  test accuracy {:.2f}%  {:.2f} s\n", epoch, total / static_cast<double>(steps),
               100.0f * acc, seconds);
  }
  return acc > (quick ? 0.7f : 0.85f) ? 0 : 1;
}
