// Runs every example program with small settings, and checks that README.md shows quickstart.cpp verbatim.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tinyml/data/fashion_mnist.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

struct ProcessResult {
  int status = -1;  // exit status, or -1 if the program did not exit normally
  std::string out;  // stdout and stderr together
};

// Runs build/bin/<example> with `args`.
ProcessResult run_example(const std::string& name, const std::string& args = "") {
  const std::string binary = std::string(TINYML_BINARY_DIR) + "/bin/" + name;
  EXPECT_TRUE(fs::exists(binary)) << binary << " is missing: build the examples";
  // One BLAS/OpenMP thread: ctest runs tests side by side on small CI machines, where competing
  // thread pools that spin at barriers slow every test down many times over.
  const std::string cmd = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 '" + binary + "' " + args + " 2>&1";
  ProcessResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The number after `label` in `text` ("accuracy: 97.5%" → 97.5), or -1 if absent.
double number_after(const std::string& text, const std::string& label) {
  const std::regex re(label + R"(\s*([0-9]+(\.[0-9]+)?))");
  std::smatch m;
  return std::regex_search(text, m, re) ? std::stod(m[1].str()) : -1.0;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST(Examples, XorLearnsAllFourPoints) {
  const ProcessResult r = run_example("xor");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("accuracy: 4/4"));
  EXPECT_EQ(count(r.out, " -> p = "), 4u);
  EXPECT_THAT(r.out, HasSubstr("0 xor 1 -> p = "));
}

TEST(Examples, XorExitsWithFailureWhenItHasNotLearned) {
  // One SGD step from the seeded initialisation cannot fit XOR (the run is deterministic, and a
  // single step leaves a near-linear function of the inputs), so the program must say so by its status.
  const ProcessResult r = run_example("xor", "1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("accuracy: 4/4")));
  EXPECT_EQ(run_example("xor", "0").status, 2);  // bad argument
}

TEST(Examples, QuickstartFitsTheSpirals) {
  const ProcessResult r = run_example("quickstart");
  ASSERT_EQ(r.status, 0) << r.out;
  // 300 Adam steps of a 2-64-3 MLP on 600 low-noise spiral points: about 99% when this was
  // written; 90% is far above chance (33%) and fails only if training broke.
  EXPECT_GT(number_after(r.out, "accuracy:"), 90.0) << r.out;
}

TEST(Examples, CustomModuleRunsItsHooksOnceAndHasGradients) {
  const ProcessResult r = run_example("custom_module");
  ASSERT_EQ(r.status, 0) << r.out;
  // A module with children prints its extra_repr on a line of its own, as PyTorch does.
  EXPECT_THAT(r.out, HasSubstr("(2): GatedResidual(\n    features=16\n    (fc): Linear(in_features=16"));
  EXPECT_THAT(r.out, HasSubstr("2.gate"));
  EXPECT_THAT(r.out, HasSubstr("2.fc.weight"));
  // One hook per child of the Sequential (4), during the first forward only: the second forward
  // runs after remove().
  EXPECT_EQ(count(r.out, "hook "), 4u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("hook 2 (GatedResidual): shape [8, 16]"));
  EXPECT_THAT(r.out, HasSubstr("hook 3 (Linear): shape [8, 3]"));
  EXPECT_THAT(r.out, HasSubstr("hooks attached after remove(): 0"));
  // Every parameter received a gradient (a norm of exactly zero would mean a broken graph).
  EXPECT_EQ(count(r.out, "  grad "), 7u);  // 3 Linear weights and biases, and the gate
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("norm 0.000000")));
}

TEST(Examples, FashionMnistOneEpochOnASubset) {
  if (!tinyml::data::FashionMNIST::available()) GTEST_SKIP() << "Fashion-MNIST is not installed (Debian package dataset-fashion-mnist; scripts/setup.sh installs it)";
  const ProcessResult r = run_example("fashion_mnist", "1 2000");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("2000 training images, 10000 test images"));
  EXPECT_THAT(r.out, HasSubstr("epoch 1 "));
  // 16 Adam steps on 2000 images: about 65% when this was written, far above chance (10%).
  EXPECT_GT(number_after(r.out, "test accuracy:"), 40.0) << r.out;
}

TEST(Examples, FashionMnistRejectsBadArguments) { EXPECT_EQ(run_example("fashion_mnist", "-1").status, 2); }

TEST(Readme, ContainsTheQuickstartProgramVerbatim) {
  const std::string readme = read_text(fs::path(TINYML_SOURCE_DIR) / "README.md");
  const std::string quickstart = read_text(fs::path(TINYML_SOURCE_DIR) / "examples" / "quickstart.cpp");
  ASSERT_FALSE(quickstart.empty());
  // The README's snippet is the compiled and tested program, so it cannot go stale.
  EXPECT_THAT(readme, HasSubstr("```cpp\n" + quickstart + "```"))
      << "README.md must show examples/quickstart.cpp "
         "exactly, in a ```cpp block";
}
