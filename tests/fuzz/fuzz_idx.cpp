// Fuzz target: the IDX reader (tinyml/data/idx.hpp) on raw and gzip-compressed bytes.
//
// The input is parsed as given (raw, or gzip when it starts with 1f 8b). A raw input is then also
// compressed, as one gzip member and as two concatenated members, and parsed again: all three must
// give the same result, so the gzip path is exercised with valid streams too, not only with the
// CRC failures that mutating compressed bytes mostly produces.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_common.hpp"
#include "tinyml/data/idx.hpp"

namespace {

using tinyml::data::IdxArray;

std::vector<uint8_t> gzip(std::span<const uint8_t> in) {
  z_stream zs{};
  FUZZ_CHECK(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.erase(out.end() - static_cast<std::ptrdiff_t>(zs.avail_out), out.end());  // what deflate left unused
  deflateEnd(&zs);
  return out;
}

bool same(const IdxArray& a, const IdxArray& b) { return a.dims == b.dims && a.data == b.data; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  IdxArray a;
  const bool ok = tinyml::fuzz::accepts([&] { a = tinyml::data::read_idx_bytes(bytes); });
  if (ok) {
    FUZZ_CHECK(a.dims.size() >= 1 && a.dims.size() <= 4);
    FUZZ_CHECK(a.numel() == static_cast<int64_t>(a.data.size()));
    FUZZ_CHECK(a.numel() <= tinyml::data::kIdxMaxElements);
    // Whatever was read can be written, and reads back the same.
    const std::vector<uint8_t> raw = tinyml::data::encode_idx(a);
    FUZZ_CHECK(same(tinyml::data::read_idx_bytes(raw), a));
  }
  const bool is_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (is_gzip) return 0;
  if (ok) FUZZ_CHECK(tinyml::data::encode_idx(a) == std::vector<uint8_t>(bytes.begin(), bytes.end()));

  // The same bytes through the gzip path, whole and split into two members.
  std::vector<uint8_t> one = gzip(bytes);
  const size_t half = size / 2;
  std::vector<uint8_t> two = gzip(bytes.first(half));
  const std::vector<uint8_t> rest = gzip(bytes.subspan(half));
  two.insert(two.end(), rest.begin(), rest.end());
  for (const std::vector<uint8_t>* z : {&one, &two}) {
    IdxArray b;
    const bool ok_z = tinyml::fuzz::accepts([&] { b = tinyml::data::read_idx_bytes(*z); });
    FUZZ_CHECK(ok_z == ok);
    if (ok) FUZZ_CHECK(same(a, b));
  }
  return 0;
}
