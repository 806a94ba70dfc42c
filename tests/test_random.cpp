// Random numbers: tinyml's Mersenne Twister against the standard library's, seeding and copying
// (the distributions are tested with the tensors they fill, in test_tensor.cpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "tinyml/core/random.hpp"

using namespace tinyml;

// Mt19937_64 seeds and twists its state lazily; its numbers must be std::mt19937_64's (which the
// C++ standard defines exactly) over several 312-word blocks, for seeds whose state words differ
// in every bit position that the twist and the tempering use.
TEST(Random, MersenneTwisterEqualsTheStandardLibrarys) {
  for (const uint64_t seed :
       {uint64_t{0}, uint64_t{1}, uint64_t{5489}, uint64_t{0x9E3779B97F4A7C15}, ~uint64_t{0}}) {
    Mt19937_64 ours(seed);
    std::mt19937_64 standard(seed);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(ours(), standard()) << "seed " << seed << ", output " << i;
  }
  // The standard's 10000th output of the default seed ([rand.predef]).
  Mt19937_64 by_default;
  for (int i = 0; i < 9999; ++i) by_default();
  EXPECT_EQ(by_default(), 9981545732273789042ULL);
}

TEST(Random, ReseedingMidBlockAndCopyingContinueAsTheStandardLibrary) {
  Mt19937_64 ours(3);
  std::mt19937_64 standard(3);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(ours(), standard());
  Mt19937_64 copy = ours;  // a copy taken mid-block, with part of the state not yet seeded
  ours.seed(11);
  standard.seed(11);
  for (int i = 0; i < 700; ++i) ASSERT_EQ(ours(), standard()) << "after reseeding, output " << i;
  std::mt19937_64 standard3(3);
  standard3.discard(5);
  for (int i = 0; i < 700; ++i) ASSERT_EQ(copy(), standard3()) << "the copy, output " << i;
}
