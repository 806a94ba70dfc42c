// The .safetensors format: a validating reader and an atomic writer for named raw tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tinyml::io {

// One tensor as stored: dtype as the format spells it ("F32", "I8", "U8", "I32", ...), shape, and
// its bytes, little-endian, row-major.
struct TensorRecord {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct SafetensorsFile {
  std::vector<TensorRecord> tensors;  // in the order of their data in the file
  std::map<std::string, std::string> metadata;

  // The tensor named `name`, or nullptr.
  const TensorRecord* find(std::string_view name) const;
  // The tensor named `name`; throws tinyml::Error listing the names present if absent.
  const TensorRecord& at(std::string_view name) const;
};

// Bytes per element of a dtype: BOOL, U8, I8, F8_E4M3, F8_E5M2 = 1; U16, I16, F16, BF16 = 2;
// U32, I32, F32 = 4; U64, I64, F64 = 8. Throws tinyml::Error for any other name.
size_t dtype_size(std::string_view dtype);
bool is_known_dtype(std::string_view dtype);

// A header longer than this is refused before it is parsed. The reference implementation allows
// 100 MB; tinyml's own headers take a few KB, and 16 MiB holds the header of a model of 100k tensors.
inline constexpr uint64_t kMaxHeaderBytes = uint64_t{16} << 20;
// A header of more entries than this (tensors, and __metadata__ if present) is refused while it is
// scanned, before anything is built.
inline constexpr size_t kMaxTensors = 65536;

struct WriteOptions {
  // Called after each piece written to the temporary file with the running byte count; throwing
  // from it aborts the write like an I/O error would (tests use it to prove a failed save is clean).
  std::function<void(size_t bytes_written)> on_progress;
};

// The file's bytes: 8-byte little-endian header length N, N bytes of JSON padded with spaces to a
// multiple of 8, then the tensors' bytes back to back. Tensors are laid out by decreasing element
// size (stable otherwise) so every tensor is aligned to its element size, as the reference writer
// does; metadata, if any, goes under "__metadata__". Validates every record (names unique and
// non-empty, dtype known, dims >= 0, bytes == numel × dtype size).
std::vector<uint8_t> serialize_safetensors(const std::vector<TensorRecord>& tensors,
                                           const std::map<std::string, std::string>& metadata = {});

// Writes atomically through tinyml::AtomicFile (core/file.hpp): a uniquely named temporary file in
// the same folder, fsync'ed, then renamed over `path`, which keeps its mode. A target that is not
// a regular file (a device, FIFO, folder) is refused. On any failure the temporary file is removed,
// `path` is left as it was, and the error is rethrown.
void write_safetensors(const std::string& path, const std::vector<TensorRecord>& tensors,
                       const std::map<std::string, std::string>& metadata = {},
                       const WriteOptions& options = {});

// Reads and fully validates a file; nothing in it is trusted (sizes, offsets, JSON). Any problem
// throws tinyml::Error naming the file and what is wrong.
SafetensorsFile read_safetensors(const std::string& path);
SafetensorsFile read_safetensors_bytes(std::span<const uint8_t> bytes);

}  // namespace tinyml::io
