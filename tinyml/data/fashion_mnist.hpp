// FashionMNIST: the Fashion-MNIST images (28×28 grey, 10 classes) read from IDX files as a Dataset.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tinyml/data/dataset.hpp"

namespace tinyml::data {

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte, raw or with a .gz suffix, from `root`. The
// original MNIST digits ship under the same file names and load the same way.
//
// Pixels stay as bytes (47 MB for the training set rather than 188 MB as floats) and are converted
// per batch: data is float in [0, 1] (x / 255) of shape (B, 784), target the class index as float (B).
class FashionMNIST : public Dataset {
 public:
  static constexpr int64_t kRows = 28;
  static constexpr int64_t kCols = 28;
  static constexpr int64_t kPixels = kRows * kCols;
  static constexpr int64_t kClasses = 10;

  // `limit` keeps only the first `limit` examples (at most the file's count); it must be > 0.
  explicit FashionMNIST(const std::string& root = default_root(), bool train = true,
                        std::optional<size_t> limit = std::nullopt);

  size_t size() const override { return labels_.size(); }
  // data (784) in [0, 1], target 0-D class index.
  Example get(size_t i) const override;
  Batch get_batch(std::span<const size_t> indices) const override;

  bool train() const { return train_; }
  // Raw storage: size() × 784 pixels row-major, and size() labels in 0..9.
  const std::vector<uint8_t>& pixels() const { return pixels_; }
  const std::vector<uint8_t>& labels() const { return labels_; }

  // $TINYML_FASHION_MNIST_DIR if set and non-empty, else /usr/share/datasets/fashion-mnist (where
  // the Debian package dataset-fashion-mnist installs the files).
  static std::string default_root();
  // True when all four files (both splits) are present in `root`, raw or gzipped.
  static bool available(const std::string& root = default_root());
  // "T-shirt/top", "Trouser", ..., "Ankle boot", indexed by label.
  static const std::array<std::string_view, kClasses>& class_names();

 private:
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
  bool train_ = true;
};

}  // namespace tinyml::data
