// Fuzz target: the .safetensors reader (tinyml/io/safetensors.hpp) and the float state-dict loader
// built on it (tinyml/io/model_io.hpp), on bytes in memory.
//
// Beyond "no crash": an accepted file is re-encoded with serialize_safetensors and must read back
// to the same tensors and metadata, and the state-dict loader must accept exactly the accepted
// files whose tensors are all F32 (and whose tinyml format version, if any, is 1), with the same
// shapes and bytes.
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/io/safetensors.hpp"

namespace {

using tinyml::io::SafetensorsFile;
using tinyml::io::TensorRecord;

bool same_record(const TensorRecord& a, const TensorRecord& b) {
  return a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  SafetensorsFile f;
  if (!tinyml::fuzz::accepts([&] { f = tinyml::io::read_safetensors_bytes(bytes); })) {
    // The state-dict loader reads through the same parser: it must refuse the file too.
    FUZZ_CHECK(!tinyml::fuzz::accepts([&] { tinyml::io::load_state_dict_bytes(bytes); }));
    return 0;
  }

  bool all_f32 = true;
  bool writable = true;
  // By name, so the checks stay linear on the many-entries seed (SafetensorsFile::find is a scan).
  std::map<std::string, const TensorRecord*> by_name;
  for (const TensorRecord& r : f.tensors) {
    uint64_t numel = 1;
    for (const int64_t d : r.shape) {
      FUZZ_CHECK(d >= 0);
      numel *= static_cast<uint64_t>(d);
    }
    FUZZ_CHECK(numel * tinyml::io::dtype_size(r.dtype) == r.bytes.size());
    FUZZ_CHECK(by_name.emplace(r.name, &r).second);  // names are unique
    all_f32 = all_f32 && r.dtype == "F32";
    // The writer refuses empty names, which the format itself allows.
    writable = writable && !r.name.empty();
  }

  if (writable) {
    const std::vector<uint8_t> again = tinyml::io::serialize_safetensors(f.tensors, f.metadata);
    const SafetensorsFile g = tinyml::io::read_safetensors_bytes(again);
    FUZZ_CHECK(g.metadata == f.metadata);
    FUZZ_CHECK(g.tensors.size() == f.tensors.size());
    for (const TensorRecord& s : g.tensors) {
      const auto it = by_name.find(s.name);
      FUZZ_CHECK(it != by_name.end() && same_record(*it->second, s));
    }
  }

  const auto format = f.metadata.find("format");
  const auto version = f.metadata.find("format_version");
  const bool version_ok = format == f.metadata.end() || format->second != "tinyml" ||
                          (version != f.metadata.end() && version->second == "1");
  tinyml::nn::StateDict state;
  const bool loaded = tinyml::fuzz::accepts([&] { state = tinyml::io::load_state_dict_bytes(bytes); });
  FUZZ_CHECK(loaded == (all_f32 && version_ok));
  if (loaded) {
    FUZZ_CHECK(state.size() == f.tensors.size());
    for (const TensorRecord& r : f.tensors) {
      const auto it = state.find(r.name);
      FUZZ_CHECK(it != state.end() && it->second.shape() == r.shape);
      const std::vector<float> values = it->second.to_vector();
      FUZZ_CHECK(values.size() * sizeof(float) == r.bytes.size());
      FUZZ_CHECK(values.empty() || std::memcmp(values.data(), r.bytes.data(), r.bytes.size()) == 0);
    }
  }
  return 0;
}
