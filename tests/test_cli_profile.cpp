// `tinyml profile`: the per-layer table and JSON of a saved float and a saved quantized model.
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

using namespace tinyml_test;  // the shared helpers of the program tests (tests/support/process.hpp)

}  // namespace

TEST(CliProfile, FloatAndQuantizedModelsPerLayer) {
  const fs::path model = temp_path("xor.safetensors"), q = temp_path("xor-int8.safetensors");
  ASSERT_EQ(
      tinyml_cli("train --dataset xor --arch 2-8-2 --epochs 5 --batch 4 -q --save '" + model.string() + "'")
          .status,
      0);
  const tinyml_test::ProcessResult t = tinyml_cli("profile '" + model.string() + "' --batch 3 --runs 2");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("input [3, 2], mean of 2 runs"));
  EXPECT_THAT(t.out, HasSubstr("quantizing the weights"));
  const tinyml_test::ProcessResult j = tinyml_cli("profile '" + model.string() + "' --batch 3 --json");
  ASSERT_EQ(j.status, 0) << j.err;
  const json p = json::parse(j.out);
  ASSERT_EQ(p["layers"].size(), 3u);  // Linear 2-8, ReLU, Linear 8-2
  EXPECT_EQ(p["layers"][0]["flops"], 3 * (2 * 2 * 8 + 8));
  EXPECT_EQ(p["layers"][0]["bytes"], (2 * 8 + 8) * 4);
  EXPECT_EQ(p["layers"][2]["output_shape"], json::array({3, 2}));

  ASSERT_EQ(
      tinyml_cli("quantize '" + model.string() + "' --out '" + q.string() + "' --mode weight-only").status,
      0);
  const json pq = json::parse(tinyml_cli("profile '" + q.string() + "' --json").out);
  EXPECT_EQ(pq["layers"][0]["type"], "QuantizedLinear");
  EXPECT_EQ(pq["layers"][0]["bits"], 8);
  EXPECT_EQ(pq["layers"][0]["bytes"], p["layers"][0]["int8_bytes"]) << "the float profile predicted it";

  EXPECT_EQ(tinyml_cli("profile '" + model.string() + "' --batch 0").status, 2);
  EXPECT_EQ(tinyml_cli("profile /nonexistent.safetensors").status, 2);
  fs::remove(model);
  fs::remove(q);
}
