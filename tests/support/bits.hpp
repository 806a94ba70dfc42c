// Test support: comparing float results bit for bit.
#pragma once

#include <cstring>
#include <vector>

namespace tinyml_test {

// True when a and b hold the very same float bit patterns (so +0 differs from −0, and a NaN
// equals the same NaN), which is what "bit-identical" means in the determinism tests.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace tinyml_test
