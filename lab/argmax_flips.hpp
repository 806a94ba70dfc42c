// `tinyml precision`'s last experiment: how many argmax predictions of a wide random classifier flip
// when its weights are stored in int8 or int4.
#pragma once

#include <cstdint>

#include "tinyml/core/random.hpp"

namespace tinyml::cli::precision {

struct FlipResult {
  int64_t inputs = 12, hidden = 512, classes = 4096;
  int64_t samples = 0;
  int64_t flips_int8 = 0;  // samples whose argmax differs from fp32 with int8 weights
  int64_t flips_int4 = 0;
  double mean_top2_gap = 0.0;  // mean fp32 gap between the two largest logits (why flips happen)
  double logit_snr_int8_db = 0.0;
  double logit_snr_int4_db = 0.0;
};
// A random MLP 12 → 512 (ReLU) → 4096 with PyTorch's default initialisation, `samples` (> 0) inputs
// drawn from N(0, 1): how many argmax predictions change when its weights are stored in int8 or in
// int4 (symmetric per output channel, weight-only). With 4096 classes the top logits sit close
// together, so even small weight errors move the winner.
FlipResult argmax_flip_experiment(Generator& gen, int64_t samples = 1000);

}  // namespace tinyml::cli::precision
