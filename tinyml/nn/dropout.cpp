#include "tinyml/nn/dropout.hpp"

#include <cmath>

#include "tinyml/ops/ops.hpp"

namespace tinyml::nn {

namespace {

float checked_p(float p) {
  TINYML_CHECK(p >= 0.0f && p <= 1.0f, "Dropout: probability p must be in [0, 1], got {}", p);
  return p;
}

}  // namespace

Dropout::Dropout(float p) : p_(checked_p(p)), gen_(&default_generator()) {}
Dropout::Dropout(float p, uint64_t seed) : p_(checked_p(p)), own_(seed), gen_(&own_) {}
Dropout::Dropout(float p, Generator& gen) : p_(checked_p(p)), gen_(&gen) {}

Tensor Dropout::forward(const Tensor& input) {
  TINYML_CHECK(input.defined(), "Dropout::forward: the input is undefined");
  return dropout(input, p_, is_training(), *gen_);
}

std::string Dropout::extra_repr() const {
  // Python prints a float with at least one decimal ("p=0.0"); fmt prints the shortest form ("0").
  std::string p = fmt::format("{}", p_);
  if (std::floor(p_) == p_) p += ".0";
  return "p=" + p;
}

}  // namespace tinyml::nn
