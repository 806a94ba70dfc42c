// Quick start: a two-layer MLP learns three interleaved spirals.
#include "tinyml/data/data.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
using namespace tinyml;
int main() {
  manual_seed(0);  // the data and the initial weights are drawn from this seed
  data::TensorDataset spirals = data::spirals(/*n_per_class=*/200, /*n_classes=*/3, /*noise=*/0.1f);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(2, 64), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(64, 3));
  optim::Adam adam(model->parameters(), {.lr = 1e-2});
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    nn::CrossEntropyLoss()((*model)(spirals.data()), spirals.targets()).backward();
    adam.step();
  }
  Tensor predicted = (*model)(spirals.data()).argmax(1);
  fmt::print("accuracy: {:.1f}%\n", 100.0f * eq(predicted, spirals.targets()).mean().item());
}
