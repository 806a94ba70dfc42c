// A model's layers as Graphviz DOT text: each layer with its shapes, and quantized or not, at how many bits.
#pragma once

#include <cstdint>
#include <string>

#include "tinyml/nn/module.hpp"

namespace tinyml::io {

// The model in Graphviz's DOT language, drawn top to bottom: an "input" box of shape
// (batch, in), then every leaf layer as a box labelled with its name and type, its input and
// output shapes, and its storage: "fp32" with the parameter count for float layers,
// "int<bits> <scheme> <per-tensor|per-channel>, <mode>" with the weight's bytes for a
// QuantizedLinear; then an "output" box. Leaf layers are chained in the order of the module tree
// (the order a Sequential runs them); a nested container is a cluster around its layers, so a
// model whose forward() is not that chain is drawn as if it were. Shapes follow Linear and QuantizedLinear
// (in → out features) and are carried through the layers that keep them (activations, Identity,
// Dropout); the input width is the first linear layer's in_features. Throws if the model has no
// Linear or QuantizedLinear to take it from, or batch < 1.
std::string model_to_dot(nn::Module& model, int64_t batch = 1);

}  // namespace tinyml::io
