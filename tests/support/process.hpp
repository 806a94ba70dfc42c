// Test support: running the project's programs (build/bin/*) and reading what they wrote.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tinyml_test {

namespace fs = std::filesystem;

struct ProcessResult {
  int status = -1;  // exit status, or -1 if the program did not exit normally
  std::string out;  // stdout (and stderr too, when merged)
  std::string err;  // stderr, when not merged
};

// A path in the temporary folder unique to this process and the running test: <prefix><pid>_<test>_<stem>.
inline fs::path temp_path(const std::string& prefix, const std::string& stem) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();  // null while a suite is set up
  return fs::temp_directory_path() / (prefix + std::to_string(::getpid()) + "_" +
                                      (info != nullptr ? info->name() : "suite") + "_" + stem);
}

// temp_path with the running test suite's name as the prefix: tinyml_<suite>_<pid>_<test>_<stem>.
inline fs::path temp_path(const std::string& stem) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return temp_path(std::string("tinyml_") + (info != nullptr ? info->test_suite_name() : "suite") + "_",
                   stem);
}

// How many times `needle` occurs in `text` (overlapping occurrences count).
inline size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// `p` in single quotes, for a shell command line (the tests' paths hold no quote).
inline std::string shell_quoted(const fs::path& p) { return "'" + p.string() + "'"; }

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs build/bin/<name> with `args` (a shell fragment); `env` ("NAME='value' ...") is added to its
// environment. One BLAS/OpenMP thread: ctest runs tests side by side on small CI machines, where
// competing thread pools that spin at barriers slow every test down many times over.
inline ProcessResult run_program(const std::string& name, const std::string& args,
                                 const std::string& env = "", bool merge_stderr = false) {
  const std::string binary = std::string(TINYML_BINARY_DIR) + "/bin/" + name;
  EXPECT_TRUE(fs::exists(binary)) << binary << " is missing: build it first";
  const fs::path err_file = temp_path("tinyml_stderr_", name + ".txt");
  const std::string redirect = merge_stderr ? " 2>&1" : " 2>'" + err_file.string() + "'";
  const std::string cmd =
      "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 " + env + " '" + binary + "' " + args + redirect;
  ProcessResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  if (!merge_stderr) {
    r.err = read_text(err_file);
    fs::remove(err_file);
  }
  return r;
}

// Runs build/bin/tinyml with `args` (a shell fragment), stdout and stderr apart.
inline ProcessResult tinyml_cli(const std::string& args) { return run_program("tinyml", args); }

}  // namespace tinyml_test
