// qgemm_packed: an int8 weight packed once into oneDNN's matmul layout, and its exact u8 × s8 product.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tinyml::kernels {

// A weight B given as (N, K) row-major int8 — a Linear weight (out, in) — held only in the blocked
// layout oneDNN's matmul primitive reads. qgemm_u8s8 re-packs its plain B on every call; this
// packs it once, which takes about 5 % off a 256×1024×1024 product. The plain bytes are not kept:
// unpack() rebuilds them when a caller needs them (saving, inspection).
class PackedWeightS8 {
 public:
  // Packs B (N, K), row stride K. Returns null when the packed product would not be exact on this
  // CPU (no VNNI: oneDNN's u8·s8 kernels then add pairs of products in saturating int16), when
  // oneDNN has no packed layout for these sizes, when its padding to blocks would add more than
  // 1/8 to the weight's bytes, or when N or K is 0; callers keep the plain path then.
  static std::unique_ptr<PackedWeightS8> pack(int64_t N, int64_t K, const int8_t* B);
  ~PackedWeightS8();
  PackedWeightS8(const PackedWeightS8&) = delete;
  PackedWeightS8& operator=(const PackedWeightS8&) = delete;

  // C (M×N, row stride N) = A (M×K u8, row stride K) · Bᵀ, every sum exact in int32 (K must be at
  // most kQgemmMaxK_u8s8, which the layer's own K limit already implies). Thread-safe.
  void multiply_u8(int64_t M, const uint8_t* A, int32_t* C) const;
  // Writes the weight back in its plain (N, K) row-major layout into B (N·K bytes).
  void unpack(int8_t* B) const;

  int64_t rows() const;  // N
  int64_t cols() const;  // K
  size_t bytes() const;  // bytes of the packed layout (N·K, plus oneDNN's padding to its blocks)

  struct Impl;  // oneDNN objects; defined in qgemm_packed.cpp

 private:
  explicit PackedWeightS8(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "brg:avx512_core_vnni" — oneDNN's implementation of the packed product for M rows (for reports).
// Empty when packing is not available.
std::string qgemm_packed_info(int64_t M, int64_t N, int64_t K);

}  // namespace tinyml::kernels
