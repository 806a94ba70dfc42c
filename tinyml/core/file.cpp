#include "tinyml/core/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <utility>

#include "tinyml/core/error.hpp"

namespace tinyml {

namespace {
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

namespace fs = std::filesystem;

// What a non-regular file is, for the message.
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The process's umask, read without changing it (umask(2) would race with other threads).
mode_t current_umask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  }
  return 022;
}

// Removes the temporary files of `path` left by processes that no longer exist (killed saves).
// The names are "<prefix><pid>.<random>"; a live pid's file may be a save in progress.
void remove_stale_temps(const fs::path& target) {
  const std::string stem = fmt::format(".{}.tmp.", target.filename().string());
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(stem, 0) != 0) continue;
    char* after = nullptr;
    const long pid = std::strtol(name.c_str() + stem.size(), &after, 10);
    if (pid <= 0 || after == nullptr || *after != '.') continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink(it->path().c_str());
  }
}
}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path, const std::string& who, size_t max_bytes) {
  // Only a regular file: opening a FIFO would wait for a writer, and a device such as /dev/zero
  // would be read up to the cap. Its size is checked before any of it is read.
  struct stat st {};
  TINYML_CHECK(::stat(path.c_str(), &st) == 0, "{}: cannot open the file: {}", who, std::strerror(errno));
  TINYML_CHECK(S_ISREG(st.st_mode), "{}: '{}' is {}, not a regular file", who, path, kind_of(st.st_mode));
  TINYML_CHECK(static_cast<uint64_t>(st.st_size) <= max_bytes, "{}: the file is larger than {} bytes ({})",
               who, max_bytes, st.st_size);
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

namespace {

// A save creates its temporary file in the target's folder: tried now (and removed), so that a
// folder that cannot take it is reported before the work whose result it would hold.
void check_folder_takes_files(const std::string& path, const std::string& who) {
  const std::string probe = temp_name_prefix(path) + "probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  TINYML_CHECK(fd >= 0 || errno == EEXIST, "{}: cannot create a file in the folder of '{}': {}", who, path,
               std::strerror(errno));
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
  }
}

// The target itself: absent (in an existing folder), a regular file, or a link to one.
void check_target_kind(const std::string& path, const std::string& who) {
  TINYML_CHECK(!path.empty(), "{}: the file name is empty", who);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    TINYML_CHECK(S_ISREG(st.st_mode),
                 "{}: '{}' is {}, not a regular file; a save replaces only regular files (choose another "
                 "name)",
                 who, path, kind_of(st.st_mode));
    return;
  }
  TINYML_CHECK(errno == ENOENT, "{}: cannot check '{}': {}", who, path, std::strerror(errno));
  // A dangling link would be followed by nothing here (the rename replaces the link): refused,
  // because the user most likely meant the file it names. Only a link that stat still cannot
  // follow: a save in another thread or process may have created the file since the stat above.
  const bool dangling =
      ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) != 0;
  TINYML_CHECK(!dangling, "{}: '{}' is a symbolic link to a missing file", who, path);
  const fs::path parent = fs::absolute(path).parent_path();
  std::error_code ec;
  TINYML_CHECK(fs::is_directory(parent, ec), "{}: the folder '{}' does not exist", who, parent.string());
}

}  // namespace

void check_save_target(const std::string& path, const std::string& who) {
  check_target_kind(path, who);
  check_folder_takes_files(path, who);
}

std::string temp_name_prefix(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / fmt::format(".{}.tmp.{}.", p.filename().string(), ::getpid())).string();
}

AtomicFile::AtomicFile(const std::string& path, std::string who) : who_(std::move(who)), target_(path) {
  check_target_kind(path, who_);  // no probe: the temporary file created below is the folder's test
  struct stat old {};
  const bool exists = ::stat(path.c_str(), &old) == 0;
  std::error_code ec;
  if (exists && fs::is_symlink(path, ec)) target_ = fs::canonical(path).string();
  remove_stale_temps(target_);
  // Same folder as the target so the rename stays on one filesystem and is atomic. mkostemp
  // creates the file with O_EXCL: it never opens an existing file or follows a link.
  std::string name = temp_name_prefix(target_) + "XXXXXX";
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  TINYML_CHECK(fd_ >= 0, "{}: cannot create a temporary file next to '{}': {}", who_, path,
               std::strerror(errno));
  temp_ = std::move(name);
  const mode_t mode = exists ? (old.st_mode & 07777) : (0666 & ~current_umask());
  if (exists && ::geteuid() == 0) (void)::fchown(fd_, old.st_uid, old.st_gid);
  TINYML_CHECK(::fchmod(fd_, mode) == 0, "{}: cannot set the mode of '{}': {}", who_, temp_,
               std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(const uint8_t* data, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd_, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    TINYML_CHECK(w > 0, "{}: writing '{}' for '{}' failed after {} bytes: {}", who_, temp_, target_,
                 written_ + done, std::strerror(errno));
    done += static_cast<size_t>(w);
  }
  written_ += n;
}

void AtomicFile::commit() {
  // The data must be on disk before the rename makes it visible, or a crash could leave an empty
  // file under the final name.
  TINYML_CHECK(::fsync(fd_) == 0, "{}: fsync of '{}' failed: {}", who_, temp_, std::strerror(errno));
  const int fd = std::exchange(fd_, -1);
  TINYML_CHECK(::close(fd) == 0, "{}: closing '{}' failed: {}", who_, temp_, std::strerror(errno));
  TINYML_CHECK(std::rename(temp_.c_str(), target_.c_str()) == 0, "{}: renaming '{}' to '{}' failed: {}", who_,
               temp_, target_, std::strerror(errno));
  committed_ = true;
  // Best effort: persist the rename itself. The file is complete either way, so failure is ignored.
  fs::path dir = fs::path(target_).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes, const std::string& who) {
  AtomicFile file(path, who);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace tinyml
