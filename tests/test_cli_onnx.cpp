// `tinyml export` and `tinyml import`: a trained model goes out to ONNX and back, and the imported
// file works with eval and quantize; bad uses exit with clear errors.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

using tinyml_test::shell_quoted;
using tinyml_test::temp_path;
using tinyml_test::tinyml_cli;

using tinyml_test::ProcessResult;

double eval_accuracy(const fs::path& model) {
  const ProcessResult e = tinyml_cli("eval " + shell_quoted(model) + " --json");
  EXPECT_EQ(e.status, 0) << e.err;
  return json::parse(e.out).at("test_acc").get<double>();
}

TEST(CliOnnx, ExportImportKeepsTheAccuracyAndTheImportQuantizes) {
  const fs::path model = temp_path("spirals.safetensors"), onnx = temp_path("spirals.onnx"),
                 back = temp_path("back.safetensors"), quantized = temp_path("back_s8.safetensors"),
                 onnx_s8 = temp_path("back_s8.onnx");
  ASSERT_EQ(
      tinyml_cli("train --dataset spirals --lr 0.01 --epochs 5 --quiet --save " + shell_quoted(model)).status,
      0);
  const ProcessResult x = tinyml_cli("export " + shell_quoted(model) + " --format onnx --out " +
                                     shell_quoted(onnx) + " --opset 13");
  ASSERT_EQ(x.status, 0) << x.err;
  EXPECT_THAT(x.out, HasSubstr("checked by onnx::checker"));
  const ProcessResult i =
      tinyml_cli("import " + shell_quoted(onnx) + " --out " + shell_quoted(back) + " --dataset spirals");
  ASSERT_EQ(i.status, 0) << i.err;
  EXPECT_THAT(i.out, HasSubstr("MLP 2-64-64-3"));
  // The same float weights through the same layers: the same answers on the fixed test split.
  EXPECT_EQ(eval_accuracy(back), eval_accuracy(model));
  const ProcessResult qz =
      tinyml_cli("quantize " + shell_quoted(back) + " --mode static --out " + shell_quoted(quantized));
  ASSERT_EQ(qz.status, 0) << qz.err;
  ASSERT_EQ(tinyml_cli("export " + shell_quoted(quantized) + " --out " + shell_quoted(onnx_s8)).status, 0);
  EXPECT_LT(fs::file_size(onnx_s8), fs::file_size(onnx));
  for (const fs::path& p : {model, onnx, back, quantized, onnx_s8}) fs::remove(p);
}

TEST(CliOnnx, BadUsesExitWithClearErrors) {
  const fs::path model = temp_path("xor.safetensors"), onnx = temp_path("xor.onnx");
  ASSERT_EQ(tinyml_cli("train --dataset xor --epochs 1 --quiet --save " + shell_quoted(model)).status, 0);
  EXPECT_EQ(
      tinyml_cli("export " + shell_quoted(model) + " --out " + shell_quoted(onnx) + " --opset 12").status, 2);
  EXPECT_EQ(
      tinyml_cli("export " + shell_quoted(model) + " --format tflite --out " + shell_quoted(onnx)).status, 2);
  const ProcessResult same = tinyml_cli("export " + shell_quoted(model) + " --out " + shell_quoted(model));
  EXPECT_EQ(same.status, 1);
  EXPECT_THAT(same.err, HasSubstr("is the input model itself"));
  // A safetensors file is not ONNX: the import names the file.
  const ProcessResult notonnx = tinyml_cli("import " + shell_quoted(model) + " --out " + shell_quoted(onnx));
  EXPECT_EQ(notonnx.status, 1);
  EXPECT_THAT(notonnx.err, HasSubstr("import_onnx"));
  // The model's sizes must fit the dataset named.
  ASSERT_EQ(tinyml_cli("export " + shell_quoted(model) + " --out " + shell_quoted(onnx)).status, 0);
  const ProcessResult misfit =
      tinyml_cli("import " + shell_quoted(onnx) + " --out " + shell_quoted(temp_path("m.safetensors")) +
                 " --dataset fashion-mnist");
  EXPECT_EQ(misfit.status, 1);
  EXPECT_THAT(misfit.err, HasSubstr("does not fit"));
  fs::remove(model);
  fs::remove(onnx);
}

}  // namespace
