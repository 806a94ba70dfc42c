// Tests for Dataset, TensorDataset and DataLoader: coverage, batching, seeded shuffling, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/dataset.hpp"

using ::testing::HasSubstr;
using tinyml::Error;
using tinyml::Shape;
using tinyml::Tensor;
using tinyml::data::Batch;
using tinyml::data::DataLoader;
using tinyml::data::DataLoaderOptions;
using tinyml::data::Dataset;
using tinyml::data::Example;
using tinyml::data::TensorDataset;

namespace {

// n examples: data row i = (i, 10 i, 100 i), target i; so any batch row can be traced to its index.
std::shared_ptr<TensorDataset> indexed_dataset(int64_t n) {
  std::vector<float> x, y;
  for (int64_t i = 0; i < n; ++i) {
    const auto f = static_cast<float>(i);
    x.insert(x.end(), {f, 10 * f, 100 * f});
    y.push_back(f);
  }
  return std::make_shared<TensorDataset>(Tensor::from_vector(x, {n, 3}), Tensor::from_vector(y, {n}));
}

// Runs one pass and returns the example indices in the order seen, checking each batch's rows.
std::vector<size_t> one_pass(DataLoader& loader, std::vector<size_t>* batch_sizes = nullptr) {
  std::vector<size_t> seen;
  for (const Batch& b : loader) {
    EXPECT_EQ(b.data.dim(), 2);
    EXPECT_EQ(b.data.size(1), 3);
    EXPECT_EQ(b.target.shape(), (Shape{b.data.size(0)}));
    for (int64_t k = 0; k < b.data.size(0); ++k) {
      const float i = b.target.at({k});
      EXPECT_EQ(b.data.at({k, 0}), i);
      EXPECT_EQ(b.data.at({k, 1}), 10 * i);
      EXPECT_EQ(b.data.at({k, 2}), 100 * i);
      seen.push_back(static_cast<size_t>(i));
    }
    if (batch_sizes) batch_sizes->push_back(static_cast<size_t>(b.data.size(0)));
  }
  return seen;
}

std::vector<size_t> iota_vec(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

// A dataset that only implements get(), so get_batch runs the base class's stacking path.
class GetOnly : public Dataset {
 public:
  explicit GetOnly(std::shared_ptr<const Dataset> inner) : inner_(std::move(inner)) {}
  size_t size() const override { return inner_->size(); }
  Example get(size_t i) const override { return inner_->get(i); }

 private:
  std::shared_ptr<const Dataset> inner_;
};

}  // namespace

TEST(TensorDataset, GetReturnsRowsAndTargets) {
  auto ds = indexed_dataset(5);
  EXPECT_EQ(ds->size(), 5u);
  const Example e = ds->get(3);
  EXPECT_EQ(e.data.shape(), (Shape{3}));
  EXPECT_EQ(e.target.shape(), Shape{});
  EXPECT_EQ(e.data.to_vector(), (std::vector<float>{3, 30, 300}));
  EXPECT_EQ(e.target.item(), 3.0f);
  EXPECT_THROW(ds->get(5), Error);
}

TEST(TensorDataset, CopiesItsInputs) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  TensorDataset ds(x, Tensor::from_vector({0, 1}, {2}));
  x.fill_(-1.0f);
  EXPECT_EQ(ds.get(1).data.to_vector(), (std::vector<float>{3, 4}));
}

TEST(TensorDataset, ShapeErrorsNameBothShapes) {
  try {
    TensorDataset(Tensor::zeros({4, 2}), Tensor::zeros({3}));
    ADD_FAILURE() << "mismatched first dims accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("TensorDataset"));
    EXPECT_THAT(e.what(), HasSubstr("[4, 2]"));
    EXPECT_THAT(e.what(), HasSubstr("[3]"));
  }
  EXPECT_THROW(TensorDataset(Tensor::scalar(1.0f), Tensor::zeros({1})), Error);
  EXPECT_THROW(TensorDataset(Tensor(), Tensor::zeros({1})), Error);
}

TEST(TensorDataset, FastGetBatchMatchesStackingReference) {
  // The base class's get()-and-stack path is the reference for TensorDataset's row gather.
  tinyml::Generator gen(13);
  auto ds = std::make_shared<TensorDataset>(Tensor::randn({20, 2, 3}, gen), Tensor::randn({20, 4}, gen));
  GetOnly ref(ds);
  for (int trial = 0; trial < 10; ++trial) {
    std::vector<size_t> idx(1 + gen.randint(8));
    for (auto& i : idx) i = gen.randint(20);  // repeats allowed
    const Batch fast = ds->get_batch(idx);
    const Batch slow = ref.get_batch(idx);
    EXPECT_EQ(fast.data.shape(), (Shape{static_cast<int64_t>(idx.size()), 2, 3}));
    EXPECT_EQ(fast.target.shape(), (Shape{static_cast<int64_t>(idx.size()), 4}));
    EXPECT_TRUE(tinyml::equal(fast.data, slow.data));
    EXPECT_TRUE(tinyml::equal(fast.target, slow.target));
  }
  const std::vector<size_t> bad = {0, 20};
  EXPECT_THROW(ds->get_batch(bad), Error);
  EXPECT_THROW(ref.get_batch(bad), Error);
  EXPECT_THROW(ds->get_batch({}), Error);
}

TEST(Dataset, DefaultGetBatchRejectsRaggedExamples) {
  class Ragged : public Dataset {
   public:
    size_t size() const override { return 2; }
    Example get(size_t i) const override {
      return {Tensor::zeros({static_cast<int64_t>(i) + 1}), Tensor::scalar(0.0f)};
    }
  } ragged;
  const std::vector<size_t> idx = {0, 1};
  try {
    ragged.get_batch(idx);
    ADD_FAILURE() << "ragged examples stacked";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("[2]"));
    EXPECT_THAT(e.what(), HasSubstr("[1]"));
  }
}

TEST(DataLoader, SizeCountsBatches) {
  struct Case {
    int64_t n;
    size_t bs;
    bool drop;
    size_t batches;
  };
  for (const Case& c :
       {Case{10, 3, false, 4}, Case{10, 3, true, 3}, Case{9, 3, false, 3}, Case{9, 3, true, 3},
        Case{2, 5, false, 1}, Case{2, 5, true, 0}, Case{0, 4, false, 0}}) {
    DataLoader loader(indexed_dataset(c.n), {.batch_size = c.bs, .drop_last = c.drop});
    EXPECT_EQ(loader.size(), c.batches) << c.n << " / " << c.bs << " drop_last=" << c.drop;
    std::vector<size_t> sizes;
    one_pass(loader, &sizes);
    EXPECT_EQ(sizes.size(), c.batches);
  }
}

TEST(DataLoader, SequentialWithoutShuffle) {
  DataLoader loader(indexed_dataset(10), {.batch_size = 4});
  std::vector<size_t> sizes;
  EXPECT_EQ(one_pass(loader, &sizes), iota_vec(10));
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(one_pass(loader), iota_vec(10));  // every pass is the same without shuffle
}

TEST(DataLoader, ShuffledPassCoversEveryIndexOnce) {
  DataLoader loader(indexed_dataset(10), {.batch_size = 3, .shuffle = true, .seed = 42});
  std::vector<size_t> sizes;
  std::vector<size_t> seen = one_pass(loader, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 3, 1}));
  EXPECT_NE(seen, iota_vec(10));  // shuffled (fixed seed: a deterministic fact, not a chance)
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, iota_vec(10));
}

TEST(DataLoader, DropLastDropsOnlyTheShortBatch) {
  DataLoader loader(indexed_dataset(10), {.batch_size = 3, .shuffle = true, .seed = 1, .drop_last = true});
  std::vector<size_t> sizes;
  std::vector<size_t> seen = one_pass(loader, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 3}));
  std::sort(seen.begin(), seen.end());
  EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // 9 distinct indices
  EXPECT_EQ(seen.size(), 9u);
}

TEST(DataLoader, SameSeedSameSequenceOfOrders) {
  auto ds = indexed_dataset(50);
  DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 7});
  DataLoader b(ds, {.batch_size = 8, .shuffle = true, .seed = 7});
  for (int epoch = 0; epoch < 3; ++epoch) EXPECT_EQ(one_pass(a), one_pass(b)) << "epoch " << epoch;
}

TEST(DataLoader, OtherSeedOtherOrder) {
  auto ds = indexed_dataset(50);
  DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 7});
  DataLoader b(ds, {.batch_size = 8, .shuffle = true, .seed = 8});
  EXPECT_NE(one_pass(a), one_pass(b));
}

TEST(DataLoader, EpochsDifferAndSetEpochReplays) {
  DataLoader loader(indexed_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 3});
  EXPECT_EQ(loader.epoch(), 0u);
  const auto e0 = one_pass(loader);
  const auto e1 = one_pass(loader);
  EXPECT_EQ(loader.epoch(), 2u);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0, loader.order(0));
  EXPECT_EQ(e1, loader.order(1));
  loader.set_epoch(1);
  EXPECT_EQ(one_pass(loader), e1);
  loader.set_epoch(0);
  EXPECT_EQ(one_pass(loader), e0);
}

TEST(DataLoader, ShuffleIsUniformOverPermutations) {
  // 6000 epochs of a 3-element dataset: each of the 6 permutations should appear ~1000 times.
  // Pearson's chi-squared with 5 degrees of freedom exceeds 20.5 with probability 0.001 under
  // uniformity; the classic biased shuffle (swap with any position) gives counts 889/1111 and a
  // statistic near 74, so the bound separates the two.
  DataLoader loader(indexed_dataset(3), {.batch_size = 3, .shuffle = true, .seed = 2024});
  std::map<std::vector<size_t>, int> counts;
  constexpr int kEpochs = 6000;
  for (int e = 0; e < kEpochs; ++e) ++counts[loader.order(static_cast<uint64_t>(e))];
  ASSERT_EQ(counts.size(), 6u);
  double chi2 = 0.0;
  for (const auto& [perm, c] : counts) {
    const double d = c - kEpochs / 6.0;
    chi2 += d * d / (kEpochs / 6.0);
  }
  EXPECT_LT(chi2, 20.5);
}

TEST(DataLoader, IteratorProtocol) {
  DataLoader loader(indexed_dataset(7), {.batch_size = 2});
  auto it = loader.begin();
  EXPECT_EQ(it->data.size(0), 2);
  EXPECT_EQ((*it).target.at({1}), 1.0f);
  auto old = it++;
  EXPECT_EQ(old.index(), 0u);
  EXPECT_EQ(it.index(), 1u);
  EXPECT_EQ(it->target.at({0}), 2.0f);
  size_t n = 2;  // batches 0 and 1 seen above
  for (++it; it != loader.end(); ++it) ++n;
  EXPECT_EQ(n, loader.size());
  EXPECT_EQ(n, 4u);
  EXPECT_THROW(*loader.end(), Error);
}

TEST(DataLoader, RejectsBadOptions) {
  try {
    DataLoader(indexed_dataset(4), {.batch_size = 0});
    ADD_FAILURE() << "batch_size 0 accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("batch_size"));
  }
  EXPECT_THROW(DataLoader(nullptr, {.batch_size = 1}), Error);
}
