// Fuzz target: train::parse_arch, the "784-256-128-10" parser behind --arch (the whole input is the text).
//
// An accepted text has at least two sizes, each in [1, 2^20], and its canonical spelling
// (arch_string) parses back to the same sizes.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "tinyml/train/mlp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<int64_t> sizes;
  if (!tinyml::fuzz::accepts([&] { sizes = tinyml::train::parse_arch(text); })) return 0;
  FUZZ_CHECK(sizes.size() >= 2);
  for (const int64_t s : sizes) FUZZ_CHECK(s >= 1 && s <= (int64_t{1} << 20));
  const std::string canonical = tinyml::train::arch_string(sizes);
  FUZZ_CHECK(tinyml::train::parse_arch(canonical) == sizes);
  // Sizes need at least one character each and a separator between them.
  FUZZ_CHECK(text.size() >= 2 * sizes.size() - 1);
  return 0;
}
