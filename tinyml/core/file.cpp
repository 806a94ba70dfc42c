#include "tinyml/core/file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "tinyml/core/error.hpp"

namespace tinyml {

namespace {
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path, const std::string& who, size_t max_bytes) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  TINYML_CHECK(f != nullptr, "{}: cannot open the file: {}", who, std::strerror(errno));
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(size_t{1} << 20);
  for (;;) {
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), f.get());
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    TINYML_CHECK(bytes.size() <= max_bytes, "{}: the file is larger than {} bytes", who, max_bytes);
    if (n < chunk.size()) break;
  }
  TINYML_CHECK(!std::ferror(f.get()), "{}: read error: {}", who, std::strerror(errno));
  return bytes;
}

}  // namespace tinyml
