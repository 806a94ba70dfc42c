// Tests for the `tinyml` command-line program: JSON output, save/eval round trip, option errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/process.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

using namespace tinyml_test;  // the shared helpers of the program tests (tests/support/process.hpp)

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(json::parse(line));  // throws (fails the test) on non-JSON
  }
  return lines;
}

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  return keys;
}

// The XOR run used by several tests: full batch (4 points), Adam 0.05, 200 epochs = 200 steps.
// The heavier runs below pass --threads 1: ctest runs tests side by side on small CI machines,
// where several BLAS/OpenMP thread pools would compete for the cores. The tiny XOR runs keep the
// default, so that path is exercised too.
const char* kXorArgs = "train --dataset xor --arch 2-8-2 --lr 0.05 --batch 4 --epochs 200 --json";

}  // namespace

// tinyml-course is `tinyml course` in a program of its own (a student's copy builds it first): the
// same commands, messages and exit statuses.
TEST(CliCourse, TinymlCourseIsTheCourseCommandOnItsOwn) {
  for (const std::string args : {"test", "test 42 --no-build", "grade --fail-under 101", "list --jobs -1"}) {
    const ProcessResult alone = run_program("tinyml-course", args);
    const ProcessResult sub = run_program("tinyml", "course " + args);
    EXPECT_NE(alone.status, 0) << args;
    EXPECT_EQ(alone.status, sub.status) << args;
    EXPECT_EQ(alone.err, sub.err) << args;
    EXPECT_EQ(alone.out, sub.out) << args;
  }
  const ProcessResult help = run_program("tinyml-course", "--help");
  EXPECT_EQ(help.status, 0);
  for (const char* command : {"make-assignment", "test", "grade", "list"})
    EXPECT_THAT(help.out, HasSubstr(command));
}

TEST(CliTrain, XorJsonHasOneObjectPerEpochWithTheDocumentedKeys) {
  const ProcessResult r = tinyml_cli(kXorArgs);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 200u);
  const std::set<std::string> expected{"epoch", "epoch_s", "train_loss", "test_acc"};
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& l = lines[i];
    ASSERT_EQ(keys_of(l), expected) << l.dump();
    EXPECT_EQ(l["epoch"].get<int>(), static_cast<int>(i) + 1);
    EXPECT_GE(l["epoch_s"].get<double>(), 0.0);
    const double loss = l["train_loss"].get<double>();
    EXPECT_TRUE(std::isfinite(loss) && loss >= 0.0) << l.dump();
    // Four test points: the accuracy can only be a multiple of 1/4.
    const double acc = l["test_acc"].get<double>();
    EXPECT_DOUBLE_EQ(acc * 4.0, std::round(acc * 4.0)) << l.dump();
  }
  // Cross-entropy starts near ln 2 ≈ 0.69 (two classes, small initial logits); 200 full-batch Adam
  // steps drive it below 1e-3 on these four separable points, so 0.05 leaves a wide margin.
  EXPECT_GT(lines.front()["train_loss"].get<double>(), 0.3);
  EXPECT_LT(lines.back()["train_loss"].get<double>(), 0.05);
  EXPECT_EQ(lines.back()["test_acc"].get<double>(), 1.0);
  // --json keeps stderr free of progress output, so logs of scripted runs stay clean.
  EXPECT_EQ(r.err, "");
}

TEST(CliTrain, SameSeedGivesTheSameRunAndAnotherSeedAnotherRun) {
  const ProcessResult a = tinyml_cli(std::string(kXorArgs) + " --seed 7");
  const ProcessResult b = tinyml_cli(std::string(kXorArgs) + " --seed 7");
  const ProcessResult c = tinyml_cli(std::string(kXorArgs) + " --seed 8");
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  ASSERT_EQ(c.status, 0) << c.err;
  const auto losses = [](const ProcessResult& r) {
    std::vector<double> v;
    for (const json& l : json_lines(r.out)) v.push_back(l["train_loss"].get<double>());
    return v;
  };
  EXPECT_EQ(losses(a), losses(b));
  EXPECT_NE(losses(a), losses(c));
}

TEST(CliTrain, HumanOutputHasTheTableAndTheFinalAccuracy) {
  const ProcessResult r = tinyml_cli("train --dataset xor --lr 0.05 --batch 4 --epochs 200 --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("MLP 2-8-2"));  // the dataset's default architecture
  EXPECT_THAT(r.out, HasSubstr("train_loss"));
  EXPECT_THAT(r.out, HasSubstr("test accuracy 100.00% (4/4)"));
  // 200 epochs are thinned to every 8th row plus the first: about 25 rows, not 200.
  EXPECT_THAT(r.out, HasSubstr("\n  200 "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("\n  199 ")));
}

TEST(CliTrain, SpiralsSavedModelEvaluatesToTheAccuracyReportedByTraining) {
  const fs::path model = temp_path("spirals.safetensors");
  const ProcessResult t =
      tinyml_cli("train --dataset spirals --lr 0.01 --batch 64 --epochs 30 --threads 1 --json --save '" +
                 model.string() + "'");
  ASSERT_EQ(t.status, 0) << t.err;
  ASSERT_TRUE(fs::exists(model));
  const std::vector<json> epochs = json_lines(t.out);
  ASSERT_EQ(epochs.size(), 30u);
  const double trained_acc = epochs.back()["test_acc"].get<double>();
  // Chance is 1/3; 30 epochs of a 2-64-64-3 MLP separate the arms almost entirely (0.99 when
  // this was written), so 0.9 only fails if training or the data broke.
  EXPECT_GT(trained_acc, 0.9);

  const ProcessResult e = tinyml_cli("eval '" + model.string() + "' --json");
  ASSERT_EQ(e.status, 0) << e.err;
  const std::vector<json> out = json_lines(e.out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(keys_of(out[0]), (std::set<std::string>{"test_acc", "n", "infer_ms_per_1000"}));
  // The same weights on the same fixed test split: the same count of correct answers exactly.
  EXPECT_EQ(out[0]["test_acc"].get<double>(), trained_acc);
  EXPECT_EQ(out[0]["n"].get<int>(), 600);  // 3 classes × 200 test points
  EXPECT_GT(out[0]["infer_ms_per_1000"].get<double>(), 0.0);

  // --limit evaluates an evenly spaced subset of that size.
  const ProcessResult limited =
      tinyml_cli("eval '" + model.string() + "' --dataset spirals --limit 60 --json");
  ASSERT_EQ(limited.status, 0) << limited.err;
  EXPECT_EQ(json_lines(limited.out).at(0)["n"].get<int>(), 60);

  const ProcessResult human = tinyml_cli("eval '" + model.string() + "'");
  ASSERT_EQ(human.status, 0) << human.err;
  EXPECT_THAT(human.out, HasSubstr("MLP 2-64-64-3"));
  EXPECT_THAT(human.out, HasSubstr("test accuracy"));
  fs::remove(model);
}

TEST(CliTrain, FashionMnistSubsetTrainsInOneEpoch) {
  if (!tinyml::data::FashionMNIST::available()) GTEST_SKIP() << tinyml_test::fashion_mnist_missing();
  const ProcessResult r =
      tinyml_cli("train --dataset fashion-mnist --limit 2000 --epochs 1 --threads 1 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  // 16 Adam steps on 2000 images already lift the 10-class accuracy far above chance (0.1):
  // about 0.65 when this was written; 0.4 leaves room for other seeds' orders.
  EXPECT_GT(lines[0]["test_acc"].get<double>(), 0.4);
  EXPECT_LT(lines[0]["train_loss"].get<double>(), std::log(10.0));  // below the loss of a uniform guess
}

// ---- bad input: a non-zero status and a message naming the option and the value ----

TEST(CliQuantize, Int4DynamicAndQatFilesArePackedAndReloadToTheirAccuracy) {
  const fs::path model = temp_path("spirals_fp32.safetensors");
  ASSERT_EQ(
      tinyml_cli("train --dataset spirals --lr 0.01 --batch 64 --epochs 5 --threads 1 --quiet --save '" +
                 model.string() + "'")
          .status,
      0);
  // int4 weights in dynamic mode: packed two per byte, run through the int8 GEMM.
  const fs::path q4 = temp_path("spirals_int4.safetensors");
  const ProcessResult q = tinyml_cli("quantize '" + model.string() +
                                     "' --bits 4 --mode dynamic --json --out '" + q4.string() + "'");
  ASSERT_EQ(q.status, 0) << q.err;
  const std::vector<json> ql = json_lines(q.out);
  ASSERT_EQ(ql.size(), 1u);
  EXPECT_EQ(ql[0]["quantization"], "dynamic int4 symmetric per-channel(axis=0)");
  EXPECT_EQ(ql[0]["file_bytes_after"].get<uintmax_t>(), fs::file_size(q4));
  EXPECT_LT(ql[0]["file_bytes_after"].get<double>(), ql[0]["file_bytes_before"].get<double>());
  for (const json& layer : ql[0]["report"]["layers"]) EXPECT_EQ(layer["kind"], "QuantizedLinear(dynamic)");
  const ProcessResult e = tinyml_cli("eval '" + q4.string() + "' --json");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_EQ(json_lines(e.out).back()["test_acc"], ql[0]["acc_after"]) << e.out;

  // QAT at 4 bits, converted to static layers that keep their weights packed; the histogram PTQ
  // baseline is reported at every width.
  const fs::path qat = temp_path("spirals_qat4.safetensors");
  const ProcessResult t =
      tinyml_cli("qat '" + model.string() + "' --bits 4 --epochs 1 --json --out '" + qat.string() + "'");
  ASSERT_EQ(t.status, 0) << t.err;
  const std::vector<json> tl = json_lines(t.out);
  ASSERT_EQ(tl.size(), 1u);
  for (const char* key :
       {"acc_fp32", "acc_ptq", "acc_ptq_static_histogram", "acc_qat", "acc_qat_fake_quant"}) {
    ASSERT_TRUE(tl[0].contains(key)) << key;
    EXPECT_GE(tl[0][key].get<double>(), 0.0) << key;
    EXPECT_LE(tl[0][key].get<double>(), 1.0) << key;
  }
  EXPECT_EQ(tl[0]["file_bytes_after"].get<uintmax_t>(), fs::file_size(qat));
  // A byte per int4 weight would make the converted file larger than the dynamic int4 one by the
  // 64·64 + 2·64 + 64·3 = 4,416 weights' extra half bytes, 2,208; packed, only the static layers'
  // input qparams and int32 biases are added.
  EXPECT_LT(static_cast<double>(fs::file_size(qat)), static_cast<double>(fs::file_size(q4)) + 2208.0);
  const ProcessResult te = tinyml_cli("eval '" + qat.string() + "' --json");
  ASSERT_EQ(te.status, 0) << te.err;
  EXPECT_EQ(json_lines(te.out).back()["test_acc"], tl[0]["acc_qat"]) << te.out;
  for (const fs::path& f : {model, q4, qat}) fs::remove(f);
}

// A report's "made by" line: only what the user typed, each default left where it is declared.
TEST(CliCommandLine, RepeatsTheGivenOptionsOnly) {
  CLI::App app;
  CLI::App* cmd = app.add_subcommand("demo");
  std::string in, out, observer = "histogram";
  int epochs = 5;
  uint64_t seed = 0;
  bool json = false, quiet = false;
  cmd->add_option("in", in);
  cmd->add_option("--epochs", epochs)->capture_default_str();
  cmd->add_option("--seed", seed)->capture_default_str();
  cmd->add_option("-o,--out", out);
  cmd->add_option("--observer", observer)->capture_default_str();
  cmd->add_flag("--json", json);
  cmd->add_flag("-q,--quiet", quiet);
  const std::vector<std::string> args = {"demo",     "--json", "-o",           "my report's dir",
                                         "--epochs", "3",      "m.safetensors"};
  app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 takes them in reverse
  EXPECT_EQ(tinyml::cli::given_command_line(*cmd),
            "tinyml demo m.safetensors --epochs 3 --out 'my report'\\''s dir' --json");
  CLI::App bare;
  CLI::App* plain = bare.add_subcommand("demo");
  plain->add_option("--epochs", epochs)->capture_default_str();
  bare.parse(std::vector<std::string>{"demo"});
  EXPECT_EQ(tinyml::cli::given_command_line(*plain), "tinyml demo");
}

TEST(CliErrors, NegativeLearningRate) {
  const ProcessResult r = tinyml_cli("train --dataset xor --lr -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("--lr"));
  EXPECT_THAT(r.err, HasSubstr("-1"));
  EXPECT_EQ(r.out, "");
}

TEST(CliErrors, MalformedArchitecture) {
  const ProcessResult r = tinyml_cli("train --arch 784-x-10");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("--arch"));
  EXPECT_THAT(r.err, HasSubstr("784-x-10"));
  EXPECT_THAT(r.err, HasSubstr("'x'"));
  for (const char* bad : {"10", "784--10", "784-0-10", "-784-10", "784-10-"}) {
    const ProcessResult b = tinyml_cli(std::string("train --dataset xor --arch=") + bad);
    EXPECT_EQ(b.status, 2) << bad;
    EXPECT_THAT(b.err, HasSubstr(bad));
  }
}

TEST(CliErrors, ArchitectureThatDoesNotFitTheDataset) {
  const ProcessResult r = tinyml_cli("train --dataset xor --arch 784-10");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("error: --arch 784-10 does not fit dataset 'xor'"));
  EXPECT_THAT(r.err, HasSubstr("2-...-2"));
}

TEST(CliErrors, UnknownDatasetOptimizerAndSuite) {
  const ProcessResult d = tinyml_cli("train --dataset mnist");
  EXPECT_EQ(d.status, 2);
  EXPECT_THAT(d.err, HasSubstr("--dataset"));
  EXPECT_THAT(d.err, HasSubstr("mnist"));
  const ProcessResult o = tinyml_cli("train --dataset xor --optimizer rmsprop");
  EXPECT_EQ(o.status, 2);
  EXPECT_THAT(o.err, HasSubstr("rmsprop"));
  const ProcessResult s = tinyml_cli("bench --suite nope");
  EXPECT_EQ(s.status, 2);
  EXPECT_THAT(s.err, HasSubstr("unknown suite 'nope'"));
  EXPECT_THAT(s.err, HasSubstr("core"));
}

TEST(CliErrors, OutOfRangeIntegers) {
  for (const std::string& args :
       {std::string("--batch 0"), std::string("--epochs -1"), std::string("--threads -2"),
        std::string("--limit 0"), std::string("--momentum 1.5")}) {
    const ProcessResult r = tinyml_cli("train --dataset xor " + args);
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_THAT(r.err, HasSubstr(args.substr(0, args.find(' ')))) << args;
  }
}

TEST(CliErrors, SaveIntoAMissingFolderFailsBeforeTraining) {
  const ProcessResult r =
      tinyml_cli("train --dataset xor --epochs 1 --json --save /nonexistent/dir/m.safetensors");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("--save /nonexistent/dir/m.safetensors: the folder '/nonexistent/dir'"));
  EXPECT_EQ(r.out, "");  // no epoch ran
}

TEST(CliErrors, MissingSubcommandOrModelFile) {
  EXPECT_EQ(tinyml_cli("").status, 2);
  const ProcessResult r = tinyml_cli("eval /nonexistent/model.safetensors");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/model.safetensors"));
}

TEST(CliErrors, ModelFilesThatCannotBeRebuilt) {
  // A valid safetensors file without the metadata `train --save` writes.
  const fs::path plain = temp_path("plain.safetensors");
  tinyml::Generator gen(0);
  tinyml::nn::Linear layer(2, 2, true, gen);
  tinyml::io::save(layer, plain.string());
  const ProcessResult a = tinyml_cli("eval '" + plain.string() + "' --dataset xor");
  EXPECT_EQ(a.status, 1);
  EXPECT_THAT(a.err, HasSubstr("error: model file"));
  EXPECT_THAT(a.err, HasSubstr("neither a module tree nor an 'arch'"));
  fs::remove(plain);

  // Not a safetensors file at all.
  const fs::path garbage = temp_path("garbage.safetensors");
  std::ofstream(garbage) << "this is not a model";
  const ProcessResult b = tinyml_cli("eval '" + garbage.string() + "' --dataset xor");
  EXPECT_EQ(b.status, 1);
  EXPECT_THAT(b.err, HasSubstr("error: "));
  EXPECT_THAT(b.err, HasSubstr(garbage.string()));
  fs::remove(garbage);

  // A model trained on one dataset, evaluated on another with other shapes.
  const fs::path xor_model = temp_path("xor.safetensors");
  ASSERT_EQ(tinyml_cli("train --dataset xor --epochs 1 --json --save '" + xor_model.string() + "'").status,
            0);
  const ProcessResult c = tinyml_cli("eval '" + xor_model.string() + "' --dataset spirals");
  EXPECT_EQ(c.status, 1);
  EXPECT_THAT(c.err, HasSubstr("does not fit dataset 'spirals'"));
  fs::remove(xor_model);
}

TEST(CliEval, ReadsPlainStateDictsWithAnArchAndWholeModelFiles) {
  tinyml::Generator gen(0);
  // A plain state dict of the MLP layout, with the metadata naming its architecture.
  const fs::path plain = temp_path("plain_mlp.safetensors");
  tinyml::nn::Sequential mlp(std::make_shared<tinyml::nn::Linear>(2, 8, true, gen),
                             std::make_shared<tinyml::nn::ReLU>(),
                             std::make_shared<tinyml::nn::Linear>(8, 2, true, gen));
  tinyml::io::save_state_dict(mlp.state_dict(), plain.string(), {{"arch", "2-8-2"}, {"dataset", "xor"}});
  const ProcessResult a = tinyml_cli("eval '" + plain.string() + "' --json");
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(json_lines(a.out).at(0)["n"].get<int>(), 4);
  fs::remove(plain);

  // A whole-model file of another shape of network (Tanh), without any CLI metadata: the module
  // tree in the file is enough, and --dataset names the data.
  const fs::path whole = temp_path("tanh_model.safetensors");
  tinyml::nn::Sequential tanh_net(std::make_shared<tinyml::nn::Linear>(2, 4, true, gen),
                                  std::make_shared<tinyml::nn::Tanh>(),
                                  std::make_shared<tinyml::nn::Linear>(4, 2, true, gen));
  tinyml::io::save_model(tanh_net, whole.string());
  const ProcessResult b = tinyml_cli("eval '" + whole.string() + "' --dataset xor");
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_THAT(b.out, HasSubstr("model      Sequential from"));
  EXPECT_THAT(b.out, HasSubstr("/4), inference"));  // untrained: any count of the 4 points
  const ProcessResult c = tinyml_cli("eval '" + whole.string() + "'");
  EXPECT_EQ(c.status, 1);
  EXPECT_THAT(c.err, HasSubstr("pass --dataset"));
  fs::remove(whole);
}

TEST(CliBench, CoreSuiteJsonReportsMachineAndEveryResult) {
  // --limit keeps the training epoch short; the figures are not checked, only the report's shape.
  const ProcessResult r = tinyml_cli("bench --suite core --json --repeat 1 --limit 1000 --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  const json& j = lines[0];
  ASSERT_TRUE(j.contains("machine") && j.contains("results")) << j.dump();
  EXPECT_TRUE(j["machine"]["cpu"].is_string());
  EXPECT_THAT(j["machine"]["blas"].get<std::string>(), HasSubstr("sgemm"));
  EXPECT_EQ(j["machine"]["threads"].get<int>(), 1);
  std::set<std::string> names;
  for (const json& row : j["results"]) {
    ASSERT_TRUE(row["name"].is_string() && row["value"].is_number() && row["unit"].is_string()) << row.dump();
    EXPECT_GT(row["value"].get<double>(), 0.0) << row.dump();
    names.insert(row["name"].get<std::string>());
  }
  for (const char* expected :
       {"sgemm_256x1024x1024", "sgemm_256x1024x1024_openblas", "sgemm_256x1024x1024_onednn",
        "linear_1024x1024_b256_forward", "mlp_train_epoch", "mlp_infer_1000"})
    EXPECT_EQ(names.count(expected), 1u) << expected;
}

TEST(CliBench, AllSuiteJsonHasEveryWorkloadOfThePyTorchComparison) {
  // --quick: one timed call per figure and a 1000-example epoch; the figures are not checked
  // (timings belong to benchmarks), only that every workload bench/compare_pytorch.py compares
  // is there, once, with positive numbers.
  const ProcessResult r = tinyml_cli("bench --suite all --json --quick --threads 1");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  const json& j = lines[0];
  EXPECT_EQ(j["suite"], "all");
  EXPECT_EQ(j["repeat"].get<int>(), 1);
  EXPECT_EQ(j["min_time"].get<double>(), 0.0);
  EXPECT_EQ(j["limit"].get<int>(), 1000);
  EXPECT_TRUE(j["machine"]["os"].is_string());
  EXPECT_THAT(j["machine"]["int8"].get<std::string>(), HasSubstr("oneDNN"));
  json rows = json::object();  // name -> row
  std::set<std::string> suites;
  for (const json& row : j["results"]) {
    ASSERT_TRUE(row["name"].is_string() && row["value"].is_number() && row["unit"].is_string()) << row.dump();
    const std::string name = row["name"].get<std::string>();
    EXPECT_FALSE(rows.contains(name)) << "reported twice: " << row.dump();
    rows[name] = row;
    suites.insert(row["suite"].get<std::string>());
    EXPECT_GT(row["value"].get<double>(), 0.0) << row.dump();
    if (row.contains("best")) {  // a timing: the fastest call, from at least --repeat 1 call
      EXPECT_GT(row["best"].get<double>(), 0.0) << row.dump();
      EXPECT_GE(row["samples"].get<int64_t>(), 1) << row.dump();
    }
  }
  EXPECT_EQ(suites, (std::set<std::string>{"core", "quant", "tiny"}));
  // Timings (a "best" figure) and the figures that are not (sizes).
  for (const char* timed :
       {"sgemm_256x1024x1024", "linear_256x1024x1024_fp32", "linear_256x1024x1024_dynamic_int8",
        "linear_256x1024x1024_static_int8", "linear_256x1024x1024_dynamic_int4", "linear_b1_fp32",
        "tiny_xor_step", "tiny_spirals_step", "linear_b1_dynamic_int8", "linear_b1_dynamic_int4",
        "mlp_infer_1000_fp32", "mlp_infer_1000_dynamic_int8", "mlp_infer_1000_static_int8", "mlp_train_epoch",
        "linear_dynamic_int8_speedup", "qgemm_u8s8_256x1024x1024"}) {
    ASSERT_TRUE(rows.contains(timed)) << timed;
    EXPECT_TRUE(rows[timed].contains("best")) << timed;
  }
  for (const char* size :
       {"mlp_bytes_fp32", "mlp_bytes_dynamic_int8", "mlp_file_fp32", "mlp_file_dynamic_int8"}) {
    ASSERT_TRUE(rows.contains(size)) << size;
    EXPECT_EQ(rows[size]["unit"], "KB") << size;
    EXPECT_FALSE(rows[size].contains("best")) << size;
  }
  // int8 storage of the 784-256-128-10 MLP: the weights are 234,752 of the 940,584 fp32 bytes
  // (0.2496); the fp32 bias, the per-channel scales, zero points and column sums (394 four-byte
  // values each, 6,304 bytes) bring it to 0.2563, and the int8 GEMM's packed layout, where oneDNN
  // pads the first layer's 784 inputs to 832 (12,288 bytes), to 0.2693. Below 0.25 something held
  // is not counted; above 0.27 something is stored wider than it should be.
  const double ratio =
      rows["mlp_bytes_dynamic_int8"]["value"].get<double>() / rows["mlp_bytes_fp32"]["value"].get<double>();
  EXPECT_GE(ratio, 0.25);
  EXPECT_LE(ratio, 0.27);
  if (tinyml::data::FashionMNIST::available()) {
    EXPECT_TRUE(rows.contains("mlp_test_acc"));
  }
}

TEST(CliBench, QuickDoesNotOverrideExplicitOptionsAndAllIsReserved) {
  const ProcessResult r = tinyml_cli("bench --suite quant --json --quick --repeat 2 --min-time 0");
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json_lines(r.out).at(0);
  EXPECT_EQ(j["repeat"].get<int>(), 2);
  for (const json& row : j["results"])
    if (row.contains("samples")) {
      EXPECT_GE(row["samples"].get<int64_t>(), 2) << row.dump();
    }
  const ProcessResult bad = tinyml_cli("bench --suite al");
  EXPECT_EQ(bad.status, 2);
  EXPECT_THAT(bad.err, HasSubstr("available: core, quant, tiny, all"));
  const ProcessResult neg = tinyml_cli("bench --min-time -1");
  EXPECT_EQ(neg.status, 2);
  EXPECT_THAT(neg.err, HasSubstr("--min-time"));
}
