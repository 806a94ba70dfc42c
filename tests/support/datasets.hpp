// Test support: why a test that needs Fashion-MNIST skips (the files are not installed), said once.
#pragma once

#include <string>

#include "tinyml/data/fashion_mnist.hpp"

namespace tinyml_test {

// What a Fashion-MNIST test says when it skips: where it looked and how to get the data.
// scripts/setup.sh installs the package, so in CI these tests run.
inline std::string fashion_mnist_missing() {
  return "Fashion-MNIST is not in " + tinyml::data::FashionMNIST::default_root() +
         ": install the Debian package dataset-fashion-mnist (scripts/setup.sh does), or set "
         "TINYML_FASHION_MNIST_DIR";
}

}  // namespace tinyml_test
