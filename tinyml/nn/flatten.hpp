// Flatten: merges dimensions of its input into one, a shape-only layer.
#pragma once

#include <cstdint>

#include "tinyml/nn/module.hpp"

namespace tinyml::nn {

// Merges dims start_dim..end_dim into one; the default keeps the batch dimension.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1) : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Flatten"; }
  std::string extra_repr() const override;
  // The first and last dims merged, as given (negative ones count from the end).
  int64_t start_dim() const { return start_dim_; }
  int64_t end_dim() const { return end_dim_; }

 private:
  int64_t start_dim_;
  int64_t end_dim_;
};

}  // namespace tinyml::nn
