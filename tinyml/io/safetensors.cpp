#include "tinyml/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/io/json_limits.hpp"

namespace tinyml::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian bytes; big-endian hosts would need byte swapping");

namespace {

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

struct DtypeInfo {
  std::string_view name;
  size_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"U16", 2}, {"I16", 2}, {"F16", 2},
    {"BF16", 2}, {"U32", 4}, {"I32", 4}, {"F32", 4},     {"U64", 8},     {"I64", 8}, {"F64", 8},
};

const DtypeInfo* lookup_dtype(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string known_dtypes() {
  std::string s;
  for (const auto& d : kDtypes) {
    if (!s.empty()) s += ", ";
    s += d.name;
  }
  return s;
}

// numel × element size, or false if it does not fit in 64 bits.
bool checked_nbytes(const std::vector<int64_t>& shape, size_t elem, uint64_t& out) {
  uint64_t n = elem;
  for (int64_t d : shape) {
    const auto u = static_cast<uint64_t>(d);
    if (u != 0 && n > UINT64_MAX / u) return false;
    n *= u;
  }
  out = n;
  return true;
}

// ------------------------------------------------------------------ writing

struct Prepared {
  std::vector<uint8_t> head;  // 8-byte length + padded JSON
  std::vector<size_t> order;  // record indices in data order
  uint64_t data_bytes = 0;
};

Prepared prepare(const std::vector<TensorRecord>& tensors, const std::map<std::string, std::string>& metadata,
                 const char* fn) {
  std::set<std::string_view> names;
  for (const auto& t : tensors) {
    TINYML_CHECK(!t.name.empty(), "{}: a tensor has an empty name", fn);
    TINYML_CHECK(t.name != kMetadataKey, "{}: '{}' is reserved for metadata and cannot name a tensor", fn,
                 kMetadataKey);
    TINYML_CHECK(names.insert(t.name).second, "{}: duplicate tensor name '{}'", fn, t.name);
    const DtypeInfo* dt = lookup_dtype(t.dtype);
    TINYML_CHECK(dt != nullptr, "{}: tensor '{}' has unknown dtype '{}'; expected one of {}", fn, t.name,
                 t.dtype, known_dtypes());
    for (size_t i = 0; i < t.shape.size(); ++i) {
      TINYML_CHECK(t.shape[i] >= 0, "{}: tensor '{}' has shape {} with negative dim {}", fn, t.name, t.shape,
                   i);
    }
    uint64_t nbytes = 0;
    TINYML_CHECK(checked_nbytes(t.shape, dt->size, nbytes),
                 "{}: tensor '{}' of shape {} is too large to address", fn, t.name, t.shape);
    TINYML_CHECK(nbytes == t.bytes.size(), "{}: tensor '{}' of dtype {} and shape {} needs {} bytes, got {}",
                 fn, t.name, t.dtype, t.shape, nbytes, t.bytes.size());
  }

  Prepared p;
  p.order.resize(tensors.size());
  std::iota(p.order.begin(), p.order.end(), size_t{0});
  // Widest elements first: with the 8-aligned data start, every tensor is then aligned to its
  // element size, which memory-mapping readers rely on.
  std::stable_sort(p.order.begin(), p.order.end(), [&](size_t a, size_t b) {
    return lookup_dtype(tensors[a].dtype)->size > lookup_dtype(tensors[b].dtype)->size;
  });

  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header[kMetadataKey] = std::move(meta);
  }
  uint64_t offset = 0;
  for (size_t i : p.order) {
    const auto& t = tensors[i];
    const uint64_t end = offset + t.bytes.size();
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  p.data_bytes = offset;

  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: cannot encode the header (names and metadata must be valid UTF-8): {}", fn,
                            e.what()));
  }
  // Padding with spaces keeps the data section 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  p.head.resize(8 + text.size());
  std::memcpy(p.head.data(), &n, 8);  // little-endian host (static_assert above)
  std::memcpy(p.head.data() + 8, text.data(), text.size());
  return p;
}

void write_all(AtomicFile& out, const uint8_t* data, size_t n, const WriteOptions& options) {
  // Pieces of at most 1 MiB so progress (and an abort from it) can happen part-way through a tensor.
  constexpr size_t kPiece = size_t{1} << 20;
  while (n > 0) {
    const size_t piece = std::min(n, kPiece);
    out.write(data, piece);
    data += piece;
    n -= piece;
    if (options.on_progress) options.on_progress(out.written());
  }
}

// ------------------------------------------------------------------ reading

struct Entry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Deeper than any valid header (3 levels: the header, a tensor's entry, its shape). nlohmann parses
// without recursion but dump(), used in error messages, recurses once per level: a header of a
// few hundred thousand nested brackets overflowed the stack.
constexpr int kMaxJsonDepth = 64;

json parse_header(std::string_view text, const std::string& src) {
  // nlohmann keeps the last of duplicate keys silently, so duplicates (two tensors of one name),
  // the depth and the entry count are checked by a linear scan first.
  check_json_limits(text, src + ": the header",
                    {.max_depth = kMaxJsonDepth,
                     .max_entries = kMaxTensors,
                     .entries = "entries (tensors and __metadata__)"});
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: the header is not valid JSON: {}", src, e.what()));
  }
}

Entry parse_entry(const std::string& name, const json& v, const std::string& src) {
  TINYML_CHECK(v.is_object(), "{}: the header entry of tensor '{}' is not an object: {}", src, name,
               v.dump());
  Entry e;
  e.name = name;
  const auto dtype = v.find("dtype");
  TINYML_CHECK(dtype != v.end() && dtype->is_string(), "{}: tensor '{}' has no string \"dtype\"", src, name);
  e.dtype = dtype->get<std::string>();
  const DtypeInfo* dt = lookup_dtype(e.dtype);
  TINYML_CHECK(dt != nullptr, "{}: tensor '{}' has unknown dtype '{}'; expected one of {}", src, name,
               e.dtype, known_dtypes());

  const auto shape = v.find("shape");
  TINYML_CHECK(shape != v.end() && shape->is_array(), "{}: tensor '{}' has no \"shape\" array", src, name);
  for (size_t i = 0; i < shape->size(); ++i) {
    const json& d = (*shape)[i];
    TINYML_CHECK(d.is_number_integer(), "{}: tensor '{}': dim {} of the shape is {}, not an integer", src,
                 name, i, d.dump());
    if (d.is_number_unsigned()) {
      const auto u = d.get<uint64_t>();
      TINYML_CHECK(u <= static_cast<uint64_t>(INT64_MAX), "{}: tensor '{}': dim {} is {}, too large", src,
                   name, i, u);
      e.shape.push_back(static_cast<int64_t>(u));
    } else {
      const auto s = d.get<int64_t>();
      TINYML_CHECK(s >= 0, "{}: tensor '{}': dim {} is {}; dims must be non-negative", src, name, i, s);
      e.shape.push_back(s);
    }
  }

  const auto offs = v.find("data_offsets");
  TINYML_CHECK(offs != v.end() && offs->is_array() && offs->size() == 2 && (*offs)[0].is_number_unsigned() &&
                   (*offs)[1].is_number_unsigned(),
               "{}: tensor '{}': \"data_offsets\" must be [begin, end] of non-negative integers, got {}", src,
               name, offs != v.end() ? offs->dump() : std::string("nothing"));
  e.begin = (*offs)[0].get<uint64_t>();
  e.end = (*offs)[1].get<uint64_t>();
  TINYML_CHECK(e.begin <= e.end, "{}: tensor '{}': data_offsets [{}, {}] end before they begin", src, name,
               e.begin, e.end);
  uint64_t nbytes = 0;
  TINYML_CHECK(checked_nbytes(e.shape, dt->size, nbytes), "{}: tensor '{}': shape {} of {} overflows 64 bits",
               src, name, e.shape, e.dtype);
  TINYML_CHECK(nbytes == e.end - e.begin,
               "{}: tensor '{}': dtype {} and shape {} need {} bytes, but data_offsets [{}, {}] span {}", src,
               name, e.dtype, e.shape, nbytes, e.begin, e.end, e.end - e.begin);
  return e;
}

SafetensorsFile parse(std::span<const uint8_t> b, const std::string& src) {
  TINYML_CHECK(b.size() >= 8, "{}: {} bytes is too short: the file starts with an 8-byte header length", src,
               b.size());
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  TINYML_CHECK(n <= kMaxHeaderBytes, "{}: header length {} exceeds the limit of {} bytes", src, n,
               kMaxHeaderBytes);
  TINYML_CHECK(n <= b.size() - 8,
               "{}: header length {} is larger than the {} bytes that follow it (file of {} bytes, "
               "truncated?)",
               src, n, b.size() - 8, b.size());
  const std::string_view text(reinterpret_cast<const char*>(b.data() + 8), static_cast<size_t>(n));
  const json header = parse_header(text, src);
  TINYML_CHECK(header.is_object(), "{}: the header must be a JSON object, got {}", src, header.type_name());

  const std::span<const uint8_t> data = b.subspan(8 + static_cast<size_t>(n));
  SafetensorsFile f;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      TINYML_CHECK(value.is_object(), "{}: \"{}\" must be an object of strings, got {}", src, kMetadataKey,
                   value.type_name());
      for (const auto& [mk, mv] : value.items()) {
        TINYML_CHECK(mv.is_string(), "{}: metadata '{}' must be a string, got {}", src, mk, mv.dump());
        f.metadata.emplace(mk, mv.get<std::string>());
      }
      continue;
    }
    entries.push_back(parse_entry(key, value, src));
    const Entry& e = entries.back();
    TINYML_CHECK(e.end <= data.size(),
                 "{}: tensor '{}': data_offsets [{}, {}] run past the {}-byte data section", src, e.name,
                 e.begin, e.end, data.size());
  }

  // Sorted by position, the tensors must tile the data section exactly: no overlap, no gap.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    TINYML_CHECK(e.begin >= expected, "{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", src,
                 entries[i - 1].name, entries[i - 1].begin, entries[i - 1].end, e.name, e.begin, e.end);
    TINYML_CHECK(e.begin == expected,
                 "{}: gap in the data section: bytes [{}, {}) before tensor '{}' belong to no tensor", src,
                 expected, e.begin, e.name);
    expected = e.end;
  }
  TINYML_CHECK(expected == data.size(),
               "{}: the data section has {} bytes but the tensors cover only {} ({} trailing bytes)", src,
               data.size(), expected, data.size() - expected);

  f.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    TensorRecord r;
    r.name = std::move(e.name);
    r.dtype = std::move(e.dtype);
    r.shape = std::move(e.shape);
    r.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(e.begin),
                   data.begin() + static_cast<std::ptrdiff_t>(e.end));
    f.tensors.push_back(std::move(r));
  }
  return f;
}

}  // namespace

size_t dtype_size(std::string_view dtype) {
  const DtypeInfo* d = lookup_dtype(dtype);
  TINYML_CHECK(d != nullptr, "dtype_size: unknown dtype '{}'; expected one of {}", dtype, known_dtypes());
  return d->size;
}

bool is_known_dtype(std::string_view dtype) { return lookup_dtype(dtype) != nullptr; }

const TensorRecord* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const TensorRecord& SafetensorsFile::at(std::string_view name) const {
  const TensorRecord* t = find(name);
  if (t == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& r : tensors) names.push_back(r.name);
    throw Error(fmt::format("SafetensorsFile::at: no tensor named '{}'; the file holds [{}]", name,
                            fmt::join(names, ", ")));
  }
  return *t;
}

std::vector<uint8_t> serialize_safetensors(const std::vector<TensorRecord>& tensors,
                                           const std::map<std::string, std::string>& metadata) {
  Prepared p = prepare(tensors, metadata, "serialize_safetensors");
  std::vector<uint8_t> out = std::move(p.head);
  out.reserve(out.size() + p.data_bytes);
  for (size_t i : p.order) out.insert(out.end(), tensors[i].bytes.begin(), tensors[i].bytes.end());
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorRecord>& tensors,
                       const std::map<std::string, std::string>& metadata, const WriteOptions& options) {
  const Prepared p = prepare(tensors, metadata, "write_safetensors");
  AtomicFile out(path, "write_safetensors");
  write_all(out, p.head.data(), p.head.size(), options);
  for (size_t i : p.order) write_all(out, tensors[i].bytes.data(), tensors[i].bytes.size(), options);
  out.commit();
}

SafetensorsFile read_safetensors(const std::string& path) {
  const std::string src = fmt::format("read_safetensors('{}')", path);
  const std::vector<uint8_t> bytes = read_file_bytes(path, src);
  return parse(bytes, src);
}

SafetensorsFile read_safetensors_bytes(std::span<const uint8_t> bytes) {
  return parse(bytes, "read_safetensors_bytes");
}

}  // namespace tinyml::io
