// Whole-file reading shared by the IDX and safetensors readers, with a size cap and clear errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tinyml {

// Reads the whole file. `who` prefixes every error message ("read_idx('x.gz')"). A file larger
// than max_bytes is refused before more memory is taken.
std::vector<uint8_t> read_file_bytes(const std::string& path, const std::string& who,
                                     size_t max_bytes = std::numeric_limits<size_t>::max());

}  // namespace tinyml
