#include "tinyml/data/idx.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"

namespace tinyml::data {

namespace {

constexpr uint8_t kTypeU8 = 0x08;
constexpr size_t kMaxRank = 4;
constexpr size_t kMaxHeader = 4 + 4 * kMaxRank;
// No valid file decompresses to more than this, so a gzip bomb stops here.
constexpr size_t kMaxDecoded = static_cast<size_t>(kIdxMaxElements) + kMaxHeader;
// zlib counts in uInt; feed it in pieces that fit.
constexpr size_t kZChunk = size_t{1} << 30;

const char* type_name(uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return nullptr;
  }
}

bool is_gzip(std::span<const uint8_t> b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

std::vector<uint8_t> gunzip(std::span<const uint8_t> in, const std::string& src) {
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only; zlib then also checks the trailer's CRC-32 and length.
  TINYML_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "{}: gzip: cannot initialise zlib", src);
  InflateGuard guard{&zs};

  std::vector<uint8_t> out;
  // The trailer's ISIZE (length mod 2^32) is a good first guess for one-member files.
  if (in.size() >= 18) {
    const uint8_t* t = in.data() + in.size() - 4;
    const size_t isize = size_t{t[0]} | size_t{t[1]} << 8 | size_t{t[2]} << 16 | size_t{t[3]} << 24;
    // Deflate cannot expand more than ~1032:1, so a forged ISIZE cannot make us over-allocate.
    out.resize(std::min({isize + 1, in.size() * 1040, kMaxDecoded + 1}));
  }
  size_t consumed = 0;  // input bytes handed to zlib
  size_t filled = 0;
  for (;;) {
    if (zs.avail_in == 0 && consumed < in.size()) {
      const size_t n = std::min(in.size() - consumed, kZChunk);
      zs.next_in = const_cast<Bytef*>(in.data() + consumed);  // zlib's API is not const-correct
      zs.avail_in = static_cast<uInt>(n);
      consumed += n;
    }
    if (filled == out.size()) {
      TINYML_CHECK(out.size() <= kMaxDecoded,
                   "{}: gzip: decompresses to more than {} bytes, larger "
                   "than any valid IDX file",
                   src, kMaxDecoded);
      out.resize(std::min(std::max(out.size() * 2, size_t{1} << 16), kMaxDecoded + 1));
    }
    zs.next_out = out.data() + filled;
    zs.avail_out = static_cast<uInt>(std::min(out.size() - filled, kZChunk));
    const int rc = inflate(&zs, Z_NO_FLUSH);
    filled = static_cast<size_t>(zs.next_out - out.data());
    if (rc == Z_STREAM_END) {
      const size_t left = zs.avail_in + (in.size() - consumed);
      if (left == 0) break;
      // Concatenated gzip members form one file (as gunzip treats them); anything else is garbage.
      const uint8_t* next = in.data() + (in.size() - left);
      TINYML_CHECK(left >= 2 && next[0] == 0x1f && next[1] == 0x8b,
                   "{}: gzip: {} trailing bytes after the end of the compressed stream", src, left);
      TINYML_CHECK(inflateReset(&zs) == Z_OK, "{}: gzip: cannot reset zlib", src);
      continue;
    }
    if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && consumed == in.size() && zs.avail_out > 0)) {
      // No progress possible: either the output is full (grow it) or the input ran out early.
      TINYML_CHECK(zs.avail_out == 0,
                   "{}: gzip: the compressed stream is truncated ({} bytes "
                   "read, stream not finished)",
                   src, in.size());
      continue;
    }
    TINYML_CHECK(rc == Z_OK, "{}: gzip: corrupt compressed data ({})", src,
                 zs.msg != nullptr ? zs.msg : fmt::format("zlib error {}", rc));
  }
  TINYML_CHECK(filled <= kMaxDecoded,
               "{}: gzip: decompresses to more than {} bytes, larger than "
               "any valid IDX file",
               src, kMaxDecoded);
  out.resize(filled);
  return out;
}

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

struct Header {
  std::vector<int64_t> dims;
  size_t bytes = 0;   // 4 + 4 × rank
  int64_t count = 1;  // elements: the product of dims
};

// Validates the header at the start of `b` (which must hold all of it).
Header parse_header(std::span<const uint8_t> b, const std::string& src) {
  TINYML_CHECK(b.size() >= 4, "{}: {} bytes is too short for an IDX header (at least 4 bytes)", src,
               b.size());
  TINYML_CHECK(b[0] == 0 && b[1] == 0,
               "{}: bad magic: the first two bytes must be 0x00 0x00, got 0x{:02x} 0x{:02x}", src, b[0],
               b[1]);
  const uint8_t type = b[2];
  if (type != kTypeU8) {
    const char* name = type_name(type);
    if (name != nullptr) {
      throw Error(
          fmt::format("{}: unsupported element type 0x{:02x} ({}); only 0x08 (unsigned "
                      "byte) is supported",
                      src, type, name));
    }
    throw Error(fmt::format("{}: unknown element type 0x{:02x}; expected 0x08 (unsigned byte)", src, type));
  }
  const size_t rank = b[3];
  TINYML_CHECK(rank >= 1 && rank <= kMaxRank, "{}: rank {} out of range: expected 1 to {} dims", src, rank,
               kMaxRank);
  Header h;
  h.bytes = 4 + 4 * rank;
  TINYML_CHECK(b.size() >= h.bytes, "{}: truncated header: rank {} needs {} header bytes, got {}", src, rank,
               h.bytes, b.size());
  for (size_t d = 0; d < rank; ++d) {
    const int64_t n = be32(b.data() + 4 + 4 * d);
    h.dims.push_back(n);
    TINYML_CHECK(n > 0, "{}: dim {} is 0; every dim must be positive", src, d);
    // Division keeps the running product below the limit, so it can never overflow.
    TINYML_CHECK(n <= kIdxMaxElements / h.count,
                 "{}: dims {} (so far) hold more than {} elements, the "
                 "limit for an IDX array",
                 src, fmt::format("{}", h.dims), kIdxMaxElements);
    h.count *= n;
  }
  return h;
}

// `owned`, when given, holds the same bytes as `b`; its buffer becomes the array's data instead of
// a copy (the decompressed training images are 47 MB).
IdxArray parse_raw(std::span<const uint8_t> b, const std::string& src, std::vector<uint8_t>* owned) {
  const Header h = parse_header(b, src);
  const size_t header = h.bytes;
  IdxArray a;
  a.dims = h.dims;
  const int64_t count = h.count;
  const size_t expected = static_cast<size_t>(count);
  const size_t actual = b.size() - header;
  TINYML_CHECK(actual >= expected, "{}: truncated payload: dims {} need {} bytes, got {}", src,
               fmt::format("{}", a.dims), expected, actual);
  TINYML_CHECK(actual == expected, "{}: {} trailing bytes after the {}-byte payload of dims {}", src,
               actual - expected, expected, fmt::format("{}", a.dims));
  if (owned != nullptr) {
    owned->erase(owned->begin(), owned->begin() + static_cast<std::ptrdiff_t>(header));
    a.data = std::move(*owned);
  } else {
    a.data.assign(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());
  }
  return a;
}

IdxArray parse(std::span<const uint8_t> b, const std::string& src) {
  if (is_gzip(b)) {
    std::vector<uint8_t> raw = gunzip(b, src);
    return parse_raw(raw, src, &raw);
  }
  return parse_raw(b, src, nullptr);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A compressed file is never much larger than its content: stop before memory runs out.
std::vector<uint8_t> read_file(const std::string& path, const std::string& src) {
  return read_file_bytes(path, src, 2 * kMaxDecoded);
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

// Reads the header and then the first `items` entries along dim 0 of a raw or gzip file, through
// zlib's gz* reader (which passes a raw file through): only those bytes are read or decompressed.
// `file_dims`, when given, receives the dims the header states.
IdxArray read_head(const std::string& path, int64_t items, std::vector<int64_t>* file_dims = nullptr) {
  const std::string src = fmt::format("read_idx('{}')", path);
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  TINYML_CHECK(f != nullptr, "{}: cannot open the file: {}", src, std::strerror(errno));
  const auto read = [&](std::vector<uint8_t>& buf, size_t from, size_t n) {
    buf.resize(from + n);
    size_t done = 0;
    while (done < n) {
      const unsigned piece = static_cast<unsigned>(std::min(n - done, kZChunk));
      const int got = gzread(f.get(), buf.data() + from + done, piece);
      int err = Z_OK;
      const char* msg = gzerror(f.get(), &err);
      TINYML_CHECK(got >= 0 && (err == Z_OK || err == Z_BUF_ERROR), "{}: gzip: {}", src, msg);
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    buf.resize(from + done);
  };
  std::vector<uint8_t> head;
  read(head, 0, 4);
  if (head.size() == 4) read(head, 4, 4 * size_t{head[3]});
  const Header h = parse_header(head, src);
  if (file_dims != nullptr) *file_dims = h.dims;
  IdxArray a;
  a.dims = h.dims;
  a.dims[0] = std::min(a.dims[0], items);
  const size_t want = static_cast<size_t>(h.count / h.dims[0] * a.dims[0]);
  read(a.data, 0, want);
  TINYML_CHECK(a.data.size() == want, "{}: truncated payload: the first {} of dims {} need {} bytes, got {}",
               src, a.dims[0], fmt::format("{}", h.dims), want, a.data.size());
  return a;
}

void check_array(const IdxArray& a, const char* fn) {
  TINYML_CHECK(a.dims.size() >= 1 && a.dims.size() <= kMaxRank,
               "{}: rank {} out of range: expected 1 to {} dims", fn, a.dims.size(), kMaxRank);
  int64_t count = 1;
  for (size_t d = 0; d < a.dims.size(); ++d) {
    const int64_t n = a.dims[d];
    TINYML_CHECK(n > 0 && n <= kIdxMaxElements / count,
                 "{}: dims {} invalid: every dim must be positive and the product at most {}", fn, a.dims,
                 kIdxMaxElements);
    count *= n;
  }
  TINYML_CHECK(static_cast<size_t>(count) == a.data.size(),
               "{}: dims {} hold {} elements but data has {} bytes", fn, a.dims, count, a.data.size());
}

std::vector<uint8_t> gzip(std::span<const uint8_t> in) {
  z_stream zs{};
  // 16 + MAX_WBITS: write a gzip wrapper (header, CRC-32, length), as the distributed files have.
  TINYML_CHECK(
      deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
      "write_idx: gzip: cannot initialise zlib");
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())));
  // A valid array is at most 2^31 + 20 bytes, so it fits zlib's 32-bit counters in one call.
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(static_cast<size_t>(zs.next_out - out.data()));
  deflateEnd(&zs);
  TINYML_CHECK(rc == Z_STREAM_END, "write_idx: gzip: compression failed (zlib error {})", rc);
  return out;
}

}  // namespace

int64_t IdxArray::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

IdxArray read_idx(const std::string& path) {
  const std::string src = fmt::format("read_idx('{}')", path);
  const std::vector<uint8_t> bytes = read_file(path, src);
  return parse(bytes, src);
}

std::vector<int64_t> read_idx_dims(const std::string& path) {
  std::vector<int64_t> dims;
  (void)read_head(path, /*items=*/0, &dims);
  return dims;
}

IdxArray read_idx_head(const std::string& path, int64_t max_items) {
  TINYML_CHECK(max_items > 0, "read_idx_head('{}'): max_items must be positive, got {}", path, max_items);
  return read_head(path, max_items);
}

IdxArray read_idx_bytes(std::span<const uint8_t> bytes) { return parse(bytes, "read_idx_bytes"); }

std::vector<uint8_t> encode_idx(const IdxArray& array, bool compress) {
  check_array(array, "encode_idx");
  std::vector<uint8_t> bytes = {0, 0, kTypeU8, static_cast<uint8_t>(array.dims.size())};
  for (int64_t d : array.dims) {
    const auto u = static_cast<uint32_t>(d);
    bytes.insert(bytes.end(), {static_cast<uint8_t>(u >> 24), static_cast<uint8_t>(u >> 16),
                               static_cast<uint8_t>(u >> 8), static_cast<uint8_t>(u)});
  }
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  return compress ? gzip(bytes) : bytes;
}

void write_idx(const std::string& path, const IdxArray& array, bool compress) {
  check_array(array, "write_idx");
  const std::vector<uint8_t> bytes = encode_idx(array, compress);
  FilePtr f(std::fopen(path.c_str(), "wb"));
  TINYML_CHECK(f != nullptr, "write_idx: cannot create '{}': {}", path, std::strerror(errno));
  const size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f.get());
  TINYML_CHECK(n == bytes.size(), "write_idx: writing '{}' failed after {} of {} bytes: {}", path, n,
               bytes.size(), std::strerror(errno));
  TINYML_CHECK(std::fclose(f.release()) == 0, "write_idx: closing '{}' failed: {}", path,
               std::strerror(errno));
}

}  // namespace tinyml::data
