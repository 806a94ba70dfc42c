// Tests for atomic saves (tinyml/core/file, used by every writer): refused targets, unique temporary
// names that never follow a planted link, the target's mode kept, concurrent saves, stale temp files.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/io/safetensors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using tinyml::Error;
using tinyml::io::read_safetensors;
using tinyml::io::TensorRecord;
using tinyml::io::write_safetensors;

namespace {

class AtomicSave : public tinyml_test::TempDirTest {};

const std::vector<TensorRecord> kRecords = {{"a", "U8", {3}, {1, 2, 3}}};

std::string read_text(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(AtomicSave, RefusesAFifoAndLeavesIt) {
  const std::string p = path("fifo");
  ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0);
  try {
    write_safetensors(p, kRecords);
    ADD_FAILURE() << "saving onto a FIFO succeeded";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("not a regular file"));
    EXPECT_THAT(e.what(), HasSubstr("FIFO"));
  }
  EXPECT_TRUE(fs::is_fifo(p));
  EXPECT_EQ(listing(), std::vector<std::string>{"fifo"});
}

TEST_F(AtomicSave, AFolderThatTakesNoFileIsRefusedBeforeAnyWork) {
  // Commands call check_save_target before training; a folder where nothing can be created was
  // found only when the trained model was saved (and lost). /proc takes no new file, even as root.
  EXPECT_THAT([] { tinyml::check_save_target("/proc/tinyml-probe.safetensors", "--save"); },
              testing::ThrowsMessage<Error>(HasSubstr(
                  "--save: cannot create a file in the folder of '/proc/tinyml-probe.safetensors'")));
  // A folder that does take files keeps no trace of the check.
  tinyml::check_save_target(path("new.safetensors"), "--save");
  EXPECT_TRUE(listing().empty());
}

TEST_F(AtomicSave, ReadingAFifoOrADeviceIsRefusedAtOnce) {
  // import FIFO waited for a writer forever, and import /dev/zero read 1 GiB before refusing it.
  const std::string p = path("fifo");
  ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0);
  EXPECT_THAT([&] { tinyml::read_file_bytes(p, "reader"); },
              testing::ThrowsMessage<Error>(HasSubstr("reader: '" + p + "' is a FIFO, not a regular file")));
  EXPECT_THAT(
      [] { tinyml::read_file_bytes("/dev/zero", "reader", 1 << 20); },
      testing::ThrowsMessage<Error>(HasSubstr("'/dev/zero' is a character device, not a regular file")));
  const std::string big = path("big");
  std::ofstream(big) << std::string(100, 'x');
  EXPECT_THAT([&] { tinyml::read_file_bytes(big, "reader", 99); },
              testing::ThrowsMessage<Error>(HasSubstr("reader: the file is larger than 99 bytes (100)")));
  EXPECT_EQ(tinyml::read_file_bytes(big, "reader", 100).size(), 100u);
}

TEST_F(AtomicSave, RefusesACharacterDeviceAndLeavesIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a character device needs root";
  const std::string p = path("fakenull");
  ASSERT_EQ(::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  EXPECT_THAT([&] { write_safetensors(p, kRecords); },
              ::testing::ThrowsMessage<Error>(HasSubstr("character device")));
  EXPECT_TRUE(fs::is_character_file(p));
  EXPECT_THAT([&] { tinyml::check_save_target(p, "--save"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("--save")));
}

TEST_F(AtomicSave, RefusesAFolder) {
  fs::create_directories(dir_ / "target");
  EXPECT_THAT([&] { write_safetensors(path("target"), kRecords); },
              ::testing::ThrowsMessage<Error>(HasSubstr("a directory")));
  EXPECT_EQ(listing(), std::vector<std::string>{"target"});
}

TEST_F(AtomicSave, WritesThroughASymlinkToARegularFile) {
  write_safetensors(path("real"), kRecords);
  fs::create_symlink(path("real"), path("link"));
  const std::vector<TensorRecord> next = {{"b", "U8", {1}, {9}}};
  write_safetensors(path("link"), next);
  EXPECT_TRUE(fs::is_symlink(path("link")));  // the link is kept, its file is replaced
  EXPECT_EQ(read_safetensors(path("real")).at("b").bytes, std::vector<uint8_t>{9});
  EXPECT_EQ(listing(), (std::vector<std::string>{"link", "real"}));
}

// The old writer used "<out>.tmp.<pid>" and followed a link planted there; the temporary name is
// now unpredictable and created with O_EXCL, so a planted link (for every name the old scheme
// could pick) is neither written through nor left as the output.
TEST_F(AtomicSave, PlantedLinkAtTheOldTempNameIsNotFollowed) {
  const std::string victim = path("victim");
  { std::ofstream(victim) << "precious"; }
  const std::string p = path("model.safetensors");
  fs::create_symlink(victim, fmt::format("{}.tmp.{}", p, ::getpid()));
  write_safetensors(p, kRecords);
  EXPECT_EQ(read_text(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(p));
  EXPECT_EQ(read_safetensors(p).at("a").bytes, kRecords[0].bytes);
}

TEST_F(AtomicSave, KeepsTheTargetsMode) {
  const std::string p = path("secret.safetensors");
  write_safetensors(p, kRecords);
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  write_safetensors(p, kRecords);
  EXPECT_EQ(fs::status(p).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AtomicSave, NewFileGetsTheUmaskMode) {
  const mode_t old = ::umask(022);
  const std::string p = path("new.safetensors");
  write_safetensors(p, kRecords);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(AtomicSave, ThreadsSavingToOnePathAllSucceed) {
  const std::string p = path("shared.safetensors");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        try {
          write_safetensors(p, {{"a", "U8", {1}, {static_cast<uint8_t>(t)}}});
        } catch (const Error& e) {
          ++failures;
          ADD_FAILURE() << e.what();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(read_safetensors(p).at("a").bytes.size(), 1u);
  EXPECT_EQ(listing(), std::vector<std::string>{"shared.safetensors"});
}

// A save killed part-way leaves its temporary file; the next save to the same target removes the
// temporary files of processes that no longer exist (and only those).
TEST_F(AtomicSave, NextSaveRemovesTempFilesOfDeadProcesses) {
  const std::string p = path("m.safetensors");
  const pid_t child = ::fork();
  if (child == 0) {
    // Stand-in for a killed save: a temp file named as the writer names them, then _exit.
    const std::string stale = tinyml::temp_name_prefix(p) + "XXXXXX";
    std::vector<char> name(stale.begin(), stale.end());
    name.push_back('\0');
    const int fd = ::mkstemp(name.data());
    ::_exit(fd >= 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(listing().size(), 1u);  // the stale temp file
  // A live process's temp file (ours) must survive.
  const std::string live = tinyml::temp_name_prefix(p) + "live";
  { std::ofstream(live) << "x"; }
  write_safetensors(p, kRecords);
  EXPECT_EQ(listing(), (std::vector<std::string>{fs::path(live).filename().string(), "m.safetensors"}));
}

}  // namespace
