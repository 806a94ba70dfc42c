// Dropout: zeroes inputs with probability p while training (scaling the rest by 1/(1-p)); identity in eval.
#pragma once

#include <cstdint>

#include "tinyml/nn/module.hpp"

namespace tinyml::nn {

class Dropout : public Module {
 public:
  // Draws from the process-wide generator (seed it with manual_seed()).
  explicit Dropout(float p = 0.5f);
  // Owns a generator seeded with `seed`: the masks are reproducible whatever else draws numbers.
  Dropout(float p, uint64_t seed);
  // Draws from `gen`, which must outlive the module.
  Dropout(float p, Generator& gen);

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  float p() const { return p_; }

 private:
  float p_;
  Generator own_;
  Generator* gen_;  // &own_, the caller's generator or the default one; modules never move
};

}  // namespace tinyml::nn
