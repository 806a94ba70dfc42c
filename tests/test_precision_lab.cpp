// Tests of `tinyml precision` (lab/precision*, lab/argmax_flips.*): its own experiment, the argmax flips of
// a wide classifier, and its results shown as text, JSON and figures.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "lab/argmax_flips.hpp"
#include "lab/precision.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"

using namespace tinyml;
using tinyml::cli::precision::argmax_flip_experiment;
using tinyml::cli::precision::FlipResult;

// With 4096 classes the two largest logits of the random MLP are close, so weight noise moves
// the winner; int4 weights (~25 dB less weight SNR than int8, 20·log10(127/7)) flip more.
TEST(ArgmaxFlip, Int4FlipsMoreThanInt8) {
  Generator gen(12);
  const FlipResult r = argmax_flip_experiment(gen, 200);
  EXPECT_EQ(r.samples, 200);
  EXPECT_EQ(r.classes, 4096);
  EXPECT_GT(r.flips_int4, r.flips_int8);
  EXPECT_LE(r.flips_int4, r.samples);
  EXPECT_GT(r.mean_top2_gap, 0.0);
  EXPECT_GT(r.logit_snr_int8_db, r.logit_snr_int4_db + 15.0);
  EXPECT_THROW(argmax_flip_experiment(gen, 0), Error);
}

// `tinyml precision` measures once (compute) and shows the same results as text, as JSON and as
// figures: every view carries the numbers of the one Results.
TEST(PrecisionLab, TextJsonAndFiguresShowTheSameResults) {
  tinyml::cli::precision::Options o;
  o.out = (std::filesystem::temp_directory_path() / "tinyml_test_precision_lab").string();
  o.dataset = "xor";
  o.train_limit = 256;
  o.calib_batches = 1;
  o.bits = 3;
  std::filesystem::create_directories(o.out);
  const tinyml::cli::precision::Results r = tinyml::cli::precision::compute(o);
  EXPECT_EQ(r.w_name, "0");
  EXPECT_EQ(r.a_name, "2");
  ASSERT_EQ(r.formats.size(), 5u);
  EXPECT_EQ(r.table_b.size(), 2u);  // xor's 2-8-2 MLP; at 3 bits, a table of its own beside int8 and int4

  const nlohmann::json j = nlohmann::json::parse(tinyml::cli::precision::render_json(r, o.out));
  EXPECT_EQ(j["bits"], 3);
  EXPECT_EQ(j["model"], r.model_text);
  EXPECT_EQ(j["error_histogram"]["step"].get<double>(), r.step);
  EXPECT_EQ(j["weight_errors_int3"].size(), 2u);
  EXPECT_EQ(j["argmax_flips"]["flips_int4"].get<int64_t>(), r.flips.flips_int4);

  const std::string text = tinyml::cli::precision::render_text(r, o.out);
  EXPECT_NE(text.find(fmt::format("step {:.4g};", r.step)), std::string::npos) << text;
  EXPECT_NE(text.find("== Weight errors per layer, int3 symmetric per-channel =="), std::string::npos);
  EXPECT_NE(text.find(fmt::format("int4: {} of {} predictions change", r.flips.flips_int4, r.flips.samples)),
            std::string::npos);

  tinyml::cli::precision::write_figures(r, o.out);
  for (const char* name :
       {"error_hist_int3.svg", "scatter_int3.svg", "snr_vs_bits.svg", "activation_hist_int3.svg"})
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(o.out) / name)) << name;
  std::filesystem::remove_all(o.out);
}
