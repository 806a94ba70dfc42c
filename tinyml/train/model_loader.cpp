#include "tinyml/train/model_loader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/io/safetensors.hpp"
#include "tinyml/train/mlp.hpp"

namespace tinyml::train {

std::map<std::string, std::string> model_metadata(const std::vector<int64_t>& arch,
                                                  const std::string& dataset) {
  return {{"arch", arch_string(arch)}, {"dataset", dataset}, {"activation", "relu"}, {"model", "mlp"}};
}

LoadedModel load_model_file(const std::string& path) {
  std::error_code ec;
  TINYML_CHECK(std::filesystem::is_regular_file(path, ec), "model file '{}' does not exist or is not a file",
               path);
  const io::SafetensorsFile file = io::read_safetensors(path);
  LoadedModel out;
  out.metadata = file.metadata;
  const auto get = [&](const std::string& key) -> std::string {
    const auto it = file.metadata.find(key);
    return it == file.metadata.end() ? std::string() : it->second;
  };
  out.dataset = get("dataset");
  const std::string arch = get("arch");
  if (!arch.empty()) {
    try {
      out.arch = parse_arch(arch);
    } catch (const Error& e) {
      throw Error(fmt::format("load_model_file('{}'): its 'arch' metadata: {}", path, e.what()));
    }
  }

  // A whole-model file (io::save_model) carries its module tree, float or quantized, and
  // rebuilds itself.
  if (io::is_model_file(file.metadata)) {
    out.model = io::load_model(path);
    // Commands check the layers against the dataset, not the metadata's word for them.
    const std::vector<int64_t> sizes = io::layer_sizes(*out.model);
    TINYML_CHECK(out.arch.empty() || out.arch == sizes,
                 "model file '{}': its metadata says arch {} but its layers are {}", path, arch,
                 sizes.empty() ? std::string("none") : arch_string(sizes));
    out.arch = sizes;
    return out;
  }
  // A plain state dict of an MLP: the architecture comes from the "arch" metadata.
  std::vector<std::string> keys;
  for (const auto& [k, v] : file.metadata) keys.push_back(k);
  TINYML_CHECK(!arch.empty(),
               "model file '{}' has neither a module tree nor an 'arch' in its metadata, so the model "
               "cannot be rebuilt (files written by `tinyml train --save` have both); metadata keys: [{}]",
               path, fmt::join(keys, ", "));
  const std::string activation = get("activation");
  TINYML_CHECK(activation.empty() || activation == "relu",
               "model file '{}': activation '{}' is not supported (only relu)", path, activation);
  // The tensors must be the arch's before the model is built: a 19 KB file claiming
  // 2-16384-16384-3 used to allocate 1 GB before its shapes were compared.
  std::map<std::string, Shape> shapes;
  for (size_t i = 0; i + 1 < out.arch.size(); ++i) {
    shapes[fmt::format("{}.weight", 2 * i)] = {out.arch[i + 1], out.arch[i]};
    shapes[fmt::format("{}.bias", 2 * i)] = {out.arch[i + 1]};
  }
  io::check_state_dict_shapes(file, shapes, fmt::format("model file '{}' (arch {})", path, arch));
  Generator gen(0);  // the weights are overwritten by the file; the seed is irrelevant
  auto model = make_mlp(out.arch, gen);
  io::load(*model, path, /*strict=*/true);
  out.model = model;
  return out;
}

std::shared_ptr<nn::Sequential> load_sequential(const std::string& path, const char* command,
                                                LoadedModel* info) {
  LoadedModel loaded = load_model_file(path);
  auto seq = std::dynamic_pointer_cast<nn::Sequential>(loaded.model);
  TINYML_CHECK(seq != nullptr, "{}: the model in '{}' is a {}, not a Sequential", command, path,
               loaded.model->type_name());
  if (info) *info = std::move(loaded);
  return seq;
}

}  // namespace tinyml::train
