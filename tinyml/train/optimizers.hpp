// Optimizers by name, as a command line or a configuration file names them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/optim/optimizer.hpp"

namespace tinyml::train {

// Builds "adam" (lr; betas and eps at PyTorch's defaults) or "sgd" (lr, momentum) over `params`.
// Throws tinyml::Error for any other name.
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                                 double lr, double momentum);

}  // namespace tinyml::train
