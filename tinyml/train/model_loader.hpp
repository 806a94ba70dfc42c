// Models rebuilt from files: whole-model files (io::save_model) and MLP state dicts named by their metadata.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tinyml/nn/module.hpp"
#include "tinyml/nn/sequential.hpp"

namespace tinyml::train {

// A model rebuilt from a file.
struct LoadedModel {
  std::shared_ptr<nn::Module> model;
  // The layer sizes of the rebuilt model (io::layer_sizes; a metadata "arch" that disagrees is an
  // error); empty when the model has no Linear layer.
  std::vector<int64_t> arch;
  std::string dataset;                          // the dataset it was trained on ("" if unknown)
  std::map<std::string, std::string> metadata;  // the file's __metadata__
};

// The metadata that describes a trained MLP: "arch", "dataset", "activation", "model".
std::map<std::string, std::string> model_metadata(const std::vector<int64_t>& arch,
                                                  const std::string& dataset);

// Rebuilds the model in `path`: a whole-model file (io::save_model, float or quantized), or a
// plain state dict whose metadata names the MLP's "arch" (make_mlp). Throws tinyml::Error naming
// the file and what is missing or wrong.
LoadedModel load_model_file(const std::string& path);

// The model in `path` (see load_model_file) as a Sequential, which quantize_model and prepare_qat
// need; `command` names the caller in the error for any other module. `info`, when given,
// receives what load_model_file found.
std::shared_ptr<nn::Sequential> load_sequential(const std::string& path, const char* command,
                                                LoadedModel* info = nullptr);

}  // namespace tinyml::train
