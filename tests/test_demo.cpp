// Tests for `tinyml demo`: its table checked against separate evaluations of the models it saved, its
// report and figures, its option errors; and the chart kinds the report uses (heat map, overlaid histograms).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lab/graphviz.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/process.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/plot/svg.hpp"
#include "tinyml/quant/quantize_model.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

using namespace tinyml_test;  // the shared helpers of the program tests (tests/support/process.hpp)

struct Score {
  size_t correct = 0;
  size_t n = 0;
};

// Argmax accuracy of a model on the test images, in batches of 1000 from the start as the demo
// evaluates (dynamic quantization picks each batch's input range, so the batches must match).
Score score(tinyml::nn::Sequential& model, const tinyml::data::FashionMNIST& test) {
  tinyml::NoGradGuard no_grad;
  model.eval();
  Score s;
  for (size_t start = 0; start < test.size(); start += 1000) {
    std::vector<size_t> idx(std::min<size_t>(1000, test.size() - start));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = start + i;
    const tinyml::data::Batch b = test.get_batch(idx);
    const std::vector<float> pred = model(b.data).argmax(1).to_vector();
    const std::vector<float> target = b.target.to_vector();
    for (size_t i = 0; i < pred.size(); ++i) s.correct += pred[i] == target[i] ? 1 : 0;
    s.n += pred.size();
  }
  return s;
}

// The subset the demo runs on here: 1 epoch on 2000 training images, 600 test images (one batch),
// 2 calibration batches, one timed pass per model. A few seconds on one thread.
constexpr int kTestLimit = 600;

// The checks of one demo run's JSON (`out`) and stderr, each a function so that one run serves all.
void check_table(const json& out, const ProcessResult& result) {
  const std::vector<std::string> keys{"fp32",     "int8_dynamic", "int8_static", "int4_minmax",
                                      "int4_mse", "mixed",        "int4_qat"};
  ASSERT_EQ(out["rows"].size(), keys.size()) << out.dump();
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(out["rows"][i]["key"], keys[i]);
  EXPECT_EQ(out["test_n"].get<size_t>(), static_cast<size_t>(kTestLimit));
  EXPECT_EQ(out["train_n"].get<size_t>(), 2000u);
  ASSERT_EQ(out["epochs"].size(), 1u);
  // --json keeps stderr free of progress output.
  EXPECT_EQ(result.err, "");
}

void check_against_saved_models(const json& out) {
  const tinyml::data::FashionMNIST test(tinyml::data::FashionMNIST::default_root(), false, kTestLimit);
  const json& rows = out["rows"];
  const double fp32_acc = rows[0]["accuracy"].get<double>();
  const double fp32_ms = rows[0]["ms_per_1000"].get<double>();
  for (const json& row : rows) {
    SCOPED_TRACE(row.dump());
    const std::string file = row["file"].get<std::string>();
    ASSERT_TRUE(fs::exists(file));
    auto model = tinyml::io::load_model(file);
    const Score s = score(*model, test);
    // The same models on the same images in the same batches: the counts agree exactly.
    EXPECT_EQ(s.n, static_cast<size_t>(kTestLimit));
    EXPECT_EQ(row["n"].get<size_t>(), s.n);
    EXPECT_EQ(row["correct"].get<size_t>(), s.correct);
    EXPECT_EQ(row["accuracy"].get<double>(), static_cast<double>(s.correct) / static_cast<double>(s.n));
    // The other columns, from the files themselves.
    EXPECT_EQ(row["file_bytes"].get<uintmax_t>(), fs::file_size(file));
    EXPECT_EQ(row["memory_bytes"].get<size_t>(), tinyml::quant::model_bytes(*model));
    EXPECT_DOUBLE_EQ(row["delta_points"].get<double>(), 100.0 * (row["accuracy"].get<double>() - fp32_acc));
    const double ms = row["ms_per_1000"].get<double>();
    ASSERT_GT(ms, 0.0);
    EXPECT_DOUBLE_EQ(row["speedup"].get<double>(), fp32_ms / ms);
  }
  // Sizes that follow from the storage: int8 weights take a quarter of fp32's bytes (plus scales,
  // biases and cached sums, well under 5% here), packed int4 an eighth.
  const auto mem = [&rows](size_t i) { return static_cast<double>(rows[i]["memory_bytes"].get<size_t>()); };
  EXPECT_NEAR(mem(1) / mem(0), 0.25, 0.02);
  EXPECT_NEAR(mem(3) / mem(0), 0.125, 0.02);
  EXPECT_LT(mem(5), mem(0));  // mixed: the middle layer is int4
  EXPECT_GT(mem(5), mem(3));
}

void check_bit_sweep(const json& out) {
  const json& bits = out["accuracy_vs_bits"];
  ASSERT_EQ(bits.size(), 7u);
  for (size_t i = 0; i < bits.size(); ++i) EXPECT_EQ(bits[i]["bits"].get<int>(), static_cast<int>(i) + 2);
  EXPECT_EQ(bits[2]["minmax"], out["rows"][3]["accuracy"]);
  EXPECT_EQ(bits[2]["mse"], out["rows"][4]["accuracy"]);
  for (const json& p : bits)
    for (const char* k : {"minmax", "mse"}) {
      EXPECT_GE(p[k].get<double>(), 0.0) << p.dump();
      EXPECT_LE(p[k].get<double>(), 1.0) << p.dump();
    }
  // At 8 bits per channel the weights keep ~40 dB SNR and only the odd borderline image changes
  // its prediction: 2% (12 of the 600 images) is a wide bound for the same model in float.
  EXPECT_NEAR(bits[6]["minmax"].get<double>(), out["rows"][0]["accuracy"].get<double>(), 0.02);
  EXPECT_NEAR(bits[6]["mse"].get<double>(), out["rows"][0]["accuracy"].get<double>(), 0.02);
  ASSERT_TRUE(out.contains("qat_control"));
  EXPECT_EQ(out["qat_control"]["epochs"].get<int>(), 1);
}

void check_report(const json& out) {
  const fs::path report = out["report"].get<std::string>();
  ASSERT_TRUE(fs::exists(report));
  const std::string md = read_text(report);
  const std::regex image(R"(!\[[^\]]*\]\(([^)]+)\))");
  std::set<std::string> referenced;
  for (auto it = std::sregex_iterator(md.begin(), md.end(), image); it != std::sregex_iterator(); ++it)
    referenced.insert((*it)[1].str());
  std::set<std::string> listed;
  for (const json& f : out["figures"]) listed.insert(f.get<std::string>());
  EXPECT_EQ(referenced, listed);
  // Seven charts, and the model's graph when Graphviz could draw it (check_graph).
  const bool graph_drawn = listed.count("model.svg") == 1;
  EXPECT_EQ(referenced.size(), graph_drawn ? 8u : 7u);
  for (const std::string& name : referenced) {
    SCOPED_TRACE(name);
    if (name == "model.svg") continue;  // Graphviz's SVG, checked in check_graph
    const fs::path p = report.parent_path() / name;
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(p.extension(), ".svg");
    const std::string svg = read_text(p);
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_THAT(svg, ::testing::EndsWith("</svg>\n"));
  }
  // The report carries the same table: every model with its accuracy as printed.
  for (const json& row : out["rows"]) {
    const std::string line = fmt::format("| {} | {:.2f}% |", row["model"].get<std::string>(),
                                         100.0 * row["accuracy"].get<double>());
    EXPECT_THAT(md, HasSubstr(line));
  }
}

// The float model's graph: model.dot beside the report, in DOT, naming every layer of the saved fp32
// model; the report shows Graphviz's drawing of it, or says how to draw it.
void check_graph(const json& out) {
  const fs::path report = out["report"].get<std::string>();
  const fs::path dot = out["graph"].get<std::string>();
  EXPECT_EQ(dot, report.parent_path() / "model.dot");
  ASSERT_TRUE(fs::exists(dot));
  const std::string text = read_text(dot);
  EXPECT_EQ(text.rfind("digraph ", 0), 0u) << text;
  EXPECT_THAT(text, ::testing::EndsWith("}\n"));
  auto model = tinyml::io::load_model(out["rows"][0]["file"].get<std::string>());
  size_t layers = 0;
  for (const auto& [name, m] : model->named_modules()) {
    if (name.empty() || !m->named_children().empty()) continue;
    ++layers;
    EXPECT_THAT(text, HasSubstr("\"" + name + ": " + m->type_name() + "\\n")) << text;
  }
  EXPECT_EQ(layers, 5u);  // Linear, ReLU, Linear, ReLU, Linear
  const std::string md = read_text(report);
  EXPECT_THAT(md, HasSubstr("[model.dot](model.dot)"));
  bool drawn = false;
  for (const json& f : out["figures"]) drawn = drawn || f.get<std::string>() == "model.svg";
  if (drawn) {
    EXPECT_THAT(md, HasSubstr("![model graph](model.svg)"));
    EXPECT_THAT(read_text(report.parent_path() / "model.svg"), HasSubstr("<svg"));
  } else {
    EXPECT_THAT(md, HasSubstr("dot -Tsvg model.dot -o model.svg"));
  }
}

}  // namespace

// One run (it is the expensive part: a few seconds on one thread) and every check against it.
TEST(Demo, TableMatchesSeparateEvaluationsOfTheSavedModelsAndTheReportIsComplete) {
  if (!tinyml::data::FashionMNIST::available()) GTEST_SKIP() << tinyml_test::fashion_mnist_missing();
  const fs::path dir = temp_path("out");
  fs::remove_all(dir);
  struct RemoveOnExit {
    fs::path p;
    ~RemoveOnExit() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  const ProcessResult r = tinyml_cli(
      "demo --epochs 1 --qat-epochs 1 --train-limit 2000 --test-limit " + std::to_string(kTestLimit) +
      " --calib-batches 2 --repeat 1 --threads 1 --json --out '" + dir.string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  const json out = json::parse(r.out);  // throws (fails the test) unless stdout is one JSON object
  {
    SCOPED_TRACE("table");
    check_table(out, r);
  }
  if (::testing::Test::HasFatalFailure()) return;
  {
    SCOPED_TRACE("saved models");
    check_against_saved_models(out);
  }
  if (::testing::Test::HasFatalFailure()) return;
  {
    SCOPED_TRACE("bit-width sweep");
    check_bit_sweep(out);
  }
  if (::testing::Test::HasFatalFailure()) return;
  {
    SCOPED_TRACE("report");
    check_report(out);
  }
  {
    SCOPED_TRACE("graph");
    check_graph(out);
  }
}

// Drawing the graph never fails the demo: a missing or failing `dot` is reported, and leaves no
// partial picture behind.
TEST(DemoGraph, AMissingOrFailingDotProgramIsReportedNotThrown) {
  const fs::path dot = temp_path("g.dot"), svg = temp_path("g.svg");
  std::ofstream(dot) << "digraph g { a -> b; }\n";
  std::ofstream(svg) << "stale";
  const tinyml::cli::DotDrawing missing =
      tinyml::cli::draw_dot_as_svg(dot.string(), svg.string(), "tinyml-no-such-program");
  EXPECT_FALSE(missing.drawn);
  EXPECT_THAT(missing.problem, HasSubstr("`tinyml-no-such-program` (Graphviz) is not installed"));
  EXPECT_FALSE(fs::exists(svg));
  const tinyml::cli::DotDrawing failing = tinyml::cli::draw_dot_as_svg(dot.string(), svg.string(), "false");
  EXPECT_FALSE(failing.drawn);
  EXPECT_THAT(failing.problem, HasSubstr("`false` failed (status 1)"));
  const tinyml::cli::DotDrawing real = tinyml::cli::draw_dot_as_svg(dot.string(), svg.string());
  if (real.drawn)
    EXPECT_THAT(read_text(svg), HasSubstr("<svg"));
  else
    EXPECT_THAT(real.problem, HasSubstr("`dot`"));
  fs::remove(dot);
  fs::remove(svg);
}

TEST(DemoOptions, BadValuesAreRejectedNamingTheOption) {
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"demo --epochs 0", "--epochs: must be an integer >= 1, got '0'"},
           {"demo --qat-epochs -1", "--qat-epochs: must be an integer >= 0, got '-1'"},
           {"demo --threads -2", "--threads: must be an integer >= 0, got '-2'"},
           {"demo --test-limit 0", "--test-limit: must be an integer >= 1, got '0'"},
           {"demo --repeat x", "--repeat: must be an integer >= 1, got 'x'"},
           {"demo --bits 4", "--bits"}}) {
    SCOPED_TRACE(args);
    const ProcessResult r = tinyml_cli(args);
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(r.out, "");
  }
}

TEST(DemoOptions, AnOutputFolderThatCannotBeMadeIsAnError) {
  const fs::path file = temp_path("a_file");
  std::ofstream(file) << "x";
  const ProcessResult r = tinyml_cli("demo --out '" + (file / "sub").string() + "'");
  fs::remove(file);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("demo: cannot create the output folder"));
}

// ---- the chart kinds the report draws ----

namespace svg = tinyml::plot;

TEST(DemoCharts, HeatMapDrawsOneCellPerValueWithItsText) {
  svg::HeatMap m;
  m.row_labels = {"a", "b"};
  m.col_labels = {"x", "y", "z"};
  m.values = {0, 1, 2, 3, 4, 5};
  m.cell_text = {"c0", "c1", "c2", "c3", "c4", "c5"};
  m.color = "#000000";
  svg::Chart chart;
  chart.title = "t";
  const std::string s = svg::heatmap(chart, m);
  for (const std::string& t : m.cell_text) EXPECT_EQ(count(s, ">" + t + "<"), 1u) << t;
  // lo (0) is white, hi (5) the colour (the colour bar's slices carry no stroke, so only cells count).
  EXPECT_EQ(count(s, "fill=\"#ffffff\" stroke=\"white\""), 1u);
  EXPECT_EQ(count(s, "fill=\"#000000\" stroke=\"white\""), 1u);
  // The middle value 2 of [0, 5] at gamma 1: 255·(1 − 0.4) = 153 = 0x99.
  EXPECT_EQ(count(s, "fill=\"#999999\" stroke=\"white\""), 1u);
}

TEST(DemoCharts, HeatMapRejectsMismatchedInput) {
  svg::HeatMap m;
  m.row_labels = {"a", "b"};
  m.col_labels = {"x"};
  m.values = {1, 2, 3};
  EXPECT_THROW(svg::heatmap({}, m), tinyml::Error);  // 3 values for 2 cells
  m.values = {1, 2};
  m.cell_text = {"only one"};
  EXPECT_THROW(svg::heatmap({}, m), tinyml::Error);
  m.cell_text = {};
  m.color = "blue";
  EXPECT_THROW(svg::heatmap({}, m), tinyml::Error);
  m.color = "#123456";
  m.gamma = 0;
  EXPECT_THROW(svg::heatmap({}, m), tinyml::Error);
  m.gamma = 1;
  EXPECT_NO_THROW(svg::heatmap({}, m));
}

TEST(DemoCharts, OverlaidHistogramsNeedOneCountPerBinEach) {
  const std::vector<double> edges{0, 1, 2};
  EXPECT_THROW(svg::histograms({}, edges, {{"a", {1, 2}, ""}, {"b", {1}, ""}}), tinyml::Error);
  EXPECT_THROW(svg::histograms({}, edges, {}), tinyml::Error);
  const std::string s =
      svg::histograms({}, edges, {{"first", {1, 2}, "#111111"}, {"second", {3, 0}, "#222222"}},
                      {{1.5, "in legend", "#333333", true}});
  EXPECT_EQ(count(s, ">first<"), 1u);
  EXPECT_EQ(count(s, ">second<"), 1u);
  EXPECT_EQ(count(s, ">in legend<"), 1u);
  EXPECT_EQ(count(s, "fill-opacity=\"0.6\""), 4u);  // two bar groups and two legend swatches
}
