#include "tinyml/train/mlp.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "tinyml/core/error.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"

namespace tinyml::train {

std::vector<int64_t> parse_arch(const std::string& text) {
  std::vector<int64_t> sizes;
  size_t pos = 0;
  while (true) {
    const size_t dash = text.find('-', pos);
    const std::string item = text.substr(pos, dash == std::string::npos ? std::string::npos : dash - pos);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    TINYML_CHECK(!item.empty() && ec == std::errc() && end == item.data() + item.size() && value > 0,
                 "architecture '{}': '{}' is not a positive integer; expected layer sizes joined by "
                 "'-', like 784-256-128-10",
                 text, item);
    // Bounds the weight matrices so that a typo cannot ask for terabytes.
    constexpr int64_t kMaxWidth = int64_t{1} << 20;
    TINYML_CHECK(value <= kMaxWidth, "architecture '{}': layer size {} exceeds the limit of {}", text, value,
                 kMaxWidth);
    sizes.push_back(value);
    if (dash == std::string::npos) break;
    pos = dash + 1;
  }
  TINYML_CHECK(sizes.size() >= 2,
               "architecture '{}': needs at least two sizes (inputs and outputs), like 2-8-2", text);
  // The model must also load again: its Sequential, a Linear per layer and a ReLU between two.
  const size_t modules = 2 * (sizes.size() - 1);
  TINYML_CHECK(modules <= io::kMaxModules,
               "architecture '{}': {} layers make {} modules, more than a model file holds ({})", text,
               sizes.size() - 1, modules, io::kMaxModules);
  // And fit in memory with its gradients and optimizer state (each as large again).
  constexpr uint64_t kMaxParameters = uint64_t{1} << 27;
  uint64_t parameters = 0;
  for (size_t i = 0; i + 1 < sizes.size(); ++i)
    parameters += static_cast<uint64_t>(sizes[i] + 1) * static_cast<uint64_t>(sizes[i + 1]);
  TINYML_CHECK(parameters <= kMaxParameters,
               "architecture '{}': {} parameters exceed the limit of {} (512 MiB of float32 weights)", text,
               parameters, kMaxParameters);
  return sizes;
}

std::string arch_string(const std::vector<int64_t>& sizes) {
  return fmt::format("{}", fmt::join(sizes, "-"));
}

std::shared_ptr<nn::Sequential> make_mlp(const std::vector<int64_t>& sizes, Generator& gen) {
  TINYML_CHECK(sizes.size() >= 2, "make_mlp: needs at least two layer sizes, got {}", sizes);
  auto model = std::make_shared<nn::Sequential>();
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    TINYML_CHECK(sizes[i] > 0 && sizes[i + 1] > 0, "make_mlp: layer sizes must be positive, got {}", sizes);
    model->push_back(std::make_shared<nn::Linear>(sizes[i], sizes[i + 1], true, gen));
    if (i + 2 < sizes.size()) model->push_back(std::make_shared<nn::ReLU>());
  }
  return model;
}

}  // namespace tinyml::train
