// Tests of `tinyml precision`'s own experiment (lab/argmax_flips.*): the argmax flips of a wide classifier.
#include <gtest/gtest.h>

#include "lab/argmax_flips.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"

using namespace tinyml;
using tinyml::cli::precision::argmax_flip_experiment;
using tinyml::cli::precision::FlipResult;

// With 4096 classes the two largest logits of the random MLP are close, so weight noise moves
// the winner; int4 weights (~25 dB less weight SNR than int8, 20·log10(127/7)) flip more.
TEST(ArgmaxFlip, Int4FlipsMoreThanInt8) {
  Generator gen(12);
  const FlipResult r = argmax_flip_experiment(gen, 200);
  EXPECT_EQ(r.samples, 200);
  EXPECT_EQ(r.classes, 4096);
  EXPECT_GT(r.flips_int4, r.flips_int8);
  EXPECT_LE(r.flips_int4, r.samples);
  EXPECT_GT(r.mean_top2_gap, 0.0);
  EXPECT_GT(r.logit_snr_int8_db, r.logit_snr_int4_db + 15.0);
  EXPECT_THROW(argmax_flip_experiment(gen, 0), Error);
}
