// Built against an installed tinyml: one Linear forward, printed.
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"

int main() {
  tinyml::nn::Linear layer(3, 2);
  fmt::print("{}\n", tinyml::shape_str(layer(tinyml::Tensor::ones({4, 3})).shape()));
}
