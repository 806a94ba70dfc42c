#include "tinyml/core/random.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tinyml {

// std::mt19937_64's state recurrence, one word at a time (the standard's [rand.eng.mers]).
void Mt19937_64::seed_through(size_t last) {
  for (; seeded_ <= last; ++seeded_) {
    const uint64_t prev = state_[seeded_ - 1];
    state_[seeded_] = 6364136223846793005ULL * (prev ^ (prev >> 62)) + seeded_;
  }
}

uint64_t Mt19937_64::operator()() {
  constexpr uint64_t kUpper = ~uint64_t{0} << 31, kLower = ~kUpper;
  if (next_ == kWords) next_ = 0;
  const size_t i = next_++;
  // The standard twists the whole block in place, word 0 first, before the block's first output.
  // Twisting word i just before its output reads the same words: i + 1 and i + 156 as they were
  // (still untwisted, when below 312) or as twisted earlier in this block (when wrapped around).
  const size_t j = i + 1 == kWords ? 0 : i + 1;
  const size_t k = i + kShift < kWords ? i + kShift : i + kShift - kWords;
  if (seeded_ < kWords) seed_through(std::max(j, k));
  const uint64_t y = (state_[i] & kUpper) | (state_[j] & kLower);
  state_[i] = state_[k] ^ (y >> 1) ^ ((y & 1) ? 0xB5026F5AA96619E9ULL : 0);
  // Tempering.
  uint64_t z = state_[i];
  z ^= (z >> 29) & 0x5555555555555555ULL;
  z ^= (z << 17) & 0x71D67FFFEDA60000ULL;
  z ^= (z << 37) & 0xFFF7EEE000000000ULL;
  z ^= z >> 43;
  return z;
}

float Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return static_cast<float>(spare_);
  }
  // u1 in (0, 1] so that log(u1) is finite.
  const double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return static_cast<float>(r * std::cos(theta));
}

uint64_t Generator::randint(uint64_t n) {
  if (n <= 1) return 0;
  // Rejection sampling: no modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = engine_();
  } while (x >= limit);
  return x % n;
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

}  // namespace tinyml
