// Tests for the safetensors layer and model save/load: round trips, the byte layout, every
// rejection of a malformed file, atomic writes, and loading into a model of another shape.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/io/io.hpp"
#include "tinyml/nn/nn.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using tinyml::Error;
using tinyml::Generator;
using tinyml::Shape;
using tinyml::Tensor;
using tinyml::io::read_safetensors;
using tinyml::io::read_safetensors_bytes;
using tinyml::io::serialize_safetensors;
using tinyml::io::TensorRecord;
using tinyml::io::write_safetensors;
using tinyml::io::WriteOptions;

namespace {

using Bytes = std::vector<uint8_t>;

class SafetensorsTest : public tinyml_test::TempDirTest {};
using tinyml_test::read_bytes;

void append_le64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A file from its header text (unpadded, as another writer might produce) and data section.
Bytes make_file(const std::string& header, const Bytes& data) {
  Bytes b;
  append_le64(b, header.size());
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes random_bytes(size_t n, Generator& gen) {
  Bytes b(n);
  for (auto& v : b) v = static_cast<uint8_t>(gen.randint(256));
  return b;
}

void expect_rejected(const Bytes& b, const std::string& part) {
  try {
    read_safetensors_bytes(b);
    ADD_FAILURE() << "expected an error containing \"" << part << "\"";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

struct SimulatedCrash {};

}  // namespace

// ------------------------------------------------------------------ format

TEST_F(SafetensorsTest, RoundTripIsBitExact) {
  Generator gen(1);
  std::vector<TensorRecord> records = {
      {"weights.f32", "F32", {3, 5}, random_bytes(60, gen)},
      {"codes.i8", "I8", {7}, random_bytes(7, gen)},
      {"pixels.u8", "U8", {2, 2, 3}, random_bytes(12, gen)},
      {"bias.i32", "I32", {4}, random_bytes(16, gen)},
      {"scalar", "F32", {}, random_bytes(4, gen)},  // 0-D: one element
      {"empty", "I32", {0, 3}, {}},                 // no elements, zero bytes
  };
  const std::map<std::string, std::string> meta = {{"scale", "0.125"}, {"note", "π ≈ 3.14"}};
  write_safetensors(path("m.safetensors"), records, meta);
  const auto file = read_safetensors(path("m.safetensors"));
  EXPECT_EQ(file.metadata, meta);
  ASSERT_EQ(file.tensors.size(), records.size());
  for (const auto& r : records) {
    const TensorRecord& got = file.at(r.name);
    EXPECT_EQ(got.dtype, r.dtype) << r.name;
    EXPECT_EQ(got.shape, r.shape) << r.name;
    EXPECT_EQ(got.bytes, r.bytes) << r.name;
  }
  EXPECT_EQ(file.find("nope"), nullptr);
  EXPECT_THROW(file.at("nope"), Error);
  EXPECT_EQ(read_bytes(path("m.safetensors")), serialize_safetensors(records, meta));
  EXPECT_EQ(listing(), std::vector<std::string>{"m.safetensors"});
}

TEST(Safetensors, LayoutMatchesTheSpecification) {
  // Written in the order (U8, F32); the F32 tensor is laid out first so it stays 4-byte aligned.
  const std::vector<TensorRecord> records = {
      {"m", "U8", {3}, {1, 2, 3}},
      {"x", "F32", {2}, {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0}},  // 1.0f, -2.0f
  };
  const std::string json = R"({"__metadata__":{"k":"v"},)"
                           R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("m":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  // Header padded with spaces to a multiple of 8 bytes.
  std::string header = json;
  while (header.size() % 8 != 0) header += ' ';
  Bytes expected;
  append_le64(expected, header.size());
  expected.insert(expected.end(), header.begin(), header.end());
  expected.insert(expected.end(), {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 1, 2, 3});
  const Bytes got = serialize_safetensors(records, {{"k", "v"}});
  EXPECT_EQ(std::string(got.begin() + 8, got.begin() + 8 + static_cast<std::ptrdiff_t>(header.size())),
            header);
  EXPECT_EQ(got, expected);
  EXPECT_EQ((got.size() - 11) % 8, 0u);  // data section starts 8-aligned
}

TEST(Safetensors, ReadsFilesOfOtherWriters) {
  // No padding, keys in another order, metadata last, tensors listed out of data order.
  const Bytes f =
      make_file(R"({"b":{"dtype":"I32","shape":[],"data_offsets":[4,8]},)"
                R"("a":{"data_offsets":[0,4],"shape":[1],"dtype":"F32"},"__metadata__":{"format":"pt"}})",
                {0, 0, 0x80, 0x3f, 7, 0, 0, 0});
  const auto file = read_safetensors_bytes(f);
  ASSERT_EQ(file.tensors.size(), 2u);
  EXPECT_EQ(file.tensors[0].name, "a");  // returned in data order
  EXPECT_EQ(file.tensors[1].name, "b");
  EXPECT_EQ(file.tensors[1].shape, Shape{});
  EXPECT_EQ(file.tensors[1].bytes, (Bytes{7, 0, 0, 0}));
  EXPECT_EQ(file.metadata.at("format"), "pt");
  // An empty header object is a valid file with no tensors.
  EXPECT_TRUE(read_safetensors_bytes(make_file("{}", {})).tensors.empty());
}

TEST(Safetensors, RejectsShortOrTruncatedFiles) {
  expect_rejected({1, 0, 0}, "too short");
  const Bytes good = serialize_safetensors({{"x", "F32", {4}, Bytes(16, 1)}});
  // Missing the last data byte: the tensor's offsets run past the data section.
  expect_rejected(Bytes(good.begin(), good.end() - 1), "run past");
  // Cut inside the header.
  expect_rejected(Bytes(good.begin(), good.begin() + 20), "is larger than the 12 bytes");
  // Every proper prefix must be an error, never a crash or an out-of-bounds read.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_THROW(read_safetensors_bytes(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n))),
                 Error)
        << "prefix " << n;
  }
}

TEST(Safetensors, RejectsHeaderLengthBeyondFileOrLimit) {
  Bytes b;
  append_le64(b, 1000);
  b.insert(b.end(), {'{', '}'});
  expect_rejected(b, "header length 1000 is larger than the 2 bytes");
  Bytes huge;
  append_le64(huge, uint64_t{1} << 40);
  expect_rejected(huge, "exceeds the limit of 16777216 bytes");
  Bytes max;
  append_le64(max, UINT64_MAX);  // must not wrap around when added to 8
  expect_rejected(max, "exceeds the limit");
}

TEST(Safetensors, RejectsBadJson) {
  expect_rejected(make_file(R"({"x": {"dtype": "F32", )", {}), "not valid JSON");
  expect_rejected(make_file("\xff\xfe", {}), "not valid JSON");
  expect_rejected(make_file("[1, 2]", {}), "must be a JSON object");
  expect_rejected(make_file(R"({"x": 3})", {}), "is not an object");
  expect_rejected(make_file(R"({"__metadata__": {"k": 1}})", {}), "metadata 'k' must be a string");
  expect_rejected(make_file(R"({"x":{"shape":[1],"data_offsets":[0,4]}})", Bytes(4)), "no string \"dtype\"");
  expect_rejected(make_file(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})", Bytes(4)), "no \"shape\"");
  expect_rejected(make_file(R"({"x":{"dtype":"F32","shape":[1]}})", Bytes(4)), "data_offsets");
  expect_rejected(make_file(R"({"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", Bytes(4)),
                  "not an integer");
}

TEST(Safetensors, RejectsOffsetsOutOfRange) {
  expect_rejected(make_file(R"({"x":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", Bytes(6)),
                  "data_offsets [4, 8] run past the 6-byte data section");
  expect_rejected(make_file(R"({"x":{"dtype":"U8","shape":[4],"data_offsets":[8,4]}})", Bytes(8)),
                  "end before they begin");
  expect_rejected(make_file(R"({"x":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}})", Bytes(8)),
                  "non-negative integers");
}

TEST(Safetensors, RejectsOverlapGapsAndTrailingData) {
  expect_rejected(make_file(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}})",
                            Bytes(12)),
                  "overlap");
  expect_rejected(make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                            Bytes(4)),
                  "overlap");
  expect_rejected(make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}})",
                            Bytes(10)),
                  "gap in the data section: bytes [4, 6)");
  expect_rejected(make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", Bytes(5)),
                  "1 trailing bytes");
}

TEST(Safetensors, RejectsByteCountThatDoesNotMatchShape) {
  expect_rejected(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", Bytes(4)),
                  "dtype F32 and shape [2] need 8 bytes, but data_offsets [0, 4] span 4");
  // 2^32 · 2^32 · 16 elements overflows 64 bits: must be reported, not wrapped to a small number.
  expect_rejected(
      make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", {}),
      "overflows 64 bits");
}

TEST(Safetensors, RejectsUnknownDtypeNegativeDimAndDuplicates) {
  expect_rejected(make_file(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", Bytes(1)),
                  "unknown dtype 'Q7'");
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,0]}})", {}),
                  "dim 1 is -1; dims must be non-negative");
  expect_rejected(make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                            R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                            Bytes(2)),
                  "the key 'w' twice");
}

TEST(Safetensors, RandomCorruptionNeverEscapesAsAnotherException) {
  // Seeded byte flips over header and data: accepted (a flipped data byte is still a valid file)
  // or tinyml::Error; anything else fails the test.
  Generator gen(2);
  const Bytes good = serialize_safetensors(
      {{"a", "F32", {2, 3}, random_bytes(24, gen)}, {"b", "U8", {5}, random_bytes(5, gen)}}, {{"k", "v"}});
  for (int trial = 0; trial < 500; ++trial) {
    Bytes b = good;
    const size_t flips = 1 + gen.randint(3);
    for (size_t f = 0; f < flips; ++f) b[gen.randint(b.size())] = static_cast<uint8_t>(gen.randint(256));
    try {
      read_safetensors_bytes(b);
    } catch (const Error&) {
    }
  }
}

TEST(Safetensors, WriterValidatesRecords) {
  const auto rejects = [](const std::vector<TensorRecord>& r, const std::string& part) {
    try {
      serialize_safetensors(r);
      ADD_FAILURE() << "expected an error containing \"" << part << "\"";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(part));
    }
  };
  rejects({{"a", "U8", {1}, {1}}, {"a", "U8", {1}, {2}}}, "duplicate tensor name 'a'");
  rejects({{"a", "F32", {2}, Bytes(7)}}, "needs 8 bytes, got 7");
  rejects({{"a", "F12", {1}, Bytes(1)}}, "unknown dtype 'F12'");
  rejects({{"a", "U8", {-1}, {}}}, "negative dim 0");
  rejects({{"", "U8", {1}, {1}}}, "empty name");
  rejects({{"__metadata__", "U8", {1}, {1}}}, "reserved");
  EXPECT_EQ(tinyml::io::dtype_size("BF16"), 2u);
  EXPECT_THROW(tinyml::io::dtype_size("X"), Error);
}

// ------------------------------------------------------------------ atomic writes

TEST_F(SafetensorsTest, InterruptedSaveLeavesOldFileIntact) {
  Generator gen(3);
  const std::string p = path("model.safetensors");
  write_safetensors(p, {{"old", "U8", {4}, {1, 2, 3, 4}}}, {{"version", "old"}});
  const Bytes before = read_bytes(p);

  // 4 MiB of data is written in 1 MiB pieces; the failure comes after the second piece.
  const std::vector<TensorRecord> big = {{"w", "F32", {1024, 1024}, random_bytes(size_t{4} << 20, gen)}};
  size_t calls = 0;
  size_t last = 0;
  WriteOptions fail;
  fail.on_progress = [&](size_t written) {
    ++calls;
    last = written;
    if (written > (size_t{1} << 21)) throw SimulatedCrash{};
  };
  EXPECT_THROW(write_safetensors(p, big, {}, fail), SimulatedCrash);
  EXPECT_GE(calls, 3u);                      // the temporary file really was partly written
  EXPECT_LT(last, (size_t{4} << 20) + 100);  // and not complete
  EXPECT_EQ(read_bytes(p), before);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});  // no temp file left
  EXPECT_EQ(read_safetensors(p).metadata.at("version"), "old");

  // Without the failure the same write replaces the file.
  write_safetensors(p, big);
  EXPECT_EQ(read_safetensors(p).at("w").bytes, big[0].bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
}

TEST_F(SafetensorsTest, FolderTargetIsRefusedAndLeftAlone) {
  // A folder is refused before any temporary file is made (it used to fail only at the rename).
  fs::create_directories(dir_ / "target" / "inside");
  try {
    write_safetensors(path("target"), {{"a", "U8", {1}, {1}}});
    ADD_FAILURE() << "saving over a folder succeeded";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a directory, not a regular file"));
  }
  EXPECT_EQ(listing(), std::vector<std::string>{"target"});
  EXPECT_TRUE(fs::is_directory(dir_ / "target" / "inside"));
}

TEST_F(SafetensorsTest, UnwritableFolderIsAnError) {
  try {
    write_safetensors(path("missing/x.safetensors"), {{"a", "U8", {1}, {1}}});
    ADD_FAILURE() << "write into a missing folder succeeded";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
  }
  EXPECT_TRUE(listing().empty());
  EXPECT_THROW(read_safetensors(path("missing.safetensors")), Error);
}

// ------------------------------------------------------------------ model save / load

TEST_F(SafetensorsTest, SaveLoadLinearIsBitExact) {
  Generator g1(10), g2(20);
  tinyml::nn::Linear a(3, 2, true, g1);
  tinyml::nn::Linear b(3, 2, true, g2);
  ASSERT_FALSE(tinyml::equal(a.weight, b.weight));
  tinyml::io::save(a, path("lin.safetensors"));
  tinyml::io::load(b, path("lin.safetensors"));
  EXPECT_TRUE(tinyml::equal(a.weight, b.weight));
  EXPECT_TRUE(tinyml::equal(a.bias, b.bias));

  const auto file = read_safetensors(path("lin.safetensors"));
  EXPECT_EQ(file.metadata.at("format"), "tinyml");
  EXPECT_EQ(file.metadata.at("format_version"), "1");
  EXPECT_EQ(file.metadata.at("module"), "Linear");
  EXPECT_EQ(file.at("weight").dtype, "F32");
  EXPECT_EQ(file.at("weight").shape, (Shape{2, 3}));
  // The stored bytes are the float values, little-endian.
  float w00 = 0.0f;
  std::memcpy(&w00, file.at("weight").bytes.data(), 4);
  EXPECT_EQ(w00, a.weight.at({0, 0}));
}

TEST_F(SafetensorsTest, SaveLoadSequential) {
  Generator g1(1), g2(2);
  auto make = [](Generator& g) {
    return tinyml::nn::Sequential({std::make_shared<tinyml::nn::Linear>(4, 8, true, g),
                                   std::make_shared<tinyml::nn::ReLU>(),
                                   std::make_shared<tinyml::nn::Linear>(8, 2, true, g)});
  };
  auto a = make(g1);
  auto b = make(g2);
  tinyml::io::save(a, path("seq.safetensors"));
  tinyml::io::load(b, path("seq.safetensors"));
  const auto sa = a.state_dict();
  const auto sb = b.state_dict();
  ASSERT_EQ(sa.size(), 4u);
  for (const auto& [name, t] : sa) EXPECT_TRUE(tinyml::equal(t, sb.at(name))) << name;
  EXPECT_NE(read_safetensors(path("seq.safetensors")).find("2.weight"), nullptr);
}

TEST_F(SafetensorsTest, LoadIntoWrongShapeNamesKeyAndBothShapes) {
  Generator g(3);
  tinyml::nn::Linear small(3, 2, true, g);
  tinyml::io::save(small, path("small.safetensors"));
  tinyml::nn::Linear wide(4, 2, true, g);
  const Tensor before = wide.weight.clone();
  try {
    tinyml::io::load(wide, path("small.safetensors"));
    ADD_FAILURE() << "loaded a (2, 3) weight into a (2, 4) model";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'weight'"));
    EXPECT_THAT(e.what(), HasSubstr("[2, 4] in the model"));
    EXPECT_THAT(e.what(), HasSubstr("[2, 3] in the file"));
  }
  EXPECT_TRUE(tinyml::equal(wide.weight, before));  // nothing was copied
}

TEST_F(SafetensorsTest, LoadChecksKeysBothWays) {
  Generator g(4);
  tinyml::nn::Linear with_bias(3, 2, true, g);
  tinyml::nn::Linear no_bias(3, 2, false, g);
  tinyml::io::save(with_bias, path("b.safetensors"));
  tinyml::io::save(no_bias, path("nb.safetensors"));
  try {
    tinyml::io::load(no_bias, path("b.safetensors"));
    ADD_FAILURE() << "unexpected key accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'bias'"));
  }
  try {
    tinyml::io::load(with_bias, path("nb.safetensors"));
    ADD_FAILURE() << "missing key accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'bias'"));
  }
  // Not strict: the common key is loaded.
  tinyml::io::load(no_bias, path("b.safetensors"), /*strict=*/false);
  EXPECT_TRUE(tinyml::equal(no_bias.weight, with_bias.weight));
}

TEST_F(SafetensorsTest, StateDictSavesViewsRowMajor) {
  const Tensor m({{1, 2, 3}, {4, 5, 6}});
  tinyml::io::save_state_dict({{"t", m.t()}, {"s", Tensor::scalar(2.5f)}}, path("sd.safetensors"),
                              {{"epoch", "3"}});
  const auto sd = tinyml::io::load_state_dict(path("sd.safetensors"));
  EXPECT_EQ(sd.at("t").shape(), (Shape{3, 2}));
  EXPECT_EQ(sd.at("t").to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(sd.at("s").shape(), Shape{});
  EXPECT_EQ(sd.at("s").item(), 2.5f);
  EXPECT_EQ(read_safetensors(path("sd.safetensors")).metadata.at("epoch"), "3");
}

TEST_F(SafetensorsTest, StateDictRejectsForeignContent) {
  EXPECT_THROW(tinyml::io::save_state_dict({}, path("x.safetensors"), {{"format", "pt"}}), Error);
  // A state dict saved with a module tree key was taken for a whole-model file by the loaders
  // (io::is_model_file); only save_model writes that key.
  try {
    tinyml::io::save_state_dict({}, path("m.safetensors"), {{tinyml::io::kModulesKey, "[]"}});
    ADD_FAILURE() << "a state dict was saved with the module tree key";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("save_state_dict: metadata key 'tinyml.modules' is reserved"));
  }
  EXPECT_FALSE(std::filesystem::exists(path("m.safetensors")));
  write_safetensors(path("i8.safetensors"), {{"q", "I8", {2}, {1, 2}}});
  try {
    tinyml::io::load_state_dict(path("i8.safetensors"));
    ADD_FAILURE() << "I8 tensor loaded as float";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'q' has dtype I8"));
  }
  write_safetensors(path("v2.safetensors"), {{"w", "F32", {1}, Bytes(4)}},
                    {{"format", "tinyml"}, {"format_version", "2"}});
  try {
    tinyml::io::load_state_dict(path("v2.safetensors"));
    ADD_FAILURE() << "unknown format version accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("format_version '2'"));
  }
}

// Found by the fuzz targets (docs/hardening.md): a header of a few hundred thousand nested
// brackets overflowed the stack when the error message printed it (json::dump recurses).
TEST(Safetensors, DeeplyNestedHeaderIsRefusedNotAStackOverflow) {
  const auto nested = [](size_t depth) {
    return make_file("{\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}", {});
  };
  expect_rejected(nested(200000), "nests arrays and objects more than 64 deep");
  // The header object is level 1, so 63 arrays inside it still parse (and the entry is refused).
  expect_rejected(nested(64), "more than 64 deep");
  expect_rejected(nested(63), "the header entry of tensor 'x' is not an object");
  expect_rejected(
      make_file("{\"__metadata__\":{\"k\":" + std::string(70, '[') + std::string(70, ']') + "}}", {}),
      "more than 64 deep");
}

// A header of n empty tensors, all at data_offsets [0, 0] (valid: they hold no bytes).
Bytes many_empty_tensors(size_t n) {
  std::string h = "{";
  for (size_t i = 0; i < n; ++i)
    h += fmt::format("{}\"t{}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", i ? "," : "", i);
  return make_file(h + "}", {});
}

// Found by the mutation campaign (docs/hardening.md): a 1.1 MB header of 20 000 empty tensors took
// 42 s and 40 000 took 231 s, because the duplicate-key check used nlohmann's parser callback, which
// rescans the parent object at every closing brace. The scan is linear now: 40 000 entries take
// about 0.5 s in a Release build and 2.3 s under the sanitizers on an idle machine, and 6.3 s were
// seen under the sanitizers with four compiles sharing its two cores. The bound is far from both:
// 30 s, eight times below the quadratic parse's 231 s, so only a quadratic parse fails it.
TEST(Safetensors, ManyEntriesParseInLinearTime) {
  const Bytes b = many_empty_tensors(40000);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_safetensors_bytes(b).tensors.size(), 40000u);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
}

TEST(Safetensors, EntryCountAndHeaderSizeAreBounded) {
  expect_rejected(many_empty_tensors(tinyml::io::kMaxTensors + 1),
                  "the header has more than 65536 entries (tensors and __metadata__), the limit");
  Bytes big;
  append_le64(big, tinyml::io::kMaxHeaderBytes + 1);
  big.resize(8 + tinyml::io::kMaxHeaderBytes + 1, ' ');
  expect_rejected(big, "header length 16777217 exceeds the limit of 16777216 bytes");
}

TEST_F(SafetensorsTest, StateDictFromBytesReadsWhatTheFileReaderReads) {
  tinyml::io::save_state_dict({{"w", Tensor({{1, 2}, {3, 4}})}}, path("sd.safetensors"));
  const Bytes bytes = read_bytes(path("sd.safetensors"));
  const auto sd = tinyml::io::load_state_dict_bytes(bytes);
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd.at("w").shape(), (Shape{2, 2}));
  EXPECT_EQ(sd.at("w").to_vector(), (std::vector<float>{1, 2, 3, 4}));
  const Bytes i8 = serialize_safetensors({{"q", "I8", {2}, {1, 2}}});
  EXPECT_THAT([&] { tinyml::io::load_state_dict_bytes(i8); },
              ::testing::ThrowsMessage<Error>(HasSubstr("load_state_dict_bytes: tensor 'q' has dtype I8")));
}
