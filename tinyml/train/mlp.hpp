// Multi-layer perceptrons by their layer sizes: the "784-256-128-10" notation and the model it names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinyml/core/random.hpp"
#include "tinyml/nn/sequential.hpp"

namespace tinyml::train {

// "784-256-128-10" → {784, 256, 128, 10}. Needs at least two sizes, each a positive integer of at
// most 2^20, an MLP a model file can hold (io::kMaxModules) and at most 2^27 parameters; anything
// else throws tinyml::Error quoting the text and the offending item or count.
std::vector<int64_t> parse_arch(const std::string& text);

// {784, 256, 128, 10} → "784-256-128-10" (the inverse of parse_arch).
std::string arch_string(const std::vector<int64_t>& sizes);

// Linear layers of the given sizes with ReLU between them and nothing after the last (the loss
// takes logits), initialised from `gen`. Children are named "0", "1", ... so state_dict keys are
// "0.weight", "2.bias", ... Throws tinyml::Error for fewer than two sizes or a size <= 0.
std::shared_ptr<nn::Sequential> make_mlp(const std::vector<int64_t>& sizes, Generator& gen);

}  // namespace tinyml::train
