// Tests for FashionMNIST: the real files (Debian package dataset-fashion-mnist) and small fakes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "tests/support/datasets.hpp"
#include "tests/support/temp_dir.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/data/idx.hpp"

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using tinyml::Error;
using tinyml::Shape;
using tinyml::data::Batch;
using tinyml::data::FashionMNIST;
using tinyml::data::IdxArray;
using tinyml::data::write_idx;

namespace {

// The real dataset is read once per test program and split (the training set takes a few tenths
// of a second); null when the package is not installed.
std::unique_ptr<FashionMNIST> load_real(bool train) {
  if (!FashionMNIST::available(FashionMNIST::default_root())) return nullptr;
  return std::make_unique<FashionMNIST>(FashionMNIST::default_root(), train);
}

const FashionMNIST* real(bool train) {
  if (train) {
    static const std::unique_ptr<FashionMNIST> train_set = load_real(true);
    return train_set.get();
  }
  static const std::unique_ptr<FashionMNIST> test_set = load_real(false);
  return test_set.get();
}

#define REQUIRE_DATASET()                                       \
  if (!FashionMNIST::available(FashionMNIST::default_root())) { \
    GTEST_SKIP() << tinyml_test::fashion_mnist_missing();       \
  }

class FakeDir : public tinyml_test::TempDirTest {
 protected:
  // Writes a split of n images whose pixel p of image i is (i + p) mod 256, labels as given.
  void write_split(const std::string& split, int64_t n, const std::vector<uint8_t>& labels, bool gzip,
                   int64_t rows = 28) {
    IdxArray images{{n, rows, 28}, {}};
    images.data.resize(static_cast<size_t>(images.numel()));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < rows * 28; ++p)
        images.data[static_cast<size_t>(i * rows * 28 + p)] = static_cast<uint8_t>((i + p) % 256);
    const std::string gz = gzip ? ".gz" : "";
    write_idx((dir_ / (split + "-images-idx3-ubyte" + gz)).string(), images, gzip);
    write_idx((dir_ / (split + "-labels-idx1-ubyte" + gz)).string(),
              IdxArray{{static_cast<int64_t>(labels.size())}, labels}, gzip);
  }
};

}  // namespace

TEST(FashionMNISTReal, SizesAndFirstLabels) {
  REQUIRE_DATASET();
  const FashionMNIST& train = *real(true);
  const FashionMNIST& test = *real(false);
  EXPECT_EQ(train.size(), 60000u);
  EXPECT_EQ(test.size(), 10000u);
  EXPECT_EQ(train.pixels().size(), 60000u * 784u);
  // First labels as read by Python's gzip + struct from the same files (an independent reader).
  EXPECT_EQ(std::vector<uint8_t>(train.labels().begin(), train.labels().begin() + 10),
            (std::vector<uint8_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  EXPECT_EQ(std::vector<uint8_t>(test.labels().begin(), test.labels().begin() + 10),
            (std::vector<uint8_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  // Pixel sums from the same Python reader: the first test image, and the whole test set.
  const auto& px = test.pixels();
  EXPECT_EQ(std::accumulate(px.begin(), px.begin() + 784, int64_t{0}), 33456);
  EXPECT_EQ(std::accumulate(px.begin(), px.end(), int64_t{0}), 573469082);
}

TEST(FashionMNISTReal, LabelHistogramsAreBalanced) {
  REQUIRE_DATASET();
  // Fashion-MNIST has 6000 training and 1000 test images per class.
  for (bool train : {true, false}) {
    std::vector<int> hist(10, 0);
    for (uint8_t l : real(train)->labels()) ++hist[l];
    EXPECT_EQ(hist, std::vector<int>(10, train ? 6000 : 1000)) << (train ? "train" : "test");
  }
}

TEST(FashionMNISTReal, BatchesAreScaledPixels) {
  REQUIRE_DATASET();
  const FashionMNIST& test = *real(false);
  const std::vector<size_t> idx = {0, 9999, 17, 17, 4242};
  const Batch b = test.get_batch(idx);
  ASSERT_EQ(b.data.shape(), (Shape{5, 784}));
  ASSERT_EQ(b.target.shape(), (Shape{5}));
  float lo = 1.0f, hi = 0.0f;
  for (size_t k = 0; k < idx.size(); ++k) {
    EXPECT_EQ(b.target.at({static_cast<int64_t>(k)}), static_cast<float>(test.labels()[idx[k]]));
    for (int64_t p = 0; p < 784; ++p) {
      const float v = b.data.at({static_cast<int64_t>(k), p});
      // Exactly the float nearest byte / 255, the value PyTorch's ToTensor gives.
      EXPECT_EQ(v, static_cast<float>(test.pixels()[idx[k] * 784 + static_cast<size_t>(p)]) / 255.0f);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  EXPECT_EQ(lo, 0.0f);  // the images have black backgrounds and saturated pixels
  EXPECT_EQ(hi, 1.0f);
  // get(i) agrees with the batch path.
  const auto e = test.get(4242);
  EXPECT_EQ(e.data.shape(), (Shape{784}));
  EXPECT_EQ(e.target.shape(), Shape{});
  const std::vector<float> all = b.data.to_vector();
  EXPECT_EQ(e.data.to_vector(), std::vector<float>(all.begin() + 4 * 784, all.end()));
  const std::vector<size_t> bad = {10000};
  EXPECT_THROW(test.get_batch(bad), Error);
}

TEST(FashionMNISTReal, LimitKeepsTheFirstExamples) {
  REQUIRE_DATASET();
  const FashionMNIST small(FashionMNIST::default_root(), false, 100);
  EXPECT_EQ(small.size(), 100u);
  EXPECT_EQ(small.labels(),
            std::vector<uint8_t>(real(false)->labels().begin(), real(false)->labels().begin() + 100));
}

TEST(FashionMNIST, ClassNames) {
  EXPECT_EQ(FashionMNIST::class_names()[0], "T-shirt/top");
  EXPECT_EQ(FashionMNIST::class_names()[9], "Ankle boot");
}

TEST(FashionMNIST, DefaultRootHonoursEnvironment) {
  const char* old = std::getenv("TINYML_FASHION_MNIST_DIR");
  const std::string saved = old ? old : "";
  ::setenv("TINYML_FASHION_MNIST_DIR", "/some/where", 1);
  EXPECT_EQ(FashionMNIST::default_root(), "/some/where");
  ::setenv("TINYML_FASHION_MNIST_DIR", "", 1);  // empty counts as unset
  EXPECT_EQ(FashionMNIST::default_root(), "/usr/share/datasets/fashion-mnist");
  if (old) {
    ::setenv("TINYML_FASHION_MNIST_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TINYML_FASHION_MNIST_DIR");
  }
}

TEST_F(FakeDir, ReadsRawAndGzippedFiles) {
  write_split("train", 3, {4, 0, 9}, /*gzip=*/false);
  write_split("t10k", 2, {1, 2}, /*gzip=*/true);
  EXPECT_TRUE(FashionMNIST::available(dir_.string()));
  const FashionMNIST train(dir_.string(), true);
  const FashionMNIST test(dir_.string(), false);
  EXPECT_EQ(train.size(), 3u);
  EXPECT_EQ(test.size(), 2u);
  const std::vector<size_t> idx = {2, 0};
  const Batch b = train.get_batch(idx);
  EXPECT_EQ(b.target.to_vector(), (std::vector<float>{9, 4}));
  EXPECT_EQ(b.data.at({0, 0}), 2.0f / 255.0f);      // image 2, pixel 0
  EXPECT_EQ(b.data.at({0, 253}), 255.0f / 255.0f);  // (2 + 253) mod 256 = 255
  EXPECT_EQ(b.data.at({1, 300}), 44.0f / 255.0f);   // (0 + 300) mod 256 = 44
  // limit above the count keeps everything; limit 0 is an error.
  EXPECT_EQ(FashionMNIST(dir_.string(), true, 10).size(), 3u);
  EXPECT_THROW(FashionMNIST(dir_.string(), true, 0), Error);
}

TEST_F(FakeDir, MissingFilesNameThePackage) {
  write_split("train", 2, {0, 1}, false);
  EXPECT_FALSE(FashionMNIST::available(dir_.string()));  // no t10k files
  try {
    FashionMNIST(dir_.string(), false);
    ADD_FAILURE() << "missing files accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("t10k-images-idx3-ubyte"));
    EXPECT_THAT(e.what(), HasSubstr("dataset-fashion-mnist"));
  }
}

TEST_F(FakeDir, RejectsCountMismatch) {
  write_split("train", 3, {0, 1}, false);
  try {
    FashionMNIST(dir_.string(), true);
    ADD_FAILURE() << "3 images with 2 labels accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("3 images"));
    EXPECT_THAT(e.what(), HasSubstr("2 labels"));
  }
}

TEST_F(FakeDir, RejectsLabelOutOfRange) {
  write_split("train", 2, {3, 10}, false);
  try {
    FashionMNIST(dir_.string(), true);
    ADD_FAILURE() << "label 10 accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("label 1"));
    EXPECT_THAT(e.what(), HasSubstr("is 10"));
  }
}

TEST_F(FakeDir, RejectsWrongImageSize) {
  write_split("train", 2, {0, 1}, false, /*rows=*/14);
  try {
    FashionMNIST(dir_.string(), true);
    ADD_FAILURE() << "14x28 images accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("[2, 14, 28]"));
  }
}

// Rewrites dim 0 in the header of a raw IDX file (big-endian, bytes 4..7): a header that claims
// more entries than the file holds, as in a gzip bomb's header.
static void set_first_dim(const fs::path& p, uint32_t n) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  const char be[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                      static_cast<char>(n)};
  f.seekp(4);
  f.write(be, 4);
}

// Found by the mutation campaign (docs/hardening.md): a 2 MB t10k-images .gz claiming dims
// [2739137, 28, 28] made `eval --limit 20` decompress 2.1 GB before the count mismatch was
// reported. The two headers are compared first: here the images file is not read past its header
// (its payload is short, which a full read would report instead).
TEST_F(FakeDir, CountMismatchIsFoundFromTheHeadersFirst) {
  write_split("t10k", 3, {0, 1, 2}, false);
  set_first_dim(dir_ / "t10k-images-idx3-ubyte", 2739137);
  EXPECT_THAT([&] { FashionMNIST(dir_.string(), false); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("2739137 images"), HasSubstr("3 labels"))));
  EXPECT_THAT([&] { FashionMNIST(dir_.string(), false, 2); },
              ::testing::ThrowsMessage<Error>(HasSubstr("the counts must match")));
}

// With a limit only the first examples are read: a file damaged after them still loads, raw or
// gzipped, and the examples are the file's first ones.
TEST_F(FakeDir, LimitReadsNoMoreThanNeeded) {
  std::vector<uint8_t> labels(100);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>(i % 10);
  write_split("t10k", 10, std::vector<uint8_t>(labels.begin(), labels.begin() + 10), false);
  set_first_dim(dir_ / "t10k-images-idx3-ubyte", 100);  // claims 100, holds 10
  write_idx((dir_ / "t10k-labels-idx1-ubyte").string(), IdxArray{{100}, labels});
  const FashionMNIST head(dir_.string(), false, 5);
  ASSERT_EQ(head.size(), 5u);
  EXPECT_EQ(head.labels(), std::vector<uint8_t>({0, 1, 2, 3, 4}));
  EXPECT_EQ(head.pixels()[784 * 4 + 1], 5);  // pixel 1 of image 4 is (4 + 1) mod 256
  EXPECT_THAT([&] { FashionMNIST(dir_.string(), false, 20); },
              ::testing::ThrowsMessage<Error>(HasSubstr("truncated payload")));

  fs::remove_all(dir_);
  fs::create_directories(dir_);
  write_split("t10k", 20, std::vector<uint8_t>(labels.begin(), labels.begin() + 20), true);
  const FashionMNIST gz(dir_.string(), false, 7);
  ASSERT_EQ(gz.size(), 7u);
  EXPECT_EQ(gz.labels()[6], 6);
  EXPECT_EQ(gz.pixels()[784 * 6 + 3], 9);
}
