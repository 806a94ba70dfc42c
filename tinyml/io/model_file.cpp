#include "tinyml/io/model_file.hpp"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/io/json_limits.hpp"
#include "tinyml/io/safetensors.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/dropout.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::io {

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are stored little-endian; big-endian hosts would need byte swapping");

namespace {

using json = nlohmann::json;

// ---- writing ----

std::string hex_float(float f) { return fmt::format("{:a}", static_cast<double>(f)); }

json spec_json(const quant::QuantSpec& s) {
  return {{"bits", s.bits},
          {"scheme", quant::to_string(s.scheme)},
          {"granularity", quant::to_string(s.granularity)},
          {"axis", s.axis},
          {"signed", s.signed_range()}};
}

json qparams_json(const quant::QParams& qp) {
  json scales = json::array();
  for (const float s : qp.scale) scales.push_back(hex_float(s));
  return {{"spec", spec_json(qp.spec)}, {"scale", scales}, {"zero_point", qp.zero_point}};
}

TensorRecord f32_record(const std::string& name, const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  TensorRecord r{name, "F32", t.shape(), std::vector<uint8_t>(v.size() * sizeof(float))};
  if (!v.empty()) std::memcpy(r.bytes.data(), v.data(), r.bytes.size());
  return r;
}

struct Writer {
  json modules = json::array();
  std::vector<TensorRecord> records;

  void add(const std::string& name, const nn::Module& m) {
    constexpr const char* fn = "save_model";
    json e = {{"name", name}, {"type", m.type_name()}};
    const std::string prefix = name.empty() ? "" : name + ".";
    if (dynamic_cast<const nn::Sequential*>(&m) != nullptr) {
      modules.push_back(e);
      for (const auto& [child_name, child] : m.named_children()) {
        TINYML_CHECK(
            !child_name.empty() && child_name.find('.') == std::string::npos,
            "{}: child '{}' of '{}' has a name that is empty or holds '.', which the file's dotted names "
            "cannot represent",
            fn, child_name, name);
        add(prefix + child_name, *child);
      }
      return;
    }
    TINYML_CHECK(m.named_children().empty(),
                 "{}: module '{}' ({}) has children; only Sequential containers can", fn, name,
                 m.type_name());
    if (const auto* lin = dynamic_cast<const nn::Linear*>(&m)) {
      e["in"] = lin->in_features();
      e["out"] = lin->out_features();
      e["bias"] = lin->has_bias();
      records.push_back(f32_record(prefix + "weight", lin->weight.detach()));
      if (lin->has_bias()) records.push_back(f32_record(prefix + "bias", lin->bias.detach()));
    } else if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&m)) {
      const quant::QTensor w = q->unpacked_weight();
      e["in"] = q->in_features();
      e["out"] = q->out_features();
      e["bias"] = q->has_bias();
      e["mode"] = quant::to_string(q->mode());
      e["fuse_relu"] = q->fused_relu();
      e["weight_dtype"] = quant::to_string(w.dtype());
      e["weight_qparams"] = qparams_json(w.qparams());
      if (q->input_qparams().has_value()) e["input_qparams"] = qparams_json(*q->input_qparams());
      const bool packed = quant::is_packed(w.dtype());
      const std::vector<int64_t> shape{q->out_features(),
                                       packed ? quant::packed_row_bytes(q->in_features()) : q->in_features()};
      TensorRecord r{prefix + "weight", w.dtype() == quant::QDtype::Int8 ? "I8" : "U8", shape,
                     std::vector<uint8_t>(w.bytes().begin(), w.bytes().end())};
      records.push_back(std::move(r));
      if (q->mode() == quant::QuantMode::Static) {
        const std::vector<int32_t>& b = q->bias_int32();
        if (!b.empty()) {
          TensorRecord rb{prefix + "bias",
                          "I32",
                          {static_cast<int64_t>(b.size())},
                          std::vector<uint8_t>(b.size() * sizeof(int32_t))};
          std::memcpy(rb.bytes.data(), b.data(), rb.bytes.size());
          records.push_back(std::move(rb));
        }
      } else if (q->has_bias()) {
        records.push_back(f32_record(prefix + "bias", q->bias()));
      }
    } else if (const auto* d = dynamic_cast<const nn::Dropout*>(&m)) {
      e["p"] = d->p();
    } else if (const auto* s = dynamic_cast<const nn::Softmax*>(&m)) {
      e["dim"] = s->dim();
    } else if (const auto* ls = dynamic_cast<const nn::LogSoftmax*>(&m)) {
      e["dim"] = ls->dim();
    } else if (const auto* f = dynamic_cast<const nn::Flatten*>(&m)) {
      e["start_dim"] = f->start_dim();
      e["end_dim"] = f->end_dim();
    } else {
      const bool known =
          dynamic_cast<const nn::ReLU*>(&m) != nullptr || dynamic_cast<const nn::Sigmoid*>(&m) != nullptr ||
          dynamic_cast<const nn::Tanh*>(&m) != nullptr || dynamic_cast<const nn::Identity*>(&m) != nullptr;
      TINYML_CHECK(
          known,
          "{}: module '{}' of type {} cannot be stored in a model file (supported: Sequential, Linear, "
          "QuantizedLinear, ReLU, Sigmoid, Tanh, Softmax, LogSoftmax, Identity, Flatten, Dropout; convert "
          "QAT layers with quant::convert first)",
          fn, name, m.type_name());
    }
    modules.push_back(e);
  }
};

// ---- reading ----

struct Reader {
  std::string src;  // "load_model('<path>')" or "load_model_bytes", the prefix of every message
  const SafetensorsFile& file;
  std::set<std::string> used;

  template <class... Args>
  [[noreturn]] void fail(const std::string& entry, fmt::format_string<Args...> f, Args&&... args) const {
    throw Error(fmt::format("{}: module '{}': {}", src, entry, fmt::format(f, std::forward<Args>(args)...)));
  }

  const json& field(const json& e, const std::string& name, const char* key) const {
    const auto it = e.find(key);
    if (it == e.end()) fail(name, "the entry has no \"{}\": {}", key, e.dump());
    return *it;
  }
  int64_t get_int(const json& e, const std::string& name, const char* key) const {
    const json& v = field(e, name, key);
    if (!v.is_number_integer()) fail(name, "\"{}\" must be an integer, got {}", key, v.dump());
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      fail(name, "\"{}\" = {} is too large", key, v.dump());
    return v.get<int64_t>();
  }
  bool get_bool(const json& e, const std::string& name, const char* key) const {
    const json& v = field(e, name, key);
    if (!v.is_boolean()) fail(name, "\"{}\" must be true or false, got {}", key, v.dump());
    return v.get<bool>();
  }
  std::string get_string(const json& e, const std::string& name, const char* key) const {
    const json& v = field(e, name, key);
    if (!v.is_string()) fail(name, "\"{}\" must be a string, got {}", key, v.dump());
    return v.get<std::string>();
  }

  float parse_scale(const json& v, const std::string& name) const {
    if (!v.is_string())
      fail(name, "a scale must be a hexadecimal float string like \"0x1.2p-7\", got {}", v.dump());
    std::string s = v.get<std::string>();
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
      negative = s[0] == '-';
      s.erase(0, 1);
    }
    if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
      fail(name, "scale \"{}\" is not a hexadecimal float like \"0x1.2p-7\"", v.get<std::string>());
    double d = 0.0;
    const char* begin = s.data() + 2;
    const char* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(begin, end, d, std::chars_format::hex);
    if (ec != std::errc() || ptr != end)
      fail(name, "scale \"{}\" is not a hexadecimal float", v.get<std::string>());
    if (negative) d = -d;
    const auto f = static_cast<float>(d);
    if (static_cast<double>(f) != d) fail(name, "scale \"{}\" is not a float32 value", v.get<std::string>());
    return f;
  }

  quant::QuantSpec parse_spec(const json& j, const std::string& name) const {
    if (!j.is_object()) fail(name, "a spec must be an object, got {}", j.dump());
    quant::QuantSpec s;
    // Checked before the narrowing to int, which would turn 2^32 + 8 into 8.
    const int64_t bits = get_int(j, name, "bits");
    if (bits < 2 || bits > 8) fail(name, "bits must be in 2..8, got {}", bits);
    s.bits = static_cast<int>(bits);
    const std::string scheme = get_string(j, name, "scheme");
    const std::string granularity = get_string(j, name, "granularity");
    try {
      s.scheme = quant::parse_scheme(scheme);
      s.granularity = quant::parse_granularity(granularity);
    } catch (const Error& e) {
      fail(name, "{}", e.what());
    }
    s.axis = get_int(j, name, "axis");
    s.is_signed = get_bool(j, name, "signed");
    return s;
  }

  quant::QParams parse_qparams(const json& j, const std::string& name, const char* what) const {
    if (!j.is_object()) fail(name, "\"{}\" must be an object, got {}", what, j.dump());
    quant::QParams qp;
    qp.spec = parse_spec(field(j, name, "spec"), name);
    const json& scales = field(j, name, "scale");
    const json& zps = field(j, name, "zero_point");
    if (!scales.is_array() || !zps.is_array())
      fail(name, "\"{}\": scale and zero_point must be arrays", what);
    for (const json& s : scales) qp.scale.push_back(parse_scale(s, name));
    for (const json& z : zps) {
      // Range-checked as the file wrote it: 2^64 - 1 read as int64 is -1, a valid zero point.
      if (!z.is_number_integer() || (z.is_number_unsigned() && z.get<uint64_t>() > INT32_MAX) ||
          (!z.is_number_unsigned() && (z.get<int64_t>() < INT32_MIN || z.get<int64_t>() > INT32_MAX)))
        fail(name, "\"{}\": a zero point must be an int32, got {}", what, z.dump());
      qp.zero_point.push_back(static_cast<int32_t>(z.get<int64_t>()));
    }
    return qp;
  }

  const TensorRecord& tensor(const std::string& name, const std::string& key, const std::string& dtype,
                             const std::vector<int64_t>& shape) {
    const TensorRecord* r = file.find(key);
    if (r == nullptr) fail(name, "the file has no tensor '{}'", key);
    if (r->dtype != dtype) fail(name, "tensor '{}' has dtype {}; expected {}", key, r->dtype, dtype);
    if (r->shape != shape)
      fail(name, "tensor '{}' has shape {}; expected {}", key, shape_str(r->shape), shape_str(shape));
    used.insert(key);
    return *r;
  }

  Tensor f32(const std::string& name, const std::string& key, const std::vector<int64_t>& shape) {
    const TensorRecord& r = tensor(name, key, "F32", shape);
    Tensor t = Tensor::empty(shape);
    if (!r.bytes.empty()) std::memcpy(t.data(), r.bytes.data(), r.bytes.size());
    return t;
  }

  nn::ModulePtr build(const json& e, const std::string& name, const std::string& type) {
    const std::string prefix = name + ".";
    if (type == "Linear") {
      const int64_t in = get_int(e, name, "in"), out = get_int(e, name, "out");
      if (in <= 0 || out <= 0) fail(name, "in and out must be positive, got {} and {}", in, out);
      const bool bias = get_bool(e, name, "bias");
      const Tensor w = f32(name, prefix + "weight", {out, in});
      Generator gen(0);  // the initial values are overwritten below
      auto lin = std::make_shared<nn::Linear>(in, out, bias, gen);
      NoGradGuard no_grad;
      lin->weight.copy_(w);
      if (bias) lin->bias.copy_(f32(name, prefix + "bias", {out}));
      return lin;
    }
    if (type == "QuantizedLinear") {
      const int64_t in = get_int(e, name, "in"), out = get_int(e, name, "out");
      if (in <= 0 || out <= 0) fail(name, "in and out must be positive, got {} and {}", in, out);
      const bool bias = get_bool(e, name, "bias");
      const bool fuse = get_bool(e, name, "fuse_relu");
      quant::QuantMode mode = quant::QuantMode::Dynamic;
      try {
        mode = quant::parse_quant_mode(get_string(e, name, "mode"));
      } catch (const Error& err) {
        fail(name, "{}", err.what());
      }
      const quant::QParams wq = parse_qparams(field(e, name, "weight_qparams"), name, "weight_qparams");
      std::optional<quant::QParams> iq;
      if (e.contains("input_qparams")) iq = parse_qparams(e["input_qparams"], name, "input_qparams");
      const quant::QDtype dtype = quant::qdtype_for(wq.spec);
      const std::string dtype_name = get_string(e, name, "weight_dtype");
      if (dtype_name != quant::to_string(dtype))
        fail(name, "weight_dtype '{}' does not match the spec {} (stored as {})", dtype_name,
             wq.spec.to_string(), quant::to_string(dtype));
      const bool packed = quant::is_packed(dtype);
      const TensorRecord& wr = tensor(name, prefix + "weight", dtype == quant::QDtype::Int8 ? "I8" : "U8",
                                      {out, packed ? quant::packed_row_bytes(in) : in});
      try {
        quant::QTensor w = quant::QTensor::from_raw(wr.bytes, {out, in}, wq);
        Tensor bias_f32;
        std::vector<int32_t> bias_i32;
        if (bias && mode == quant::QuantMode::Static) {
          const TensorRecord& br = tensor(name, prefix + "bias", "I32", {out});
          bias_i32.resize(static_cast<size_t>(out));
          std::memcpy(bias_i32.data(), br.bytes.data(), br.bytes.size());
        } else if (bias) {
          bias_f32 = f32(name, prefix + "bias", {out});
        }
        return quant::QuantizedLinear::from_parts(std::move(w), bias_f32, mode, iq, fuse,
                                                  std::move(bias_i32));
      } catch (const Error& err) {
        fail(name, "{}", err.what());
      }
    }
    if (type == "ReLU") return std::make_shared<nn::ReLU>();
    if (type == "Sigmoid") return std::make_shared<nn::Sigmoid>();
    if (type == "Tanh") return std::make_shared<nn::Tanh>();
    if (type == "Identity") return std::make_shared<nn::Identity>();
    if (type == "Softmax") return std::make_shared<nn::Softmax>(get_int(e, name, "dim"));
    if (type == "LogSoftmax") return std::make_shared<nn::LogSoftmax>(get_int(e, name, "dim"));
    if (type == "Flatten")
      return std::make_shared<nn::Flatten>(get_int(e, name, "start_dim"), get_int(e, name, "end_dim"));
    if (type == "Dropout") {
      const json& p = field(e, name, "p");
      if (!p.is_number()) fail(name, "\"p\" must be a number, got {}", p.dump());
      // A double outside float's range does not convert to float (undefined behaviour).
      const auto pd = p.get<double>();
      if (!(std::fabs(pd) <= std::numeric_limits<float>::max())) fail(name, "\"p\" = {} is out of range", pd);
      try {
        return std::make_shared<nn::Dropout>(static_cast<float>(pd));
      } catch (const Error& err) {
        fail(name, "{}", err.what());
      }
    }
    fail(
        name,
        "unknown module type '{}' (known: Sequential, Linear, QuantizedLinear, ReLU, Sigmoid, Tanh, Softmax, "
        "LogSoftmax, Identity, Flatten, Dropout)",
        type);
  }
};

void check_format(const std::map<std::string, std::string>& meta, const std::string& src) {
  const auto f = meta.find("format");
  const auto v = meta.find("format_version");
  TINYML_CHECK(f != meta.end() && f->second == kFormat && v != meta.end() && v->second == kFormatVersion,
               "{}: expected metadata format '{}' version '{}', got format '{}' version '{}'", src, kFormat,
               kFormatVersion, f == meta.end() ? "missing" : f->second,
               v == meta.end() ? "missing" : v->second);
}

}  // namespace

void save_model(const nn::Sequential& model, const std::string& path,
                const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> meta = stamped_metadata(metadata, "save_model");
  Writer w;
  w.add("", model);
  meta[kModulesKey] = w.modules.dump();
  write_safetensors(path, w.records, meta);
}

namespace {

std::shared_ptr<nn::Sequential> model_of(const SafetensorsFile& file, const std::string& src,
                                         std::map<std::string, std::string>* metadata) {
  check_format(file.metadata, src);
  const auto it = file.metadata.find(kModulesKey);
  TINYML_CHECK(it != file.metadata.end(),
               "{}: the metadata has no '{}', so the file holds no model structure (a state dict "
               "written by save_state_dict loads into a model you build with io::load)",
               src, kModulesKey);
  json modules;
  try {
    // A valid tree nests 4 deep (list, entry, qparams, spec); dump(), used in the error messages
    // below, recurses once per level, so deeper nesting is refused before it can overflow the stack.
    check_json_limits(it->second, fmt::format("{}: '{}'", src, kModulesKey),
                      {.max_depth = 64, .max_entries = kMaxModules, .entries = "modules"});
    modules = json::parse(it->second);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: '{}' is not valid JSON: {}", src, kModulesKey, e.what()));
  }
  TINYML_CHECK(modules.is_array() && !modules.empty(), "{}: '{}' must be a non-empty JSON array, got {}", src,
               kModulesKey, modules.type_name());

  Reader r{src, file, {}};
  std::map<std::string, std::shared_ptr<nn::Sequential>> containers;
  std::shared_ptr<nn::Sequential> root;
  std::set<std::string> names;
  for (size_t i = 0; i < modules.size(); ++i) {
    const json& e = modules[i];
    TINYML_CHECK(e.is_object(), "{}: entry {} of '{}' is not an object: {}", src, i, kModulesKey, e.dump());
    const auto n = e.find("name");
    TINYML_CHECK(n != e.end() && n->is_string(), "{}: entry {} has no string \"name\": {}", src, i, e.dump());
    const std::string name = n->get<std::string>();
    const std::string type = r.get_string(e, name, "type");
    if (i == 0) {
      if (!name.empty() || type != "Sequential")
        r.fail(name, "the first entry must be the root, {{\"name\": \"\", \"type\": \"Sequential\"}}, got {}",
               e.dump());
      root = std::make_shared<nn::Sequential>();
      containers[""] = root;
      continue;
    }
    if (name.empty()) r.fail(name, "only the first entry may have the empty name (the root)");
    const size_t dot = name.rfind('.');
    const std::string parent_name = dot == std::string::npos ? "" : name.substr(0, dot);
    const std::string child_name = dot == std::string::npos ? name : name.substr(dot + 1);
    const auto parent = containers.find(parent_name);
    if (parent == containers.end())
      r.fail(name, "its parent '{}' is not a Sequential listed before it", parent_name);
    if (child_name.empty()) r.fail(name, "the name has an empty part");
    if (!names.insert(name).second) r.fail(name, "listed twice");
    nn::ModulePtr m;
    if (type == "Sequential") {
      auto s = std::make_shared<nn::Sequential>();
      containers[name] = s;
      m = s;
    } else {
      m = r.build(e, name, type);
    }
    parent->second->push_back(child_name, m);
  }
  for (const TensorRecord& t : file.tensors)
    TINYML_CHECK(r.used.count(t.name) != 0,
                 "{}: tensor '{}' belongs to no module of '{}' (a file that does not match its "
                 "metadata)",
                 src, t.name, kModulesKey);
  if (metadata != nullptr) *metadata = file.metadata;
  return root;
}

}  // namespace

std::shared_ptr<nn::Sequential> load_model(const std::string& path,
                                           std::map<std::string, std::string>* metadata) {
  return model_of(read_safetensors(path), fmt::format("load_model('{}')", path), metadata);
}

std::shared_ptr<nn::Sequential> load_model_bytes(std::span<const uint8_t> bytes,
                                                 std::map<std::string, std::string>* metadata) {
  return model_of(read_safetensors_bytes(bytes), "load_model_bytes", metadata);
}

std::vector<int64_t> layer_sizes(const nn::Module& model) {
  std::vector<int64_t> sizes;
  const auto add = [&](int64_t in, int64_t out) {
    if (sizes.empty()) sizes.push_back(in);
    sizes.push_back(out);
  };
  if (const auto* lin = dynamic_cast<const nn::Linear*>(&model)) add(lin->in_features(), lin->out_features());
  if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&model))
    add(q->in_features(), q->out_features());
  for (const auto& [name, child] : model.named_children()) {
    const std::vector<int64_t> inner = layer_sizes(*child);
    if (inner.empty()) continue;
    if (sizes.empty()) sizes.push_back(inner.front());
    sizes.insert(sizes.end(), inner.begin() + 1, inner.end());
  }
  return sizes;
}

bool is_model_file(const std::map<std::string, std::string>& metadata) {
  return metadata.count(kModulesKey) != 0;
}

}  // namespace tinyml::io
