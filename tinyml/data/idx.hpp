// IDX files (the MNIST family's format): a validating reader for raw or gzipped files, and a writer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tinyml::data {

// An unsigned-byte (type 0x08) IDX array: dims as in the file, data row-major.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;

  int64_t numel() const;  // product of dims (1 for no dims)
};

// Largest element count accepted (2^31): far above any dataset in this format, and small enough
// that a corrupted header cannot make us allocate without bound.
inline constexpr int64_t kIdxMaxElements = int64_t{1} << 31;

// Reads an IDX file, raw or gzip-compressed (detected by the magic bytes 1f 8b, not the name).
// Validates the magic (two zero bytes), the type (only 0x08), rank 1..4, every dim > 0, the element
// count (<= kIdxMaxElements) and the exact payload length; any failure throws tinyml::Error.
IdxArray read_idx(const std::string& path);

// The same parser on bytes in memory (raw or gzip), for tests and fuzzing.
IdxArray read_idx_bytes(std::span<const uint8_t> bytes);

// The bytes of `array` as an IDX file of type 0x08 (gzip-compressed when `gzip` is true).
std::vector<uint8_t> encode_idx(const IdxArray& array, bool gzip = false);

// Writes `array` as an IDX file of type 0x08, gzip-compressed when `gzip` is true.
void write_idx(const std::string& path, const IdxArray& array, bool gzip = false);

}  // namespace tinyml::data
