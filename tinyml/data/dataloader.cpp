#include "tinyml/data/dataloader.hpp"

#include <algorithm>
#include <numeric>
#include <span>
#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"

namespace tinyml::data {

namespace {

// SplitMix64's finalizer: spreads (seed, epoch) so that nearby seeds and epochs give unrelated
// generator states rather than the correlated ones seed + epoch would.
uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  TINYML_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  TINYML_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be at least 1, got 0");
}

size_t DataLoader::size() const {
  // BEGIN SOLUTION 06: DataLoader::size: batches per pass (a short last one unless drop_last)
  const size_t n = dataset_->size();
  const size_t b = options_.batch_size;
  return options_.drop_last ? n / b : n / b + (n % b != 0 ? 1 : 0);
  // END SOLUTION
}

std::vector<size_t> DataLoader::order(uint64_t epoch) const {
  std::vector<size_t> idx(dataset_->size());
  // BEGIN SOLUTION 06: DataLoader::order: the indices 0..n-1, as they are without shuffle
  std::iota(idx.begin(), idx.end(), size_t{0});
  if (!options_.shuffle) return idx;
  // END SOLUTION
  Generator gen(mix64(options_.seed ^ mix64(epoch)));
  // Fisher–Yates: position i takes a uniformly chosen element of [0, i].
  // BEGIN SOLUTION 06: DataLoader::order: Fisher-Yates shuffle of idx with gen
  for (size_t i = idx.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(gen.randint(i));
    std::swap(idx[i - 1], idx[j]);
  }
  // END SOLUTION
  return idx;
}

DataLoader::Iterator DataLoader::begin() {
  auto ord = std::make_shared<const std::vector<size_t>>(order(epoch_));
  ++epoch_;
  return Iterator(this, std::move(ord), 0);
}

DataLoader::Iterator DataLoader::end() const { return Iterator(this, nullptr, size()); }

Batch DataLoader::load(const std::vector<size_t>& order, size_t batch) const {
  // BEGIN SOLUTION 06: DataLoader::load: the examples of batch number `batch` via get_batch
  const size_t b = options_.batch_size;
  const size_t first = batch * b;
  TINYML_CHECK(batch < size() && first < order.size(), "DataLoader: batch {} out of range for {} batches",
               batch, size());
  const size_t count = std::min(b, order.size() - first);
  return dataset_->get_batch(std::span<const size_t>(order.data() + first, count));
  // END SOLUTION
}

const Batch& DataLoader::Iterator::operator*() const {
  TINYML_CHECK(loader_ != nullptr && order_ != nullptr,
               "DataLoader::Iterator: dereferencing an end or default-constructed iterator");
  if (!loaded_) {
    current_ = loader_->load(*order_, batch_);
    loaded_ = true;
  }
  return current_;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++batch_;
  loaded_ = false;
  current_ = Batch{};
  return *this;
}

DataLoader::Iterator DataLoader::Iterator::operator++(int) {
  Iterator old = *this;
  ++*this;
  return old;
}

}  // namespace tinyml::data
