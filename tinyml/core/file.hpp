// Files: whole-file reading with a size cap, and atomic saves that never clobber what they must not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tinyml {

// Reads the whole file. `who` prefixes every error message ("read_idx('x.gz')"). A file larger
// than max_bytes is refused before more memory is taken.
std::vector<uint8_t> read_file_bytes(const std::string& path, const std::string& who,
                                     size_t max_bytes = std::numeric_limits<size_t>::max());

// Throws tinyml::Error, prefixed by `who`, unless `path` can be the target of a save: it does not
// exist yet (its folder must), or it is a regular file or a symbolic link to one. A device node,
// FIFO, socket or folder is refused, so a save never replaces /dev/null. A file is also created in
// the folder and removed, so that a folder that takes none (read-only, /proc) is refused too.
// Commands call it before long work; AtomicFile checks the target again (its own temporary file
// then tests the folder).
void check_save_target(const std::string& path, const std::string& who);

// The start of the temporary file names AtomicFile uses for `path` in this process:
// "<folder>/.<name>.tmp.<pid>." (a random suffix follows).
std::string temp_name_prefix(const std::string& path);

// An atomic save. The bytes go to a new temporary file in the target's folder with a unique,
// unpredictable name, created exclusively (O_EXCL, so a planted file or link at that name is
// never opened), then are fsync'ed and renamed over the target, so a reader (or a crash) sees the
// old file or the new one, complete. A target that is a symbolic link to a regular file is
// resolved: the file it points to is replaced and the link kept. The new file gets the old
// file's permission bits (and owner, when run as root); a new target gets 0666 minus the umask.
// A save that fails or is abandoned removes its temporary file; a process killed mid-save leaves
// its temporary file behind, and the next save to the same target removes every such file whose
// process no longer exists. `who` prefixes every error message.
class AtomicFile {
 public:
  AtomicFile(const std::string& path, std::string who);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends n bytes to the temporary file; throws on a write error.
  void write(const uint8_t* data, size_t n);
  // Flushes to disk and renames over the target. After it the destructor leaves the file alone.
  void commit();
  const std::string& temp_path() const { return temp_; }
  // Bytes written so far.
  size_t written() const { return written_; }

 private:
  std::string who_;
  std::string target_;  // the path the rename replaces (a link resolved)
  std::string temp_;
  int fd_ = -1;
  size_t written_ = 0;
  bool committed_ = false;
};

// Writes `bytes` to `path` through an AtomicFile: the old file or the new one, complete, never a mix.
// `who` prefixes every error message.
void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes, const std::string& who);

// The same for text (an SVG, a report).
inline void write_file_atomic(const std::string& path, std::string_view text, const std::string& who) {
  write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), who);
}

}  // namespace tinyml
