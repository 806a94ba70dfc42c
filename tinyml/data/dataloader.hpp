// DataLoader: walks a Dataset in batches, optionally in a seeded shuffled order that changes per epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "tinyml/data/dataset.hpp"

namespace tinyml::data {

struct DataLoaderOptions {
  size_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;       // with shuffle: the order of epoch e depends only on (seed, e)
  bool drop_last = false;  // drop a final batch smaller than batch_size
};

class DataLoader {
 public:
  class Iterator;

  explicit DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});

  // Number of batches in one pass.
  size_t size() const;
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

  // The epoch the next pass (the next begin()) will use. Each begin() uses the current epoch and
  // then advances it, so consecutive range-for loops see different orders; set_epoch makes a pass
  // reproducible on its own (e.g. when resuming training at epoch e).
  void set_epoch(uint64_t epoch) { epoch_ = epoch; }
  uint64_t epoch() const { return epoch_; }

  // The example order of a pass in `epoch`: 0..n-1 without shuffle, else a Fisher–Yates
  // permutation drawn from a Generator seeded by (seed, epoch). Independent of the standard library.
  std::vector<size_t> order(uint64_t epoch) const;

  // Starts a pass (see set_epoch). Batches are loaded when dereferenced.
  Iterator begin();
  Iterator end() const;

  // An input iterator over the batches of one pass; it shares the pass's order, so copies stay valid.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    Iterator() = default;
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    Iterator operator++(int);
    // Iterators compare by batch position only, so any iterator of a pass meets end().
    bool operator==(const Iterator& other) const { return batch_ == other.batch_; }
    // Position of the current batch within the pass.
    size_t index() const { return batch_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::shared_ptr<const std::vector<size_t>> order, size_t batch)
        : loader_(loader), order_(std::move(order)), batch_(batch) {}

    const DataLoader* loader_ = nullptr;
    std::shared_ptr<const std::vector<size_t>> order_;
    size_t batch_ = 0;
    mutable Batch current_;
    mutable bool loaded_ = false;
  };

 private:
  Batch load(const std::vector<size_t>& order, size_t batch) const;

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  uint64_t epoch_ = 0;
};

}  // namespace tinyml::data
