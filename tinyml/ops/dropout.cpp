// Dropout: zeroes each element with probability p in training and scales the rest by 1/(1 - p).
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  TINYML_CHECK(p >= 0.0f && p <= 1.0f, "dropout: probability must be in [0, 1], got {}", p);
  if (!training || p == 0.0f) return x;
  Tensor mask = Tensor::empty(x.shape());
  const float keep_scale = p == 1.0f ? 0.0f : 1.0f / (1.0f - p);
  for (int64_t i = 0; i < mask.numel(); ++i) mask.data()[i] = gen.uniform() < p ? 0.0f : keep_scale;
  return mul(x, mask);
}

}  // namespace tinyml
