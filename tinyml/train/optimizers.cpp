#include "tinyml/train/optimizers.hpp"

#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/optim/adam.hpp"
#include "tinyml/optim/sgd.hpp"

namespace tinyml::train {

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                                 double lr, double momentum) {
  if (name == "adam") return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{.lr = lr});
  if (name == "sgd")
    return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions{.lr = lr, .momentum = momentum});
  TINYML_CHECK(false, "unknown optimizer '{}'; expected adam or sgd", name);
  return nullptr;
}

}  // namespace tinyml::train
