// Runs a fuzz target once on each input file (folders: each file in them) without libFuzzer, so that
// the corpora replay as tests in builds that are not clang fuzz builds, and a crash input can be
// reproduced under gdb or with any compiler. The budgets libFuzzer takes apply here too:
// -timeout=S (one input running longer ends the process with SIGALRM, a failed test) and
// -rss_limit_mb=M (a peak resident size above M after an input fails); other -flags are ignored.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  unsigned timeout_s = 0;
  long rss_limit_mb = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("-timeout=", 0) == 0) {
      timeout_s = static_cast<unsigned>(std::stoul(arg.substr(9)));
      continue;
    }
    if (arg.rfind("-rss_limit_mb=", 0) == 0) {
      rss_limit_mb = std::stol(arg.substr(14));
      continue;
    }
    if (arg.rfind('-', 0) == 0) continue;
    const fs::path p = argv[i];
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
      return 2;
    }
  }
  // An empty corpus would make the test pass without running anything.
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER... (no input found)\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    // Exactly the file's size, so that a read one byte past the end is a heap overflow under ASan.
    const std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    std::fprintf(stderr, "Running: %s (%zu bytes)\n", f.c_str(), bytes.size());
    ::alarm(timeout_s);  // 0: none
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ::alarm(0);
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    if (rss_limit_mb > 0 && ru.ru_maxrss / 1024 > rss_limit_mb) {
      std::fprintf(stderr, "%s: peak resident size %ld MB exceeds -rss_limit_mb=%ld\n", f.c_str(),
                   ru.ru_maxrss / 1024, rss_limit_mb);
      return 1;
    }
  }
  std::fprintf(stderr, "Executed %zu inputs\n", files.size());
  return 0;
}
