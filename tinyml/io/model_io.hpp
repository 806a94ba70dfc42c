// Saving and loading float models: a StateDict (or a Module's) as F32 tensors in a .safetensors file.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "tinyml/io/safetensors.hpp"
#include "tinyml/nn/module.hpp"

namespace tinyml::io {

// Writes every tensor as F32 (row-major, whatever its strides) under its state_dict name, atomically
// (see write_safetensors). The metadata gets "format": "tinyml" and "format_version": "1"
// (stamped_metadata): those two keys are an error in `metadata` with other values, and the module
// tree's key, which only save_model writes, is an error there too.
void save_state_dict(const nn::StateDict& state, const std::string& path,
                     const std::map<std::string, std::string>& metadata = {});

// Reads a file of F32 tensors (ours, or any safetensors file holding only F32) into a StateDict.
// A file whose metadata names a different tinyml format_version, or that holds another dtype,
// is refused with an error naming the tensor.
nn::StateDict load_state_dict(const std::string& path);
// The same reader on a file's bytes in memory (tests and fuzzing); errors name "load_state_dict_bytes".
nn::StateDict load_state_dict_bytes(std::span<const uint8_t> bytes);

// save_state_dict(module.state_dict(), path) with "module": module.type_name() in the metadata.
void save(const nn::Module& module, const std::string& path);

// Throws unless `file` holds exactly the tensors of `expected` (state_dict name -> shape), naming the
// first missing, extra or misshapen one. It reads only the header's names and shapes, so a file whose
// metadata promises a model far larger than its tensors is refused before that model is built.
// `src` prefixes the message ("model file 'm.safetensors'").
void check_state_dict_shapes(const SafetensorsFile& file, const std::map<std::string, Shape>& expected,
                             const std::string& src);

// Loads a file into an existing module, in place. strict: the file's names and shapes must match
// the module's exactly; a mismatch (a file from another architecture) throws naming the key and
// both shapes, and leaves the module unchanged. Not strict: only keys present in both are loaded,
// and their shapes must still match.
void load(nn::Module& module, const std::string& path, bool strict = true);

}  // namespace tinyml::io
