// The code of modules/06_training/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include <memory>

#include "tinyml/core/tensor.hpp"
#include "tinyml/data/data.hpp"

using namespace tinyml;

TEST(Snippets06, Loader) {
  auto dataset = std::make_shared<data::TensorDataset>(data::xor_dataset());
  data::DataLoader loader(dataset, {.batch_size = 3, .shuffle = true, .seed = 42});
  size_t batches = loader.size();  // 2: three examples, then one
  size_t seen = 0;
  for (const data::Batch& batch : loader) {
    seen += batch.data.size(0);  // (3, 2) then (1, 2): every example once per pass
  }

  EXPECT_EQ(batches, 2u);
  EXPECT_EQ(seen, 4u);
}
