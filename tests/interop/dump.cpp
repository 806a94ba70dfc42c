// interop_dump: a dataset split as raw float32/int32 files, and a tinyml model's logits on it, for
// scripts/check-interop.sh to compare with ONNX Runtime and PyTorch.
// Usage: interop_dump MODEL|- DATASET SPLIT LIMIT PREFIX  (SPLIT: train or test)
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/train/datasets.hpp"
#include "tinyml/train/model_loader.hpp"

namespace {

void write_raw(const std::string& path, const void* data, size_t bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  TINYML_CHECK(f != nullptr && std::fwrite(data, 1, bytes, f) == bytes, "interop_dump: cannot write '{}'",
               path);
  std::fclose(f);
}

void run(const std::string& model_path, const std::string& dataset, const std::string& split, size_t limit,
         const std::string& prefix) {
  const bool train = split == "train";
  const tinyml::train::DataSplits data =
      tinyml::train::load_dataset(dataset, train, train ? std::optional<size_t>(limit) : std::nullopt,
                                  train ? std::nullopt : std::optional(limit));
  const tinyml::data::Dataset& ds = train ? *data.train : *data.test;
  std::vector<float> x;
  std::vector<int32_t> y;
  for (size_t i = 0; i < ds.size(); ++i) {
    const tinyml::data::Example e = ds.get(i);
    const std::vector<float> v = e.data.to_vector();
    x.insert(x.end(), v.begin(), v.end());
    y.push_back(static_cast<int32_t>(e.target.to_vector().at(0)));
  }
  write_raw(prefix + ".x.f32", x.data(), x.size() * sizeof(float));
  write_raw(prefix + ".y.i32", y.data(), y.size() * sizeof(int32_t));
  if (model_path != "-") {
    const tinyml::train::LoadedModel m = tinyml::train::load_model_file(model_path);
    m.model->eval();
    tinyml::NoGradGuard no_grad;
    // Batches of 1000, as ort_run.js and `tinyml eval` run them: dynamic quantization chooses
    // its input qparams per batch, so both sides must see the same batches.
    const auto n = static_cast<int64_t>(y.size()), f = static_cast<int64_t>(x.size() / y.size());
    std::vector<float> l;
    for (int64_t i = 0; i < n; i += 1000) {
      const int64_t rows = std::min<int64_t>(1000, n - i);
      const std::vector<float> part(x.begin() + i * f, x.begin() + (i + rows) * f);
      const std::vector<float> out = (*m.model)(tinyml::Tensor::from_vector(part, {rows, f})).to_vector();
      l.insert(l.end(), out.begin(), out.end());
    }
    write_raw(prefix + ".logits.f32", l.data(), l.size() * sizeof(float));
  }
  fmt::print("{} {} examples of {} features\n", prefix, y.size(), x.size() / y.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    fmt::print(stderr, "usage: interop_dump MODEL|- DATASET train|test LIMIT PREFIX\n");
    return 2;
  }
  try {
    run(argv[1], argv[2], argv[3], std::stoul(argv[4]), argv[5]);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
