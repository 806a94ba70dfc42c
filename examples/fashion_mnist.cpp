// Fashion-MNIST: the reference workload (MLP 784-256-128-10, Adam 1e-3, batch 128) in plain user code.
// Usage: fashion_mnist [epochs (default 5)] [training images (default all 60000)]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"

using namespace tinyml;

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 5;
  const long limit = argc > 2 ? std::atol(argv[2]) : 0;
  if (epochs < 0 || limit < 0) {
    fmt::print(stderr, "usage: fashion_mnist [epochs >= 0] [training images > 0]\n");
    return 2;
  }
  try {
    manual_seed(0);
    // Reads /usr/share/datasets/fashion-mnist (or $TINYML_FASHION_MNIST_DIR); pixels become [0, 1].
    auto train =
        std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), /*train=*/true,
                                             limit > 0 ? std::optional<size_t>(limit) : std::nullopt);
    auto test = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), /*train=*/false);
    data::DataLoader train_loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
    data::DataLoader test_loader(test, {.batch_size = 1000});

    auto model =
        std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(784, 256), std::make_shared<nn::ReLU>(),
                                         std::make_shared<nn::Linear>(256, 128), std::make_shared<nn::ReLU>(),
                                         std::make_shared<nn::Linear>(128, 10));
    optim::Adam optimizer(model->parameters(), {.lr = 1e-3});
    nn::CrossEntropyLoss criterion;
    fmt::print("{} training images, {} test images\n{}\n", train->size(), test->size(), model->repr());

    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      model->train();
      double loss_sum = 0.0;
      for (const data::Batch& batch : train_loader) {
        optimizer.zero_grad();
        Tensor loss = criterion((*model)(batch.data), batch.target);
        loss.backward();
        optimizer.step();
        loss_sum += loss.item() * static_cast<double>(batch.data.size(0));
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      fmt::print("epoch {}  loss {:.4f}  {:.2f} s\n", epoch, loss_sum / static_cast<double>(train->size()),
                 took.count());
    }

    model->eval();
    NoGradGuard no_grad;  // inference: no graph is recorded
    double correct = 0.0;
    for (const data::Batch& batch : test_loader)
      correct += eq((*model)(batch.data).argmax(1), batch.target).sum().item();
    fmt::print("test accuracy: {:.2f}%\n", 100.0 * correct / static_cast<double>(test->size()));
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
