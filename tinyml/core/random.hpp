// Seeded random numbers: every random thing in tinyml takes a Generator or uses the global one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinyml {

// The 64-bit Mersenne Twister: the same numbers as std::mt19937_64 for every seed (a test checks
// it against the standard library's over several blocks), but seeding and twisting each word of
// the state only when an output first needs it. std::mt19937_64 seeds all 312 words and twists
// them before its first output, which cost a shuffle of XOR's four points more than the shuffle
// (a DataLoader seeds a generator for every pass: about 13 % of XOR's whole training step).
class Mt19937_64 {
 public:
  explicit Mt19937_64(uint64_t seed = 5489u) { this->seed(seed); }
  void seed(uint64_t s) {
    state_[0] = s;
    seeded_ = 1;
    next_ = kWords;  // the first output twists the first block
  }
  uint64_t operator()();

 private:
  static constexpr size_t kWords = 312, kShift = 156;
  void seed_through(size_t last);  // the initial state's words up to `last` (inclusive)
  uint64_t state_[kWords] = {};    // zeroed: a copy before the first block copies defined values
  size_t seeded_;  // words of the initial state computed so far (all of them after the first block)
  size_t next_;    // the next word to twist and output
};

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
  Mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// The process-wide generator used when none is passed; seed it with manual_seed().
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace tinyml
