// Model files: float and quantized models round-trip bit for bit, files are small, corrupt files are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/io/safetensors.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/dropout.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/train/mlp.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = tinyml::io;
using namespace tinyml;  // Tensor, Generator, Error, NoGradGuard
using namespace tinyml::nn;
using namespace tinyml::quant;
using nlohmann::json;

// A fresh path per test, removed at the end.
class ModelFile : public tinyml_test::TempDirTest {
 protected:
  // A 6-5-3 MLP quantized in static mode, saved as m.safetensors; returns the file's path.
  std::string saved_static_mlp(uint64_t seed) const;
};

using tinyml::train::make_mlp;

std::string ModelFile::saved_static_mlp(uint64_t seed) const {
  Generator gen(seed);
  auto model = make_mlp({6, 5, 3}, gen);
  QuantConfig c;
  c.mode = QuantMode::Static;
  quantize_model(*model, c, {Tensor::randn({16, 6}, gen)});
  const std::string file = path("m.safetensors");
  io::save_model(*model, file);
  return file;
}

Tensor run(Module& m, const Tensor& x) {
  NoGradGuard no_grad;
  m.eval();
  return m(x);
}

TEST_F(ModelFile, FloatModelRoundTripsBitForBit) {
  Generator gen(1);
  auto block = std::make_shared<Sequential>();
  block->push_back(std::make_shared<Linear>(12, 12, false, gen));
  block->push_back(std::make_shared<Tanh>());
  block->push_back(std::make_shared<Dropout>(0.25f));
  auto model = std::make_shared<Sequential>();
  model->push_back(std::make_shared<Flatten>(1, -1));
  model->push_back(std::make_shared<Linear>(12, 12, true, gen));
  model->push_back(std::make_shared<Sigmoid>());
  model->push_back("block", block);
  model->push_back(std::make_shared<Linear>(12, 5, true, gen));
  model->push_back(std::make_shared<LogSoftmax>(1));
  const Tensor x = Tensor::randn({7, 3, 4}, gen);
  io::save_model(*model, path("f.safetensors"), {{"note", "hello"}});

  std::map<std::string, std::string> meta;
  auto loaded = io::load_model(path("f.safetensors"), &meta);
  EXPECT_EQ(meta.at("note"), "hello");
  EXPECT_TRUE(io::is_model_file(meta));
  EXPECT_EQ(loaded->repr(), model->repr());
  EXPECT_TRUE(tinyml::equal(run(*loaded, x), run(*model, x)));
  // All F32 and named like a state dict: the generic loader reads the same file.
  const StateDict sd = io::load_state_dict(path("f.safetensors"));
  EXPECT_EQ(sd.size(), model->state_dict().size());
  EXPECT_TRUE(tinyml::equal(sd.at("block.0.weight"), model->state_dict().at("block.0.weight")));
}

TEST_F(ModelFile, QuantizedModelsRoundTripBitForBit) {
  Generator gen(2);
  std::vector<Tensor> calib;
  for (int b = 0; b < 3; ++b) calib.push_back(Tensor::randn({32, 20}, gen));
  const Tensor x = Tensor::randn({9, 20}, gen);
  struct Case {
    const char* what;
    QuantConfig config;
  };
  std::vector<Case> cases;
  cases.push_back({"dynamic int8 per-channel", QuantConfig{}});
  {
    QuantConfig c;
    c.mode = QuantMode::Static;
    cases.push_back({"static int8, fused ReLU", c});
  }
  {
    QuantConfig c;
    c.mode = QuantMode::Static;
    c.activation_spec = {8, Scheme::Affine, Granularity::PerTensor, 0, true};
    c.weight_spec = {8, Scheme::Affine, Granularity::PerChannel, 0, true};
    c.fuse_relu = false;
    c.skip = {"last"};
    cases.push_back({"static int8 affine, mixed precision", c});
  }
  {
    QuantConfig c;
    c.mode = QuantMode::WeightOnly;
    c.weight_spec = {4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
    c.weight_range = "mse";
    cases.push_back({"weight-only int4 per-channel", c});
  }
  {
    QuantConfig c;
    c.mode = QuantMode::WeightOnly;
    c.weight_spec = QuantSpec::int8_affine();  // uint8 per tensor
    cases.push_back({"weight-only uint8 per-tensor", c});
  }
  {
    QuantConfig c;
    c.weight_spec = {8, Scheme::Symmetric, Granularity::PerTensor, 0, true};
    cases.push_back({"dynamic int8 per-tensor", c});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto model = make_mlp({20, 15, 9, 4}, gen);  // odd widths: int4 rows end in a half-used byte
    quantize_model(*model, c.config, calib);
    io::save_model(*model, path("q.safetensors"));
    auto loaded = io::load_model(path("q.safetensors"));
    EXPECT_EQ(loaded->repr(), model->repr());
    EXPECT_TRUE(tinyml::equal(run(*loaded, x), run(*model, x)));
    EXPECT_EQ(model_bytes(*loaded), model_bytes(*model));
    for (size_t i = 0; i < model->size(); ++i) {
      auto a = std::dynamic_pointer_cast<QuantizedLinear>((*model)[static_cast<int64_t>(i)]);
      if (!a) continue;
      auto b = loaded->at<QuantizedLinear>(static_cast<int64_t>(i));
      // The very bytes and qparams, not merely equal outputs.
      EXPECT_TRUE(std::equal(a->weight().bytes().begin(), a->weight().bytes().end(),
                             b->weight().bytes().begin(), b->weight().bytes().end()));
      EXPECT_EQ(a->weight().qparams().scale, b->weight().qparams().scale);
      EXPECT_EQ(a->weight().qparams().zero_point, b->weight().qparams().zero_point);
      EXPECT_TRUE(a->weight().spec() == b->weight().spec());
      EXPECT_EQ(a->bias_int32(), b->bias_int32());
      EXPECT_EQ(a->input_qparams().has_value(), b->input_qparams().has_value());
      if (a->input_qparams()) {
        EXPECT_EQ(a->input_qparams()->scale, b->input_qparams()->scale);
      }
      EXPECT_EQ(a->fused_relu(), b->fused_relu());
      EXPECT_EQ(a->mode(), b->mode());
    }
  }
}

// A dynamic int8 layer holds its weight only in the int8 GEMM's packed layout
// (256 and 128 fill its blocks); saving unpacks it, and the file loads into the same layer.
TEST_F(ModelFile, PackedWeightsSaveAsTheirPlainBytes) {
  Generator gen(4);
  auto model = make_mlp({256, 128, 64}, gen);
  quantize_model(*model, QuantConfig{});
  const Tensor x = Tensor::randn({5, 256}, gen);
  const Tensor y = run(*model, x);
  auto first = model->at<QuantizedLinear>(0);
  if (!first->weight_packed()) GTEST_SKIP() << "no exact packed int8 product on this CPU";
  const QTensor plain = first->unpacked_weight();
  io::save_model(*model, path("packed.safetensors"));
  EXPECT_EQ(first->memory_usage().cache_bytes, 128u * 4u);  // saving kept no unpacked copy
  auto loaded = io::load_model(path("packed.safetensors"));
  EXPECT_TRUE(tinyml::equal(run(*loaded, x), y));
  EXPECT_EQ(loaded->at<QuantizedLinear>(0)->unpacked_weight().values(), plain.values());
  EXPECT_EQ(loaded->at<QuantizedLinear>(0)->weight_qparams().scale, plain.qparams().scale);
}

TEST_F(ModelFile, QuantizedFilesOfTheReferenceMlpAreSmall) {
  Generator gen(3);
  auto fp32 = make_mlp({784, 256, 128, 10}, gen);
  io::save_model(*fp32, path("fp32.safetensors"));
  const auto fp32_size = static_cast<double>(fs::file_size(path("fp32.safetensors")));
  {
    auto m = make_mlp({784, 256, 128, 10}, gen);
    quantize_model(*m, QuantConfig{});
    io::save_model(*m, path("int8.safetensors"));
    // 234 752 weight bytes + 394 fp32 biases + the qparams in the header: about 0.26 of 940 KB.
    EXPECT_LE(static_cast<double>(fs::file_size(path("int8.safetensors"))), 0.27 * fp32_size);
  }
  {
    auto m = make_mlp({784, 256, 128, 10}, gen);
    QuantConfig c;
    c.mode = QuantMode::WeightOnly;
    c.weight_spec = {4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
    quantize_model(*m, c);
    io::save_model(*m, path("int4.safetensors"));
    // Half the int8 weight bytes, the same biases and header: about 0.14.
    EXPECT_LE(static_cast<double>(fs::file_size(path("int4.safetensors"))), 0.15 * fp32_size);
  }
}

// Rewrites a saved file through `edit` (its records and metadata) and expects load_model to refuse
// it with a message containing `expected`.
void expect_refused(const std::string& file, const std::function<void(io::SafetensorsFile&)>& edit,
                    const std::string& expected) {
  io::SafetensorsFile f = io::read_safetensors(file);
  edit(f);
  const std::string bad = file + ".bad";
  io::write_safetensors(bad, f.tensors, f.metadata);
  try {
    io::load_model(bad);
    ADD_FAILURE() << "loaded a corrupt file; expected an error containing '" << expected << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

// Edits the module list in the metadata.
std::function<void(io::SafetensorsFile&)> edit_modules(const std::function<void(json&)>& f) {
  return [f](io::SafetensorsFile& file) {
    json m = json::parse(file.metadata.at(io::kModulesKey));
    f(m);
    file.metadata[io::kModulesKey] = m.dump();
  };
}

TEST_F(ModelFile, CorruptFilesAreRefusedWithAClearError) {
  const std::string file = saved_static_mlp(4);
  ASSERT_NO_THROW(io::load_model(file));

  expect_refused(
      file,
      [](io::SafetensorsFile& f) {
        f.metadata.insert_or_assign(io::kModulesKey, std::string("[{\"name\": "));
      },
      "not valid JSON");
  expect_refused(
      file, [](io::SafetensorsFile& f) { f.metadata.erase(io::kModulesKey); }, "no model structure");
  expect_refused(
      file, [](io::SafetensorsFile& f) { f.metadata.insert_or_assign("format_version", std::string("7")); },
      "version");
  expect_refused(file, edit_modules([](json& m) { m[1]["type"] = "Conv2d"; }),
                 "unknown module type 'Conv2d'");
  expect_refused(file, edit_modules([](json& m) { m[0]["name"] = "x"; }), "root");
  expect_refused(file, edit_modules([](json& m) { m[1]["name"] = "a.0"; }), "parent 'a'");
  expect_refused(file, edit_modules([](json& m) { m[2] = m[1]; }), "listed twice");
  expect_refused(file, edit_modules([](json& m) { m[1]["in"] = "six"; }), "\"in\" must be an integer");
  // One scale fewer than output channels.
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_qparams"]["scale"].erase(0); }),
                 "need 5 scale");
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_qparams"]["scale"][0] = "0.5"; }),
                 "hexadecimal");
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_qparams"]["scale"][0] = "0x1p-200"; }),
                 "float32");
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_qparams"]["zero_point"][0] = 300; }),
                 "zero_point");
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_qparams"]["spec"]["bits"] = 12; }), "bits");
  expect_refused(file, edit_modules([](json& m) { m[1]["out"] = 4; }), "shape");
  expect_refused(file, edit_modules([](json& m) { m[1]["mode"] = "fast"; }), "unknown mode");
  expect_refused(file, edit_modules([](json& m) { m[1].erase("input_qparams"); }), "calibration");
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_dtype"] = "int4x2"; }), "weight_dtype");
  expect_refused(file, edit_modules([](json& m) { m.erase(m.size() - 1); }), "belongs to no module");
  // Tensors: wrong dtype, wrong shape, missing.
  expect_refused(
      file,
      [](io::SafetensorsFile& f) {
        for (auto& t : f.tensors)
          if (t.name == "0.bias") t.dtype = "F32";
      },
      "dtype F32; expected I32");
  expect_refused(
      file,
      [](io::SafetensorsFile& f) {
        for (auto& t : f.tensors)
          if (t.name == "0.weight") {
            t.shape = {6, 5};
          }
      },
      "expected [5, 6]");
  expect_refused(
      file,
      [](io::SafetensorsFile& f) {
        std::erase_if(f.tensors, [](const auto& t) { return t.name == "2.bias"; });
      },
      "no tensor '2.bias'");
}

TEST_F(ModelFile, SavingRefusesWhatItCannotRepresent) {
  Generator gen(5);
  struct Custom : Module {
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Custom"; }
  };
  auto model =
      std::make_shared<Sequential>(std::make_shared<Linear>(2, 2, true, gen), std::make_shared<Custom>());
  EXPECT_THROW(io::save_model(*model, path("c.safetensors")), Error);
  EXPECT_FALSE(fs::exists(path("c.safetensors")));
  auto ok = make_mlp({2, 2}, gen);
  EXPECT_THROW(io::save_model(*ok, path("r.safetensors"), {{io::kModulesKey, "[]"}}), Error);
  EXPECT_THROW(io::save_model(*ok, path("r.safetensors"), {{"format", "other"}}), Error);
  // A state-dict file has no structure to rebuild.
  io::save(*ok, path("sd.safetensors"));
  EXPECT_THROW(io::load_model(path("sd.safetensors")), Error);
  // A state_dict holds no QuantizedLinear integers: io::save refuses rather than drop them.
  auto q = make_mlp({4, 3, 2}, gen);
  quantize_model(*q, QuantConfig{});
  EXPECT_THAT([&] { io::save(*q, path("q.safetensors")); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("use io::save_model")));
  EXPECT_FALSE(fs::exists(path("q.safetensors")));
}

// Found by the fuzz targets and the sanitizer build (docs/hardening.md); each was a crash or
// undefined behaviour before its fix.
TEST_F(ModelFile, FromBytesReadsWhatLoadModelReads) {
  Generator gen(6);
  auto model = make_mlp({4, 3, 2}, gen);
  quantize_model(*model, QuantConfig{});
  io::save_model(*model, path("m.safetensors"));
  std::ifstream in(path("m.safetensors"), std::ios::binary);
  const std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
  std::map<std::string, std::string> meta;
  auto loaded = io::load_model_bytes(bytes, &meta);
  EXPECT_TRUE(io::is_model_file(meta));
  const Tensor x = Tensor::randn({5, 4}, gen);
  EXPECT_EQ(run(*loaded, x).to_vector(), run(*io::load_model(path("m.safetensors")), x).to_vector());
  const std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
  EXPECT_THAT([&] { io::load_model_bytes(cut); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("read_safetensors_bytes")));
  auto plain = make_mlp({2, 2}, gen);
  io::save(*plain, path("sd.safetensors"));
  std::ifstream sd_in(path("sd.safetensors"), std::ios::binary);
  const std::vector<uint8_t> sd(std::istreambuf_iterator<char>(sd_in), {});
  EXPECT_THAT([&] { io::load_model_bytes(sd); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("load_model_bytes: the metadata has no")));
}

TEST_F(ModelFile, DeeplyNestedModuleListIsRefusedNotAStackOverflow) {
  Generator gen(7);
  const std::string file = path("m.safetensors");
  io::save_model(*make_mlp({3, 2}, gen), file);
  // 100 000 nested arrays: printing them in the error message (json::dump recurses per level)
  // overflowed the stack. Nesting is now limited to 64 levels while parsing.
  const auto nested = [](size_t depth) {
    return [depth](io::SafetensorsFile& f) {
      f.metadata.insert_or_assign(io::kModulesKey, std::string(depth, '[') + std::string(depth, ']'));
    };
  };
  expect_refused(file, nested(100000), "nests arrays and objects more than 64 deep");
  expect_refused(file, nested(65), "more than 64 deep");
  // 64 levels parse; the outer array's first entry is then not an object.
  expect_refused(file, nested(64), "entry 0 of 'tinyml.modules' is not an object");
}

// Found by the mutation campaign (docs/hardening.md): a tree of 100 000 Identity entries took 23.5 s
// to parse (nlohmann's callback parser is quadratic in a container's size). The tree is now scanned
// in linear time and bounded: 100 000 entries are refused at once, and 4 000 load in about four
// times the time of 1 000 (a quadratic scan would take sixteen). Timed as a ratio in one run, the
// fastest of five loads each, alternating, so that a slow or shared machine scales both sides
// alike. The ratio also caught Module's duplicate-name check, a search of the registered names
// that made building a Sequential of n modules O(n^2): under ASan with ctest -j2 it reached
// 8.4-11.6 (the names are now a hash set: 3.4-3.6 under ASan, 3.9-4.1 without).
TEST_F(ModelFile, HugeModuleTreesAreBoundedAndLinear) {
  Generator gen(7);
  const std::string file = path("m.safetensors");
  io::save_model(*make_mlp({3, 2}, gen), file);
  const auto identities = [](size_t n) {
    return [n](io::SafetensorsFile& f) {
      json m = json::parse(f.metadata.at(io::kModulesKey));
      for (size_t i = 0; i < n; ++i) m.push_back({{"name", fmt::format("i{}", i)}, {"type", "Identity"}});
      f.metadata.insert_or_assign(io::kModulesKey, m.dump());
    };
  };
  expect_refused(file, identities(100000), "'tinyml.modules' has more than 4096 modules, the limit");
  const auto write_many = [&](size_t n) {
    io::SafetensorsFile f = io::read_safetensors(file);
    identities(n)(f);
    const std::string many = path(fmt::format("many{}.safetensors", n));
    io::write_safetensors(many, f.tensors, f.metadata);
    return many;
  };
  const auto timed_load = [&](const std::string& many, size_t n) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(io::load_model(many)->named_children().size(), n + 1);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // The fastest of five loads of each, alternating, so that a burst of load from other tests run
  // at the same time (ctest -j) slows both sizes rather than one (a run of three loads of each,
  // one size after the other, once gave 9.3x).
  const std::string many1000 = write_many(1000), many4000 = write_many(4000);
  double t1000 = 1e300, t4000 = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    t1000 = std::min(t1000, timed_load(many1000, 1000));
    t4000 = std::min(t4000, timed_load(many4000, 4000));
  }
  EXPECT_LT(t4000, 8.0 * t1000) << "1000 modules: " << t1000 << " s, 4000: " << t4000 << " s";
}

TEST_F(ModelFile, OutOfRangeNumbersAreRefusedBeforeNarrowing) {
  const std::string file = saved_static_mlp(8);
  // 2^32 + 8 became 8 bits when narrowed to int before the range check.
  expect_refused(file, edit_modules([](json& m) { m[1]["weight_qparams"]["spec"]["bits"] = 4294967304LL; }),
                 "bits must be in 2..8, got 4294967304");
  // A double beyond float's range was converted to float (undefined behaviour) for Dropout's p.
  auto with_dropout = std::make_shared<Sequential>(std::make_shared<Dropout>(0.5f));
  const std::string dfile = path("d.safetensors");
  io::save_model(*with_dropout, dfile);
  expect_refused(dfile, edit_modules([](json& m) { m[1]["p"] = 1e300; }), "\"p\" = 1e+300 is out of range");
  expect_refused(dfile, edit_modules([](json& m) { m[1]["p"] = 1.5; }), "must be in [0, 1]");
}

// Found by the mutation campaign (docs/hardening.md): a zero point of 2^64 - 1 was read as int64 (-1,
// a valid zero point), so the file loaded and evaluated with -1; 2^64 - 128 was refused quoting
// "-128", a value not in the file. The range is checked on the value as written, and quoted.
TEST_F(ModelFile, HugeZeroPointsAreRefusedQuotingTheFile) {
  const std::string file = saved_static_mlp(9);
  expect_refused(file, edit_modules([](json& m) { m[1]["input_qparams"]["zero_point"][0] = UINT64_MAX; }),
                 "a zero point must be an int32, got 18446744073709551615");
  expect_refused(file,
                 edit_modules([](json& m) { m[1]["weight_qparams"]["zero_point"][0] = UINT64_MAX - 127; }),
                 "got 18446744073709551488");
  expect_refused(file, edit_modules([](json& m) { m[1]["input_qparams"]["zero_point"][0] = INT64_MIN; }),
                 "got -9223372036854775808");
}

// Found by the sanitizer build on a mutated file: packed_row_bytes(in) overflowed (undefined
// behaviour) for a packed int4 layer whose "in" is near INT64_MAX, and the release build printed a
// negative shape. The expected shape is now computed without overflow and the file refused.
TEST_F(ModelFile, PackedLayerWithAHugeInputSizeIsRefused) {
  Generator gen(10);
  auto model = make_mlp({4, 3}, gen);
  QuantConfig config;
  config.mode = tinyml::quant::QuantMode::WeightOnly;
  config.weight_spec.bits = 4;
  quantize_model(*model, config);
  const std::string file = path("int4.safetensors");
  io::save_model(*model, file);
  expect_refused(file, edit_modules([](json& m) { m[1]["in"] = INT64_MAX; }),
                 "has shape [3, 2]; expected [3, 4611686018427387904]");
}

}  // namespace

TEST(ModelFileMetadata, UserMetadataDropsOnlyTheReservedKeys) {
  const std::map<std::string, std::string> meta{{"format", "tinyml"},
                                                {"format_version", "1"},
                                                {std::string(tinyml::io::kModulesKey), "[]"},
                                                {"arch", "2-8-2"},
                                                {"dataset", "xor"}};
  EXPECT_EQ(tinyml::io::user_metadata(meta),
            (std::map<std::string, std::string>{{"arch", "2-8-2"}, {"dataset", "xor"}}));
  for (const auto& [key, value] : meta)
    EXPECT_EQ(tinyml::io::is_reserved_metadata_key(key), key != "arch" && key != "dataset") << key;
}
