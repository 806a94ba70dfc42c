// Runs every example program with small settings, and checks that README.md shows quickstart.cpp verbatim.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/datasets.hpp"
#include "tests/support/process.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

using tinyml_test::ProcessResult;  // here `out` holds stdout and stderr together

// Runs build/bin/<example> with `args`; `env` ("NAME='value' ...") is added to its environment.
ProcessResult run_example(const std::string& name, const std::string& args = "",
                          const std::string& env = "") {
  return tinyml_test::run_program(name, args, env, /*merge_stderr=*/true);
}

std::string read_existing(const fs::path& p) {
  EXPECT_TRUE(fs::exists(p)) << "cannot read " << p;
  return tinyml_test::read_text(p);
}

// The number after `label` in `text` ("accuracy: 97.5%" → 97.5), or -1 if absent.
double number_after(const std::string& text, const std::string& label) {
  const std::regex re(label + R"(\s*([0-9]+(\.[0-9]+)?))");
  std::smatch m;
  return std::regex_search(text, m, re) ? std::stod(m[1].str()) : -1.0;
}

using tinyml_test::count;

// The part of `text` from `from` up to `to` (or the end); empty if `from` is absent.
std::string section(const std::string& text, const std::string& from, const std::string& to = "") {
  const size_t a = text.find(from);
  if (a == std::string::npos) return {};
  const size_t b = to.empty() ? std::string::npos : text.find(to, a);
  return text.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// The whitespace-separated fields of the line of `text` that starts with `key` followed by
// whitespace ({} if there is none). Fields of a key with spaces ("dynamic int8") start after it.
std::vector<std::string> row(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key, 0) != 0 || line.size() <= key.size() || line[key.size()] != ' ') continue;
    std::istringstream fields(line.substr(key.size()));
    std::vector<std::string> out;
    for (std::string f; fields >> f;) out.push_back(f);
    return out;
  }
  return {};
}

// A field as a number: "83.67%" → 83.67, "inf" → +Inf; NaN if it is not one.
double num(const std::vector<std::string>& fields, size_t i) {
  if (i >= fields.size()) return std::nan("");
  try {
    return std::stod(fields[i]);
  } catch (const std::exception&) {
    return std::nan("");
  }
}

// The bytes the int8 GEMM's packed layout adds on this CPU to the reference MLP's 784→256 int8
// layer: 48 · 256 where oneDNN pads K = 784 to 832 (AVX-512 VNNI), none where it keeps the plain
// layout (AVX-VNNI) or nothing is packed.
size_t first_layer_padding() {
  tinyml::Generator gen(1);
  const tinyml::nn::Linear lin(784, 256, true, gen);
  const auto q = tinyml::quant::QuantizedLinear::from_float(
      lin, tinyml::quant::QuantSpec::int8_symmetric_per_channel(), tinyml::quant::QuantMode::Dynamic);
  return q->memory_usage().weight_bytes - 784u * 256u;
}

// A fresh directory for one test's files.
fs::path scratch_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("tinyml_examples_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
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

TEST(Examples, OnnxRoundtripImportsTheSameModelAndWritesBothFiles) {
  const fs::path dir = fs::temp_directory_path() / ("tinyml_onnx_example_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const ProcessResult r = run_example("onnx_roundtrip", dir.string());
  ASSERT_EQ(r.status, 0) << r.out;  // status 1: the imported model's outputs differ by more than 1e-5
  EXPECT_THAT(r.out, HasSubstr("max |difference| 0"));  // the same weights through the same GEMM
  EXPECT_TRUE(fs::file_size(dir / "spirals_int8_static.onnx") < fs::file_size(dir / "spirals_fp32.onnx"));
  fs::remove_all(dir);
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
  if (!tinyml::data::FashionMNIST::available()) GTEST_SKIP() << tinyml_test::fashion_mnist_missing();
  const ProcessResult r = run_example("fashion_mnist", "1 2000");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("2000 training images, 10000 test images"));
  EXPECT_THAT(r.out, HasSubstr("epoch 1 "));
  // 16 Adam steps on 2000 images: about 65% when this was written, far above chance (10%).
  EXPECT_GT(number_after(r.out, "test accuracy:"), 40.0) << r.out;
}

TEST(Examples, FashionMnistRejectsBadArguments) { EXPECT_EQ(run_example("fashion_mnist", "-1").status, 2); }

TEST(Examples, SpiralsSeparatesTheArmsAndDrawsTheRegions) {
  const fs::path dir = scratch_dir("spirals");
  const fs::path svg = dir / "spirals.svg";
  const ProcessResult r = run_example("spirals", "300 '" + svg.string() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  // A 2-64-64-2 MLP after 300 full-batch Adam steps: 99.8% on fresh test points when this was
  // written. The arms overlap only through the angle noise, so 90% fails only if training broke
  // (chance is 50%).
  EXPECT_GT(number_after(r.out, "test accuracy:"), 90.0) << r.out;
  EXPECT_GT(number_after(r.out, "train accuracy:"), 90.0) << r.out;
  // The 90×90 grid is split between the classes: both regions exist and nothing is lost.
  const std::vector<std::string> grid = row(r.out, "grid points per class:");
  ASSERT_EQ(grid.size(), 2u) << r.out;
  EXPECT_GT(num(grid, 0), 0.0);
  EXPECT_GT(num(grid, 1), 0.0);
  EXPECT_EQ(num(grid, 0) + num(grid, 1), 8100.0);
  const std::string picture = read_existing(svg);
  EXPECT_EQ(picture.rfind("<svg", 0), 0u);
  // One dot per grid point, one per training point (2 × 300), one per legend entry (2).
  EXPECT_EQ(count(picture, "<circle"), 8100u + 600u + 2u);
  EXPECT_THAT(picture, HasSubstr("class 1"));
  fs::remove_all(dir);
  EXPECT_EQ(run_example("spirals", "0").status, 2);  // bad argument
}

TEST(Examples, ActivationStatsHooksMatchCalibrationAndAreRemoved) {
  const ProcessResult r = run_example("activation_stats");
  ASSERT_EQ(r.status, 0) << r.out;
  // One forward hook per module of the 5-module Sequential; none left after remove() or after
  // calibrate(), which attaches its own and must take them off.
  EXPECT_THAT(r.out, HasSubstr("hooks attached: 5\n"));
  EXPECT_THAT(r.out, HasSubstr("hooks attached after remove(): 0\n"));
  EXPECT_THAT(r.out, HasSubstr("hooks attached after calibrate(): 0\n"));
  // The hooks saw every value: 4 batches of 256 rows of 32 features.
  const std::vector<std::string> relu = row(r.out, "1      ReLU");
  ASSERT_EQ(relu.size(), 6u) << r.out;
  EXPECT_EQ(num(relu, 0), 4.0 * 256 * 32);
  EXPECT_EQ(num(relu, 1), 0.0);  // a ReLU's output never goes below 0...
  EXPECT_GT(num(relu, 5), 0.0);  // ...and some of it is exactly 0
  // The statistics collected by hand and by calibrate() come from the same values: counts and
  // ranges must be identical, for each of the three Linear layers.
  EXPECT_EQ(count(r.out, ": agree\n"), 3u) << r.out;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("DIFFER")));
  EXPECT_THAT(r.out, HasSubstr("histogram: least estimated MSE"));
  EXPECT_EQ(run_example("activation_stats", "-1").status, 2);
}

TEST(Examples, PrecisionLabFormatsOrderedAsTheirMantissas) {
  const ProcessResult r = run_example("precision_lab");
  ASSERT_EQ(r.status, 0) << r.out;
  // IEEE binary16: 65504 is the largest finite half (0x7bff), 70000 overflows to +Inf (0x7c00);
  // bfloat16 keeps float's range, so 70000 survives, rounded to 70144 (steps of 512 there).
  EXPECT_THAT(r.out, HasSubstr("65504  0x7bff           65504"));
  EXPECT_THAT(r.out, HasSubstr("70000  0x7c00             inf  0x4789           70144"));

  const std::string trips = section(r.out, "2. round trip", "3. one layer");
  ASSERT_FALSE(trips.empty()) << r.out;
  // Stored bytes of 10000 values: 4, 2, 2, 1 and ½ per value, the integer formats plus one
  // float scale and one int32 zero point.
  EXPECT_EQ(num(row(trips, "fp32"), 0), 40000.0);
  EXPECT_EQ(num(row(trips, "fp16"), 0), 20000.0);
  EXPECT_EQ(num(row(trips, "bf16"), 0), 20000.0);
  EXPECT_EQ(num(row(trips, "int8"), 0), 10008.0);
  EXPECT_EQ(num(row(trips, "int4"), 0), 5008.0);
  EXPECT_TRUE(std::isinf(num(row(trips, "fp32"), 3))) << trips;  // exact
  // SNR of N(0, 1) values. Floats: relative rounding error uniform within ±2^-(m+1) for m
  // mantissa bits, so SNR ≈ 20·log10(2^(m+1)·√3): 71 dB for fp16 (m = 10), 53 dB for bf16 (m = 7).
  // Integers: one step s = range/(2^b − 1) over the tensor's range (about ±3.9 for 10000 draws),
  // noise s²/12: 41 dB at 8 bits, 17 dB at 4 bits. Bounds ±4 dB around those.
  const double fp16 = num(row(trips, "fp16"), 3), bf16 = num(row(trips, "bf16"), 3);
  const double int8 = num(row(trips, "int8"), 3), int4 = num(row(trips, "int4"), 3);
  EXPECT_NEAR(fp16, 71.0, 4.0) << trips;
  EXPECT_NEAR(bf16, 53.0, 4.0) << trips;
  EXPECT_NEAR(int8, 41.0, 4.0) << trips;
  EXPECT_NEAR(int4, 17.0, 4.0) << trips;

  // A looser error bound never needs more bits.
  const std::string widths = section(r.out, "4. smallest bit width", "");
  double previous = 33.0;
  for (const char* bound : {"0.01", "0.02", "0.05", "0.10", "0.20", "0.50"}) {
    const std::vector<std::string> f = row(widths, std::string("     ") + bound);
    ASSERT_FALSE(f.empty()) << bound << "\n" << widths;
    const double bits = f[0] == "fp32" ? 32.0 : num(f, 0);
    EXPECT_LE(bits, previous) << bound << "\n" << widths;
    previous = bits;
  }

  EXPECT_EQ(run_example("precision_lab", "200").status, 2);  // it takes no arguments
}

TEST(Examples, QuantizeMlpKeepsAccuracyAndShrinksTheModel) {
  if (!tinyml::data::FashionMNIST::available()) GTEST_SKIP() << tinyml_test::fashion_mnist_missing();
  const ProcessResult r = run_example("quantize_mlp", "4000 2");
  ASSERT_EQ(r.status, 0) << r.out;
  // 63 Adam steps on 4000 images: about 76% when this was written; 60% is far above chance (10%).
  const double fp32 = number_after(r.out, "test accuracy");
  EXPECT_GT(fp32, 60.0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("QuantizedLinear(static+relu)"));
  // Every layer of the "mse" variant reports its clipped range (" mse", or " output-mse" when the
  // calibration batches weighed the error).
  EXPECT_EQ(count(section(r.out, "== int4 weight-only mse ==", "model   "), "mse\n"), 3u) << r.out;
  const std::string summary = section(r.out, "model   ");
  ASSERT_EQ(num(row(summary, "fp32"), 2), fp32) << summary;
  // Sizes: int8 weights (234752 bytes) are a quarter of fp32, plus per output channel an fp32
  // bias, a scale, a zero point and a column sum (16 bytes × 394 channels): 241056 of 940584
  // bytes, 0.2563, plus the packed layout's padding (0.2693 with 48 · 256 bytes). Packed int4: 0.130.
  const size_t padding = first_layer_padding();
  EXPECT_TRUE(padding == 0u || padding == 48u * 256u) << padding;
  const double int8_ratio = static_cast<double>(241056u + padding) / 940584.0;
  for (const char* name : {"dynamic int8", "static int8"}) {
    const std::vector<std::string> f = row(summary, name);
    ASSERT_EQ(f.size(), 4u) << name << "\n" << summary;
    EXPECT_NEAR(num(f, 1), int8_ratio, 0.002) << name;
    // int8 weights have an SNR of ~46 dB (the report), logits move by well under 1%: 0.1 points
    // of accuracy when this was written; 1.5 points is 150 of the 10000 test images.
    EXPECT_NEAR(num(f, 2), fp32, 1.5) << name << "\n" << summary;
  }
  for (const char* name : {"int4 weight-only minmax", "int4 weight-only mse"}) {
    const std::vector<std::string> f = row(summary, name);
    ASSERT_EQ(f.size(), 4u) << name << "\n" << summary;
    EXPECT_NEAR(num(f, 1), 0.130, 0.002) << name;
    // 16 levels per channel (weight SNR ~21 dB) cost this small MLP under 0.5 points when this
    // was written; 5 points would mean the int4 path is broken, not merely coarse.
    EXPECT_NEAR(num(f, 2), fp32, 5.0) << name << "\n" << summary;
  }
  EXPECT_EQ(run_example("quantize_mlp", "0").status, 2);
}

TEST(Examples, QuantizeMlpAndQatSkipCleanlyWithoutTheDataset) {
  // TINYML_FASHION_MNIST_DIR points the dataset at an empty folder: the programs say so and succeed,
  // so that a machine without the dataset can still run every example.
  const fs::path empty = scratch_dir("no_dataset");
  for (const char* name : {"quantize_mlp", "qat"}) {
    const ProcessResult r = run_example(name, "", "TINYML_FASHION_MNIST_DIR='" + empty.string() + "'");
    EXPECT_EQ(r.status, 0) << name << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("Fashion-MNIST not found in " + empty.string() + ": skipped")) << name;
  }
  fs::remove_all(empty);
}

TEST(Examples, QatRecoversWhatPostTrainingQuantizationLoses) {
  if (!tinyml::data::FashionMNIST::available()) GTEST_SKIP() << tinyml_test::fashion_mnist_missing();
  const ProcessResult r = run_example("qat", "4000 1 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("prepared 3 layers:"));
  EXPECT_THAT(r.out, HasSubstr("(0): QatLinear("));
  EXPECT_THAT(r.out, HasSubstr("converted 3 layers: QuantizedLinear("));
  const double fp32 = number_after(r.out, "\nfp32");
  const double ptq = number_after(r.out, "PTQ int3");
  const double fake = number_after(r.out, R"(QAT int3 \(fake quantized\))");
  const double qat = number_after(r.out, R"(QAT int3 \(converted, integer GEMM\))");
  // 32 Adam steps on 4000 images: about 69% when this was written, far above chance (10%).
  EXPECT_GT(fp32, 55.0) << r.out;
  // convert() holds the integers and int32 bias the fake-quantized model computes with, so the two
  // agree but for float rounding of the accumulation: 0.1 points is 10 of the 10000 test images.
  EXPECT_NEAR(qat, fake, 0.1) << r.out;
  // At 3 bits PTQ loses about 2 points here and one epoch of QAT wins them back (+3.0 points over
  // PTQ when this was written; the run is seeded, so the comparison is deterministic).
  EXPECT_GT(qat, ptq) << r.out;
  EXPECT_EQ(run_example("qat", "100 1 9").status, 2);  // 9 bits: out of range
}

TEST(Readme, ContainsTheQuickstartProgramVerbatim) {
  const std::string readme = read_existing(fs::path(TINYML_SOURCE_DIR) / "README.md");
  const std::string quickstart = read_existing(fs::path(TINYML_SOURCE_DIR) / "examples" / "quickstart.cpp");
  ASSERT_FALSE(quickstart.empty());
  // The README's snippet is the compiled and tested program, so it cannot go stale.
  EXPECT_THAT(readme, HasSubstr("```cpp\n" + quickstart + "```"))
      << "README.md must show examples/quickstart.cpp "
         "exactly, in a ```cpp block";
}
