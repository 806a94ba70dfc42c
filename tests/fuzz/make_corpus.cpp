// Writes the fuzz targets' seed corpora: small valid inputs of every kind each reader accepts, and
// slightly broken copies of them (one defect each), so fuzzing starts next to every check.
// Usage: fuzz_make_corpus tests/fuzz/corpus   (rewrites the seed files; found crashes are kept)
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/idx.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/io/onnx_export.hpp"
#include "tinyml/io/safetensors.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/dropout.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace fs = std::filesystem;
using namespace tinyml;
using Bytes = std::vector<uint8_t>;

namespace {

fs::path g_root;

void put(const std::string& target, const std::string& name, const Bytes& b) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  TINYML_CHECK(out.good(), "make_corpus: cannot write {}", (dir / name).string());
}
void put(const std::string& target, const std::string& name, const std::string& s) {
  put(target, name, Bytes(s.begin(), s.end()));
}

Bytes read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// ---- IDX ----

Bytes gzip(const Bytes& in) {
  z_stream zs{};
  TINYML_CHECK(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "zlib");
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  TINYML_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "zlib");
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

data::IdxArray idx_array(std::vector<int64_t> dims) {
  data::IdxArray a;
  a.dims = std::move(dims);
  a.data.resize(static_cast<size_t>(a.numel()));
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<uint8_t>(i * 37 + 11);
  return a;
}

void idx_corpus() {
  const Bytes labels = data::encode_idx(idx_array({10}));
  const Bytes images = data::encode_idx(idx_array({2, 3, 4}));
  put("idx", "labels-1d.idx", labels);
  put("idx", "matrix-2d.idx", data::encode_idx(idx_array({3, 5})));
  put("idx", "images-3d.idx", images);
  put("idx", "tensor-4d.idx", data::encode_idx(idx_array({2, 1, 2, 3})));
  put("idx", "images-3d.idx.gz", data::encode_idx(idx_array({2, 3, 4}), true));
  put("idx", "labels-1d.idx.gz", data::encode_idx(idx_array({10}), true));
  // Two gzip members, the header in the first and the pixels in the second: valid, as gunzip reads it.
  Bytes two = gzip(Bytes(images.begin(), images.begin() + 16));
  const Bytes second = gzip(Bytes(images.begin() + 16, images.end()));
  two.insert(two.end(), second.begin(), second.end());
  put("idx", "two-members.idx.gz", two);
  // Broken copies, one defect each.
  Bytes b = images;
  b[0] = 1;
  put("idx", "bad-magic.idx", b);
  b = images;
  b[2] = 0x0D;  // float32: known but unsupported
  put("idx", "float-type.idx", b);
  b = images;
  b[2] = 0x42;
  put("idx", "unknown-type.idx", b);
  b = images;
  b[3] = 0;
  put("idx", "rank-0.idx", b);
  b = images;
  b[3] = 5;
  put("idx", "rank-5.idx", b);
  b = images;
  b[7] = 0;  // first dim 0
  put("idx", "zero-dim.idx", b);
  b = images;
  b.pop_back();
  put("idx", "truncated-payload.idx", b);
  b = images;
  b.push_back(7);
  put("idx", "trailing-byte.idx", b);
  put("idx", "truncated-header.idx", Bytes(images.begin(), images.begin() + 9));
  put("idx", "overflowing-dims.idx", Bytes{0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 2, 3});
  Bytes gz = data::encode_idx(idx_array({2, 3, 4}), true);
  put("idx", "truncated.idx.gz", Bytes(gz.begin(), gz.end() - 6));
  b = gz;
  b[b.size() - 6] ^= 0xFF;  // CRC-32
  put("idx", "bad-crc.idx.gz", b);
  b = gz;
  b.insert(b.end(), {1, 2, 3});
  put("idx", "trailing-garbage.idx.gz", b);
  b = gz;
  b.insert(b.end(), gz.begin(), gz.end());  // two whole files: decodes to trailing bytes
  put("idx", "two-files.idx.gz", b);
  put("idx", "empty", Bytes{});
  // The mutation campaign's gzip bomb (docs/hardening.md): a t10k-images header claiming
  // [2739137, 28, 28] (2.1 GB) in front of a short payload; the reader must stop at the payload's end.
  Bytes bomb = {0, 0, 8, 3, 0, 0x29, 0xCB, 0xC1, 0, 0, 0, 28, 0, 0, 0, 28};
  bomb.resize(bomb.size() + 65536, 0);
  put("idx", "gzip-bomb-header.idx.gz", gzip(bomb));
}

// ---- safetensors ----

io::TensorRecord record(const std::string& name, const std::string& dtype, std::vector<int64_t> shape) {
  io::TensorRecord r{name, dtype, std::move(shape), {}};
  size_t n = io::dtype_size(dtype);
  for (const int64_t d : r.shape) n *= static_cast<size_t>(d);
  r.bytes.resize(n);
  for (size_t i = 0; i < n; ++i) r.bytes[i] = static_cast<uint8_t>(i * 29 + 3);
  return r;
}

// Rewrites the 8-byte header length and the JSON text of a serialized file.
Bytes with_header(const Bytes& file, const std::string& header) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  const uint64_t m = header.size();
  Bytes out;
  out.reserve(file.size() - n + m);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(m >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), file.begin() + 8 + static_cast<std::ptrdiff_t>(n), file.end());
  return out;
}
Bytes make_header_only(const std::string& header) {
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  return out;
}
std::string header_of(const Bytes& file) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  return std::string(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
}
std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  TINYML_CHECK(at != std::string::npos, "make_corpus: '{}' not found in '{}'", from, s);
  return s.replace(at, from.size(), to);
}

std::shared_ptr<nn::Sequential> float_mlp(Generator& gen) {
  auto m = std::make_shared<nn::Sequential>();
  m->push_back(std::make_shared<nn::Linear>(4, 3, true, gen));
  m->push_back(std::make_shared<nn::ReLU>());
  m->push_back(std::make_shared<nn::Linear>(3, 2, false, gen));
  return m;
}

void safetensors_corpus(const fs::path& tmp) {
  Generator gen(1);
  const fs::path sd = tmp / "state.safetensors";
  io::save(*float_mlp(gen), sd.string());
  const Bytes state = read(sd);
  put("safetensors", "mlp-state-dict.safetensors", state);
  put("safetensors", "every-dtype.safetensors",
      io::serialize_safetensors(
          {record("b", "BOOL", {3}), record("u8", "U8", {2, 2}), record("i8", "I8", {3}),
           record("h", "F16", {2}), record("bf", "BF16", {1, 2}), record("i32", "I32", {2}),
           record("f", "F32", {2, 1}), record("d", "F64", {1}), record("l", "I64", {1}),
           record("u64", "U64", {1}), record("u16", "U16", {1}), record("i16", "I16", {1}),
           record("e4", "F8_E4M3", {1}), record("e5", "F8_E5M2", {1}), record("u32", "U32", {1})},
          {{"note", "all dtypes"}}));
  put("safetensors", "scalar-and-empty.safetensors",
      io::serialize_safetensors({record("s", "F32", {}), record("e", "F32", {0, 3})}));
  put("safetensors", "no-tensors.safetensors", io::serialize_safetensors({}, {{"k", "v"}}));

  const std::string h = header_of(state);
  put("safetensors", "header-too-long.safetensors", [&] {
    Bytes b = state;
    const uint64_t n = b.size();
    std::memcpy(b.data(), &n, 8);
    return b;
  }());
  put("safetensors", "truncated.safetensors", Bytes(state.begin(), state.end() - 5));
  put("safetensors", "short.safetensors", Bytes(state.begin(), state.begin() + 5));
  put("safetensors", "trailing-byte.safetensors", [&] {
    Bytes b = state;
    b.push_back(0);
    return b;
  }());
  put("safetensors", "not-json.safetensors", with_header(state, replaced(h, "{", "[")));
  put("safetensors", "array-header.safetensors", with_header(state, "[1, 2]"));
  put("safetensors", "unknown-dtype.safetensors", with_header(state, replaced(h, "\"F32\"", "\"F33\"")));
  put("safetensors", "int8-in-state-dict.safetensors", with_header(state, replaced(h, "\"F32\"", "\"I32\"")));
  put("safetensors", "negative-dim.safetensors",
      with_header(state, replaced(h, "\"shape\":[", "\"shape\":[-")));
  put("safetensors", "float-dim.safetensors",
      with_header(state, replaced(h, "\"shape\":[", "\"shape\":[1.5,")));
  put("safetensors", "offsets-reversed.safetensors",
      with_header(state, replaced(h, "\"data_offsets\":[0,", "\"data_offsets\":[9999999999,")));
  put("safetensors", "duplicate-key.safetensors",
      with_header(state, replaced(h, "\"__metadata__\":{", "\"__metadata__\":{\"format\":\"x\",")));
  put("safetensors", "metadata-not-string.safetensors",
      with_header(state, replaced(h, "\"__metadata__\":{", "\"__metadata__\":{\"n\":1,")));
  put("safetensors", "format-version-2.safetensors",
      with_header(state, replaced(h, "\"format_version\":\"1\"", "\"format_version\":\"2\"")));
  // Nested deeper than the reader's limit of 64 levels (a stack overflow once).
  put("safetensors", "deep-nesting.safetensors",
      make_header_only("{\"x\":" + std::string(80, '[') + std::string(80, ']') + "}"));
  // The mutation campaign's 1 MB header of 20 000 empty tensors, which took 42 s to parse when the
  // duplicate-key check was quadratic (docs/hardening.md).
  {
    std::string many = "{";
    for (int i = 0; i < 20000; ++i)
      many += fmt::format("{}\"t{}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}",
                          i ? "," : "", i);
    put("safetensors", "many-entries.safetensors", make_header_only(many + "}"));
  }
  put("safetensors", "huge-shape.safetensors",
      with_header(state, replaced(h, "\"shape\":[", "\"shape\":[4294967296,4294967296,4294967296,")));
}

// ---- whole-model files ----

// The valid model files the broken copies below start from.
struct ModelFiles {
  Bytes plain;  // a float MLP
  Bytes stat;   // int8 static, a fused ReLU
  Bytes int4;   // int4 weight-only, packed
};

// Writes valid model files of every module type and quantized form, and returns three of them.
ModelFiles valid_models(const fs::path& tmp) {
  Generator gen(2);
  auto save = [&](const std::string& name, const nn::Sequential& m) {
    const fs::path p = tmp / name;
    io::save_model(m, p.string());
    const Bytes b = read(p);
    put("model_file", name, b);
    return b;
  };
  const Bytes plain = save("float-mlp.safetensors", *float_mlp(gen));
  {
    auto m = std::make_shared<nn::Sequential>();
    m->push_back(std::make_shared<nn::Flatten>());
    m->push_back(std::make_shared<nn::Linear>(3, 3, true, gen));
    m->push_back(std::make_shared<nn::Sigmoid>());
    m->push_back(std::make_shared<nn::Tanh>());
    m->push_back(std::make_shared<nn::Dropout>(0.25f));
    m->push_back(std::make_shared<nn::Identity>());
    auto inner = std::make_shared<nn::Sequential>();
    inner->push_back(std::make_shared<nn::Linear>(3, 2, true, gen));
    inner->push_back(std::make_shared<nn::Softmax>(1));
    m->push_back("block", inner);
    m->push_back(std::make_shared<nn::LogSoftmax>(-1));
    save("every-module.safetensors", *m);
  }
  const nn::Linear l1(5, 4, true, gen), l2(4, 3, true, gen);
  Tensor x = Tensor::randn({6, 5}, gen);
  const quant::QParams in_qp = quant::choose_qparams(x, quant::QuantSpec::int8_affine());
  const quant::QuantSpec w8 = quant::QuantSpec::int8_symmetric_per_channel();
  {
    auto m = std::make_shared<nn::Sequential>();
    m->push_back(quant::QuantizedLinear::from_float(l1, w8, quant::QuantMode::Dynamic));
    m->push_back(std::make_shared<nn::ReLU>());
    m->push_back(quant::QuantizedLinear::from_float(l2, w8, quant::QuantMode::Dynamic));
    save("int8-dynamic.safetensors", *m);
  }
  const Bytes stat = [&] {
    auto m = std::make_shared<nn::Sequential>();
    m->push_back(quant::QuantizedLinear::from_float(l1, w8, quant::QuantMode::Static, in_qp, true));
    m->push_back(std::make_shared<nn::Linear>(4, 3, true, gen));
    return save("int8-static-fused.safetensors", *m);
  }();
  const Bytes int4 = [&] {
    // 5 inputs: packed rows of 3 bytes whose last nibble is padding.
    const quant::QuantSpec w4{4, quant::Scheme::Affine, quant::Granularity::PerTensor, 0, false};
    auto m = std::make_shared<nn::Sequential>();
    m->push_back(quant::QuantizedLinear::from_float(l1, w4, quant::QuantMode::WeightOnly));
    return save("int4-weight-only.safetensors", *m);
  }();

  return {plain, stat, int4};
}

// Broken copies of `valid`, one defect each: mostly the module tree (a JSON string inside the metadata)
// edited one field at a time.
void broken_models(const ModelFiles& valid) {
  const Bytes& plain = valid.plain;
  const Bytes& stat = valid.stat;
  const Bytes& int4 = valid.int4;
  auto edit = [&](const Bytes& file, const std::string& out, const std::string& from, const std::string& to) {
    io::SafetensorsFile f = io::read_safetensors_bytes(file);
    f.metadata[io::kModulesKey] = replaced(f.metadata[io::kModulesKey], from, to);
    put("model_file", out, io::serialize_safetensors(f.tensors, f.metadata));
  };
  edit(plain, "unknown-type.safetensors", "\"ReLU\"", "\"GELU\"");
  edit(plain, "wrong-width.safetensors", "\"in\":4", "\"in\":5");
  edit(plain, "negative-width.safetensors", "\"in\":4", "\"in\":-4");
  edit(plain, "orphan-parent.safetensors", "\"name\":\"1\"", "\"name\":\"x.1\"");
  edit(plain, "not-an-array.safetensors", "[", "{\"a\":");
  edit(stat, "bad-scale.safetensors", "\"0x", "\"0y");
  edit(stat, "scale-not-float32.safetensors", "p-", "1p-");
  edit(stat, "zero-point-huge.safetensors", "\"zero_point\":[", "\"zero_point\":[99999999999,");
  edit(stat, "bits-9.safetensors", "\"bits\":8", "\"bits\":9");
  edit(stat, "dynamic-with-int32-bias.safetensors", "\"static\"", "\"dynamic\"");
  edit(int4, "int4-claims-int8.safetensors", "\"weight_dtype\":\"uint4x2\"", "\"weight_dtype\":\"int8\"");
  {
    io::SafetensorsFile f = io::read_safetensors_bytes(plain);
    f.metadata["format_version"] = "2";
    put("model_file", "format-version-2.safetensors", io::serialize_safetensors(f.tensors, f.metadata));
    f.metadata[io::kModulesKey] = std::string(80, '[') + std::string(80, ']');
    put("model_file", "deep-nesting.safetensors", io::serialize_safetensors(f.tensors, f.metadata));
    f.metadata.erase(io::kModulesKey);
    f.metadata["format_version"] = "1";
    put("model_file", "state-dict-only.safetensors", io::serialize_safetensors(f.tensors, f.metadata));
    // The mutation campaign's huge-arch file: no module tree, an "arch" promising 1 GB of weights.
    f.metadata["arch"] = "2-16384-16384-3";
    put("model_file", "huge-arch.safetensors", io::serialize_safetensors(f.tensors, f.metadata));
  }
  // Zero points beyond int64 (read as -1 and -128 once) and a tree of 5000 modules, above the limit
  // (100 000 took 23.5 s once).
  edit(stat, "zero-point-2p64-1.safetensors", "\"zero_point\":[", "\"zero_point\":[18446744073709551615,");
  edit(stat, "zero-point-2p64-128.safetensors", "\"zero_point\":[", "\"zero_point\":[18446744073709551488,");
  {
    io::SafetensorsFile f = io::read_safetensors_bytes(plain);
    std::string tree = f.metadata[io::kModulesKey];
    tree.pop_back();  // the closing bracket
    for (int i = 0; i < 5000; ++i) tree += fmt::format(",{{\"name\":\"i{}\",\"type\":\"Identity\"}}", i);
    f.metadata[io::kModulesKey] = tree + "]";
    put("model_file", "many-modules.safetensors", io::serialize_safetensors(f.tensors, f.metadata));
  }
}

void model_corpus(const fs::path& tmp) { broken_models(valid_models(tmp)); }

// ---- command line ----

std::string argv_of(const std::vector<std::string>& args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) s += (i ? "\n" : "") + args[i];
  return s;
}

void cli_corpus() {
  // /dev/null stands for an existing file (CLI::ExistingFile accepts anything that is not a folder).
  const std::vector<std::vector<std::string>> lines = {
      {"train", "--dataset", "xor",        "--arch",    "2-8-2",   "--optimizer", "sgd",
       "--lr",  "0.1",       "--momentum", "0.9",       "--batch", "4",           "--epochs",
       "300",   "--seed",    "3",          "--threads", "1",       "--json"},
      {"train", "--dataset=spirals", "--lr=1e-3", "--limit", "100", "-q", "--save",
       "/nonexistent/m.safetensors"},
      {"train", "--lr", "-1"},
      {"train", "--lr", "nan"},
      {"train", "--lr", "inf"},
      {"train", "--momentum", "1"},
      {"train", "--batch", "0"},
      {"train", "--epochs", "99999999999999999999"},
      {"train", "--threads", "4294967296"},
      {"train", "--seed", "-1"},
      {"train", "--seed", "1e23"},
      {"train", "--seed", "18446744073709551616"},
      {"train", "--save", ""},
      {"train", "--threads", "10000"},
      {"quantize", "/dev/null", "--out", "/dev/null", "--force"},
      {"train", "--arch", "784-0-10"},
      {"train", "--arch", "2--2"},
      {"eval", "/dev/null", "--dataset", "xor", "--batch", "8", "--limit", "2", "--threads", "0", "--json"},
      {"eval", "/nonexistent.safetensors"},
      {"bench", "--suite", "core", "--json", "--repeat", "3", "--limit", "1000"},
      {"quantize",
       "/dev/null",
       "--out",
       "q.safetensors",
       "--bits",
       "4",
       "--mode",
       "weight-only",
       "--scheme",
       "symmetric",
       "--granularity",
       "per-channel",
       "--weight-range",
       "mse",
       "--calib-batches",
       "2",
       "--calib-batch-size",
       "64",
       "--skip",
       "0",
       "--skip",
       "4",
       "--dataset",
       "xor",
       "--limit",
       "10"},
      {"quantize", "/dev/null", "--out", "q.safetensors", "--bits", "9"},
      {"quantize", "/dev/null", "--out", "q.safetensors", "--mode", "static", "--observer", "histogram"},
      {"qat",       "/dev/null", "--out",      "q.safetensors", "--bits",          "4",
       "--epochs",  "1",         "--lr",       "0x1p-10",       "--batch",         "32",
       "--seed",    "7",         "--observer", "minmax",        "--calib-batches", "3",
       "--control", "-q"},
      {"precision", "--out", "figs", "--bits", "8", "--observer", "percentile", "--train-limit", "100",
       "--epochs", "0", "--calib-batches", "1", "--seed", "2", "--json"},
      {"precision", "--out", "figs", "--model", "/dev/null", "--bits", "1"},
      {"demo", "--epochs", "1", "--qat-epochs", "0", "--out", "report", "--seed", "4", "--train-limit",
       "2000", "--test-limit", "500", "--repeat", "2", "--json", "-q"},
      {"demo", "--epochs", "0"},
      {"course", "list", "--run"},
      {"course", "test", "02", "--jobs", "2", "--build-dir", "b", "--no-build"},
      {"course", "test", "100"},
      {"course", "grade", "-j", "-1", "--json"},
      {"course", "make-assignment", "/tmp/copy", "--modules", "02-07", "--source", "/"},
      {"course", "make-assignment", "--help"},
      {"--help"},
      {"train", "--help"},
      {},
  };
  for (size_t i = 0; i < lines.size(); ++i) put("cli", fmt::format("args-{:02}", i), argv_of(lines[i]));
}

void parse_arch_corpus() {
  const std::vector<std::string> texts = {"784-256-128-10",
                                          "2-8-2",
                                          "1-1048576",
                                          "1048577-2",
                                          "5",
                                          "2--2",
                                          "-2-2",
                                          "2-2-",
                                          "0-3",
                                          "a-b",
                                          "+5-2",
                                          "007-2",
                                          "99999999999999999999-2",
                                          ""};
  for (size_t i = 0; i < texts.size(); ++i) put("parse_arch", fmt::format("arch-{:02}", i), texts[i]);
}

// ONNX: a float MLP as Gemm and as MatMul + Add, a Flatten-first one, and a static int8 graph
// (which import refuses at its first QuantizeLinear).
void onnx_corpus() {
  Generator gen(4);
  auto mlp = float_mlp(gen);
  const auto put_onnx = [](const std::string& name, const std::string& bytes) { put("onnx", name, bytes); };
  put_onnx("gemm.onnx", io::export_onnx_bytes(*mlp));
  put_onnx("matmul.onnx",
           io::export_onnx_bytes(*mlp, {.opset = 13, .linear = io::OnnxLinearOp::MatMul, .input_shape = {}}));
  nn::Sequential flat(std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(4, 2, true, gen),
                      std::make_shared<nn::Tanh>());
  put_onnx("flatten.onnx", io::export_onnx_bytes(
                               flat, {.opset = 0, .linear = io::OnnxLinearOp::Gemm, .input_shape = {2, 2}}));
  quant::QuantConfig cfg;
  cfg.mode = quant::QuantMode::Static;
  cfg.observer = "minmax";
  quant::quantize_model(*mlp, cfg, {Tensor::randn({8, mlp->at<nn::Linear>(0)->in_features()}, gen)});
  put_onnx("static-int8.onnx", io::export_onnx_bytes(*mlp));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  const fs::path tmp = fs::temp_directory_path() / fmt::format("tinyml-make-corpus-{}", ::getpid());
  fs::create_directories(tmp);
  idx_corpus();
  safetensors_corpus(tmp);
  model_corpus(tmp);
  cli_corpus();
  parse_arch_corpus();
  onnx_corpus();
  fs::remove_all(tmp);
  return 0;
}
