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

// The dims stated in the header of an IDX file (raw or gzip), validated as read_idx does; only the
// header is read (and decompressed). Lets a reader compare files before loading any of them.
std::vector<int64_t> read_idx_dims(const std::string& path);

// The first min(max_items, dims[0]) entries along dim 0 (max_items > 0), with dims[0] set to that
// count. Reads and decompresses no further than those entries, so a file damaged after them (or a
// gzip bomb) costs nothing; use read_idx for the whole file with every check.
IdxArray read_idx_head(const std::string& path, int64_t max_items);

// The same parser on bytes in memory (raw or gzip), for tests and fuzzing.
IdxArray read_idx_bytes(std::span<const uint8_t> bytes);

// The bytes of `array` as an IDX file of type 0x08 (gzip-compressed when `gzip` is true).
std::vector<uint8_t> encode_idx(const IdxArray& array, bool gzip = false);

// Writes `array` as an IDX file of type 0x08, gzip-compressed when `gzip` is true.
void write_idx(const std::string& path, const IdxArray& array, bool gzip = false);

}  // namespace tinyml::data
