// Test support: comparing float results bit for bit, and random bytes of an integer type.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace tinyml_test {

// True when a and b hold the very same float bit patterns (so +0 differs from −0, and a NaN
// equals the same NaN), which is what "bit-identical" means in the determinism tests.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// n values of T (an 8-bit integer type) whose bytes are uniformly random: every bit pattern, the
// extremes included, which is what the integer GEMM tests need.
template <class T>
std::vector<T> random_bytes(size_t n, std::mt19937& gen) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(static_cast<uint8_t>(gen() & 0xFF));
  return v;
}

}  // namespace tinyml_test
