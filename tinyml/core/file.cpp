#include "tinyml/core/file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "tinyml/core/error.hpp"

namespace tinyml {

namespace {
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Closes a descriptor and removes the temporary file unless the write was committed.
struct TempFile {
  std::string path;
  int fd = -1;
  bool committed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!committed) ::unlink(path.c_str());
  }
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

void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes, const std::string& who) {
  // Same folder as the target so the rename stays on one filesystem and is atomic.
  TempFile tmp{fmt::format("{}.tmp.{}", path, ::getpid())};
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TINYML_CHECK(tmp.fd >= 0, "{}: cannot create '{}' (temporary file for '{}'): {}", who, tmp.path, path,
               std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(tmp.fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    TINYML_CHECK(w > 0, "{}: writing '{}' failed after {} bytes: {}", who, tmp.path, done, std::strerror(errno));
    done += static_cast<size_t>(w);
  }
  // The data must be on disk before the rename makes it visible.
  TINYML_CHECK(::fsync(tmp.fd) == 0, "{}: fsync of '{}' failed: {}", who, tmp.path, std::strerror(errno));
  const int fd = std::exchange(tmp.fd, -1);
  TINYML_CHECK(::close(fd) == 0, "{}: closing '{}' failed: {}", who, tmp.path, std::strerror(errno));
  TINYML_CHECK(std::rename(tmp.path.c_str(), path.c_str()) == 0, "{}: renaming '{}' to '{}' failed: {}", who,
               tmp.path, path, std::strerror(errno));
  tmp.committed = true;
  // Best effort: persist the rename itself. The file is complete either way.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace tinyml
