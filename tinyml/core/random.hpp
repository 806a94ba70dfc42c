// Seeded random numbers: every random thing in tinyml takes a Generator or uses the global one.
#pragma once

#include <cstdint>
#include <random>

namespace tinyml {

// A seeded pseudo-random generator (mt19937_64). Distributions are written out here rather
// than taken from `<random>` so that a seed gives the same numbers with every standard library.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t s) {
    engine_.seed(s);
    has_spare_ = false;
  }

  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float uniform() { return static_cast<float>(engine_() >> 40) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by the Box-Muller transform, computed in double.
  float normal();
  float normal(float mean, float stddev) { return mean + stddev * normal(); }
  // Uniform integer in [0, n).
  uint64_t randint(uint64_t n);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// The process-wide generator used when none is passed; seed it with manual_seed().
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace tinyml
