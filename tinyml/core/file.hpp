// Whole files: reading with a size cap (IDX, safetensors, ONNX readers) and atomic writing, with clear errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace tinyml {

// Reads the whole file. `who` prefixes every error message ("read_idx('x.gz')"). A file larger
// than max_bytes is refused before more memory is taken.
std::vector<uint8_t> read_file_bytes(const std::string& path, const std::string& who,
                                     size_t max_bytes = std::numeric_limits<size_t>::max());

// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed to disk,
// then renamed over `path`. On any failure the temporary file is removed and `path` is untouched
// (an existing file keeps its old contents). `who` prefixes every error message.
void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes, const std::string& who);

}  // namespace tinyml
