// Linear: y = x·Wᵀ + b with weight (out, in) and PyTorch's default initialisation.
#pragma once

#include "tinyml/nn/module.hpp"

namespace tinyml::nn {

class Linear : public Module {
 public:
  // weight ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)), bias likewise.
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  bool has_bias() const { return bias.defined(); }

  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features) or undefined

 private:
  int64_t in_features_;
  int64_t out_features_;
};

}  // namespace tinyml::nn
