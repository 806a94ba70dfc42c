// Tests for the IDX reader/writer: round trips (raw and gzip), the byte layout, and every rejection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/idx.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using tinyml::Error;
using tinyml::data::encode_idx;
using tinyml::data::IdxArray;
using tinyml::data::read_idx;
using tinyml::data::read_idx_bytes;
using tinyml::data::write_idx;

namespace {

using Bytes = std::vector<uint8_t>;

class IdxTest : public tinyml_test::TempDirTest {};
using tinyml_test::read_bytes;

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

IdxArray random_array(std::vector<int64_t> dims, uint64_t seed) {
  tinyml::Generator gen(seed);
  IdxArray a{std::move(dims), {}};
  a.data.resize(static_cast<size_t>(a.numel()));
  for (auto& v : a.data) v = static_cast<uint8_t>(gen.randint(256));
  return a;
}

// Expects parsing `b` to throw tinyml::Error whose message contains `part`.
void expect_rejected(const Bytes& b, const std::string& part) {
  try {
    read_idx_bytes(b);
    ADD_FAILURE() << "expected an error containing \"" << part << "\"";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

}  // namespace

TEST_F(IdxTest, RoundTripRaw) {
  const IdxArray a = random_array({3, 4, 5}, 1);
  write_idx(path("a.idx"), a, false);
  const IdxArray b = read_idx(path("a.idx"));
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
  // Header: 0 0, type 0x08, rank 3, then each dim as a big-endian uint32.
  const Bytes raw = read_bytes(path("a.idx"));
  ASSERT_EQ(raw.size(), 4u + 12u + 60u);
  EXPECT_EQ(Bytes(raw.begin(), raw.begin() + 16), (Bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5}));
}

TEST_F(IdxTest, RoundTripGzip) {
  for (const auto& dims : std::vector<std::vector<int64_t>>{{7}, {10, 28, 28}, {2, 3, 4, 5}}) {
    const IdxArray a = random_array(dims, 2);
    write_idx(path("a.idx.gz"), a, true);
    const Bytes raw = read_bytes(path("a.idx.gz"));
    ASSERT_GE(raw.size(), 2u);
    EXPECT_EQ(raw[0], 0x1f);  // gzip magic: the reader detects by content, not by name
    EXPECT_EQ(raw[1], 0x8b);
    const IdxArray b = read_idx(path("a.idx.gz"));
    EXPECT_EQ(b.dims, a.dims);
    EXPECT_EQ(b.data, a.data);
  }
}

TEST_F(IdxTest, GzipDetectedByContentNotName) {
  const IdxArray a = random_array({4, 4}, 3);
  write_idx(path("plain-name"), a, true);
  EXPECT_EQ(read_idx(path("plain-name")).data, a.data);
}

TEST(Idx, ParsesHandBuiltBytes) {
  // Rank 2, dims (2, 3) written out by hand, payload 1..6.
  const Bytes b = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
  const IdxArray a = read_idx_bytes(b);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (Bytes{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(encode_idx(a), b);
}

TEST(Idx, BigDimsAreBigEndian) {
  // 0x00000102 = 258 elements: a little-endian reader would see 0x02010000.
  Bytes b = {0, 0, 0x08, 1, 0, 0, 1, 2};
  b.resize(b.size() + 258, 9);
  EXPECT_EQ(read_idx_bytes(b).dims, (std::vector<int64_t>{258}));
}

TEST(Idx, RejectsWrongMagic) {
  expect_rejected({1, 0, 0x08, 1, 0, 0, 0, 1, 7}, "bad magic");
  expect_rejected({0, 2, 0x08, 1, 0, 0, 0, 1, 7}, "got 0x00 0x02");
}

TEST(Idx, RejectsOtherTypes) {
  expect_rejected({0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "unsupported element type 0x0d (float32)");
  expect_rejected({0, 0, 0x09, 1, 0, 0, 0, 1, 7}, "only 0x08 (unsigned byte) is supported");
  expect_rejected({0, 0, 0x42, 1, 0, 0, 0, 1, 7}, "unknown element type 0x42");
}

TEST(Idx, RejectsRankOutOfRange) {
  expect_rejected({0, 0, 0x08, 0}, "rank 0 out of range");
  Bytes five = {0, 0, 0x08, 5};
  for (int d = 0; d < 5; ++d) five.insert(five.end(), {0, 0, 0, 1});
  five.push_back(7);
  expect_rejected(five, "rank 5 out of range");
}

TEST(Idx, RejectsZeroDim) { expect_rejected({0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 0}, "dim 1 is 0"); }

TEST(Idx, RejectsOversizedElementCount) {
  // 65536 × 65536 = 2^32 elements, over the 2^31 limit; the check must fire before any allocation.
  expect_rejected({0, 0, 0x08, 2, 0, 1, 0, 0, 0, 1, 0, 0}, "more than 2147483648 elements");
  // Four dims of 2^32 - 1: the product (~2^128) would overflow 64 bits if computed naively.
  Bytes huge = {0, 0, 0x08, 4};
  for (int d = 0; d < 4; ++d) huge.insert(huge.end(), {0xff, 0xff, 0xff, 0xff});
  expect_rejected(huge, "more than 2147483648 elements");
}

TEST(Idx, RejectsTruncatedHeaderAndPayload) {
  expect_rejected({0, 0, 0x08}, "too short");
  expect_rejected({0, 0, 0x08, 2, 0, 0, 0, 2}, "truncated header: rank 2 needs 12 header bytes, got 8");
  expect_rejected({0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5},
                  "truncated payload: dims [2, 3] need 6 bytes, got 5");
}

TEST(Idx, RejectsTrailingBytes) {
  expect_rejected({0, 0, 0x08, 1, 0, 0, 0, 2, 1, 2, 3}, "1 trailing bytes after the 2-byte payload");
}

TEST(Idx, EveryTruncationIsAnError) {
  // Each proper prefix of a valid file, raw or gzipped, must be rejected with tinyml::Error (and
  // must not read past the end, which the sanitizer build would catch).
  const IdxArray a = random_array({3, 5}, 4);
  for (bool gz : {false, true}) {
    const Bytes full = encode_idx(a, gz);
    for (size_t n = 0; n < full.size(); ++n) {
      const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_THROW(read_idx_bytes(prefix), Error) << "gzip=" << gz << " prefix " << n;
    }
    EXPECT_EQ(read_idx_bytes(full).data, a.data);
  }
}

TEST(Idx, RandomCorruptionNeverEscapesAsAnotherException) {
  // Seeded byte flips: the parser either accepts (a flipped payload byte is still a valid file) or
  // throws tinyml::Error; anything else (a crash, std::bad_alloc, zlib's own failure) fails.
  const IdxArray a = random_array({4, 6}, 5);
  tinyml::Generator gen(6);
  for (bool gz : {false, true}) {
    const Bytes full = encode_idx(a, gz);
    for (int trial = 0; trial < 300; ++trial) {
      Bytes b = full;
      const size_t flips = 1 + gen.randint(3);
      for (size_t f = 0; f < flips; ++f) {
        b[gen.randint(b.size())] = static_cast<uint8_t>(gen.randint(256));
      }
      try {
        read_idx_bytes(b);
      } catch (const Error&) {
      }
    }
  }
}

TEST_F(IdxTest, RejectsCorruptGzip) {
  const IdxArray a = random_array({16, 16}, 7);
  Bytes gz = encode_idx(a, true);
  // Bytes in the middle of the deflate stream: a broken block or, failing that, the CRC-32 check.
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 4; ++i) gz[i] ^= 0x5a;
  write_bytes(path("bad.gz"), gz);
  try {
    read_idx(path("bad.gz"));
    ADD_FAILURE() << "corrupt gzip accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("gzip"));
    EXPECT_THAT(e.what(), HasSubstr("bad.gz"));  // the message names the file
  }
}

TEST(Idx, RejectsCorruptGzipTrailer) {
  // Flipping a CRC-32 byte leaves the deflate data intact: only the trailer check can notice.
  const IdxArray a = random_array({8, 8}, 8);
  Bytes gz = encode_idx(a, true);
  gz[gz.size() - 6] ^= 0x01;
  expect_rejected(gz, "gzip: corrupt compressed data");
}

TEST(Idx, RejectsTruncatedGzipAndTrailingGarbage) {
  const IdxArray a = random_array({8, 8}, 9);
  const Bytes gz = encode_idx(a, true);
  expect_rejected(Bytes(gz.begin(), gz.end() - 10), "truncated");
  Bytes trailing = gz;
  trailing.insert(trailing.end(), {'x', 'y', 'z'});
  expect_rejected(trailing, "3 trailing bytes after the end of the compressed stream");
}

TEST_F(IdxTest, MissingFileIsAnError) {
  try {
    read_idx(path("nope.idx"));
    ADD_FAILURE() << "missing file accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("nope.idx"));
    EXPECT_THAT(e.what(), HasSubstr("cannot open"));
  }
}

TEST(Idx, WriterValidatesItsInput) {
  EXPECT_THROW(encode_idx(IdxArray{{}, {1}}), Error);     // rank 0
  EXPECT_THROW(encode_idx(IdxArray{{2, 0}, {}}), Error);  // zero dim
  try {
    encode_idx(IdxArray{{2, 3}, {1, 2, 3, 4, 5}});
    ADD_FAILURE() << "inconsistent array accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("hold 6 elements but data has 5 bytes"));
  }
}
