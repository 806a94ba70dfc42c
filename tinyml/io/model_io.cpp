#include "tinyml/io/model_io.hpp"

#include <bit>
#include <cstring>
#include <utility>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/io/metadata.hpp"
#include "tinyml/io/safetensors.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::io {

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are stored little-endian; big-endian hosts would need byte swapping");

namespace {

std::vector<std::string> names_of(const nn::StateDict& s) {
  std::vector<std::string> out;
  for (const auto& [k, v] : s) out.push_back(k);
  return out;
}

}  // namespace

void save_state_dict(const nn::StateDict& state, const std::string& path,
                     const std::map<std::string, std::string>& metadata) {
  const std::map<std::string, std::string> meta = stamped_metadata(metadata, "save_state_dict");
  std::vector<TensorRecord> records;
  records.reserve(state.size());
  for (const auto& [name, tensor] : state) {
    TINYML_CHECK(tensor.defined(), "save_state_dict: tensor '{}' is undefined", name);
    const std::vector<float> values = tensor.to_vector();
    TensorRecord r{name, "F32", tensor.shape(), std::vector<uint8_t>(values.size() * sizeof(float))};
    if (!values.empty()) std::memcpy(r.bytes.data(), values.data(), r.bytes.size());
    records.push_back(std::move(r));
  }
  write_safetensors(path, records, meta);
}

namespace {

// `src` names the caller in messages: "load_state_dict('<path>')" or "load_state_dict_bytes".
nn::StateDict state_dict_of(const SafetensorsFile& file, const std::string& src) {
  const auto fmt_it = file.metadata.find("format");
  if (fmt_it != file.metadata.end() && fmt_it->second == kFormat) {
    const auto ver = file.metadata.find("format_version");
    TINYML_CHECK(ver != file.metadata.end() && ver->second == kFormatVersion,
                 "{}: tinyml format_version '{}' is not supported (expected '{}')", src,
                 ver == file.metadata.end() ? "missing" : ver->second, kFormatVersion);
  }
  nn::StateDict state;
  for (const TensorRecord& r : file.tensors) {
    TINYML_CHECK(r.dtype == "F32",
                 "{}: tensor '{}' has dtype {}; a float state dict holds only F32 "
                 "(quantized models have their own loader)",
                 src, r.name, r.dtype);
    Tensor t = Tensor::empty(r.shape);
    if (!r.bytes.empty()) std::memcpy(t.data(), r.bytes.data(), r.bytes.size());
    state.emplace(r.name, std::move(t));
  }
  return state;
}

}  // namespace

nn::StateDict load_state_dict(const std::string& path) {
  return state_dict_of(read_safetensors(path), fmt::format("load_state_dict('{}')", path));
}

nn::StateDict load_state_dict_bytes(std::span<const uint8_t> bytes) {
  return state_dict_of(read_safetensors_bytes(bytes), "load_state_dict_bytes");
}

namespace {
// A QuantizedLinear's integers are not parameters, so a state_dict would silently leave it out.
void reject_quantized(const nn::Module& module, const std::string& prefix, const std::string& path) {
  for (const auto& [name, child] : module.named_children()) {
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    TINYML_CHECK(dynamic_cast<const quant::QuantizedLinear*>(child.get()) == nullptr,
                 "save('{}'): module '{}' is a QuantizedLinear, whose integer weights are not in a "
                 "state_dict; use io::save_model to write quantized models",
                 path, full);
    reject_quantized(*child, full, path);
  }
}
}  // namespace

void save(const nn::Module& module, const std::string& path) {
  reject_quantized(module, "", path);
  save_state_dict(module.state_dict(), path, {{"module", module.type_name()}});
}

void check_state_dict_shapes(const SafetensorsFile& file, const std::map<std::string, Shape>& expected,
                             const std::string& src) {
  for (const auto& [name, shape] : expected) {
    const TensorRecord* r = file.find(name);
    TINYML_CHECK(r != nullptr, "{}: the model needs '{}' of shape {} but the file has no such tensor", src,
                 name, shape_str(shape));
    TINYML_CHECK(r->shape == shape, "{}: the model needs '{}' of shape {} but the file's is {}", src, name,
                 shape_str(shape), shape_str(r->shape));
  }
  for (const TensorRecord& r : file.tensors)
    TINYML_CHECK(expected.count(r.name) != 0,
                 "{}: the file has '{}' of shape {}, which the model does not have", src, r.name,
                 shape_str(r.shape));
}

void load(nn::Module& module, const std::string& path, bool strict) {
  const nn::StateDict loaded = load_state_dict(path);
  const nn::StateDict own = module.state_dict();
  // Checked here, before anything is copied, so a mismatch leaves the module untouched and the
  // message can name the file.
  for (const auto& [name, tensor] : own) {
    const auto it = loaded.find(name);
    if (it == loaded.end()) {
      TINYML_CHECK(!strict,
                   "load('{}'): the model has '{}' of shape {} but the file has no such "
                   "tensor; the file holds [{}]",
                   path, name, shape_str(tensor.shape()), fmt::join(names_of(loaded), ", "));
      continue;
    }
    TINYML_CHECK(it->second.shape() == tensor.shape(),
                 "load('{}'): '{}' has shape {} in the model but {} in the file (a file saved from "
                 "another architecture?)",
                 path, name, shape_str(tensor.shape()), shape_str(it->second.shape()));
  }
  nn::StateDict to_load;
  for (const auto& [name, tensor] : loaded) {
    if (own.count(name) != 0) {
      to_load.emplace(name, tensor);
    } else {
      TINYML_CHECK(!strict,
                   "load('{}'): the file has '{}' of shape {} which the model does not "
                   "have; the model holds [{}]",
                   path, name, shape_str(tensor.shape()), fmt::join(names_of(own), ", "));
    }
  }
  module.load_state_dict(to_load, strict);
}

}  // namespace tinyml::io
