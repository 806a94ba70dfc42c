// Whole-model files: a Sequential's structure, float and quantized layers in one .safetensors file, loadable
// without the code that built it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tinyml/io/metadata.hpp"  // kModulesKey, user_metadata
#include "tinyml/nn/sequential.hpp"

namespace tinyml::io {

// A module tree of more entries than this is refused before any module is built (a model of a few
// hundred layers is already large; Sequential looks children up by name, so each costs O(children)).
inline constexpr size_t kMaxModules = 4096;

// Writes `model` atomically (see write_safetensors) with its structure in the metadata, so that
// load_model can rebuild it:
//   "tinyml.modules": [{"name": "", "type": "Sequential"},
//                      {"name": "0", "type": "Linear", "in": 784, "out": 256, "bias": true},
//                      {"name": "1", "type": "ReLU"},
//                      {"name": "2", "type": "QuantizedLinear", "in": 256, "out": 128, "bias": true,
//                       "mode": "static", "fuse_relu": true, "weight_dtype": "int8",
//                       "weight_qparams": {"spec": {...}, "scale": ["0x1.2p-8", ...], "zero_point": [0,
//                       ...]}, "input_qparams": {...}}, ...]
// in depth-first order, each entry named as in named_modules() (a nested Sequential first, then
// its children). Tensors are named like state_dict keys: a float Linear's "<name>.weight" and
// "<name>.bias" as F32; a QuantizedLinear's weight as the QTensor's storage bytes exactly (I8 for
// int8, U8 for uint8 and for packed 4-bit, whose shape is then (out, ceil(in/2))), its bias as
// F32, or as I32 in static mode. Scales are written as C99 hexadecimal floats ("%a"), so they
// read back bit for bit. Supported modules: Sequential, Linear, QuantizedLinear, ReLU, Sigmoid,
// Tanh, Softmax, LogSoftmax, Identity, Flatten, Dropout; anything else throws. `metadata` is
// stored too; "format", "format_version" and "tinyml.modules" are reserved.
void save_model(const nn::Sequential& model, const std::string& path,
                const std::map<std::string, std::string>& metadata = {});

// Rebuilds a model written by save_model. A loaded quantized model computes bit-identical outputs.
// Everything is checked: the JSON, each entry's type and fields, that every parent is a
// Sequential listed before its children, the tensors' dtypes and shapes against the entries, the
// qparams (one per channel, finite scales, zero points in range) and the integer values; a tensor
// that no entry uses is an error too. Any problem throws tinyml::Error naming the file and the
// entry. When `metadata` is given it receives the file's whole __metadata__.
std::shared_ptr<nn::Sequential> load_model(const std::string& path,
                                           std::map<std::string, std::string>* metadata = nullptr);
// The same reader on a file's bytes in memory (tests and fuzzing); errors name "load_model_bytes".
std::shared_ptr<nn::Sequential> load_model_bytes(std::span<const uint8_t> bytes,
                                                 std::map<std::string, std::string>* metadata = nullptr);

// The layer sizes of the Linear and QuantizedLinear layers of `model`, depth-first: the first one's
// input features, then each one's output features ({784, 256, 128, 10} for the reference MLP). Empty
// when there is none. Commands check a rebuilt model against a dataset with it.
std::vector<int64_t> layer_sizes(const nn::Module& model);

// True when the file's metadata holds a module tree (a file written by save_model).
bool is_model_file(const std::map<std::string, std::string>& metadata);

}  // namespace tinyml::io
