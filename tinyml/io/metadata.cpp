#include "tinyml/io/metadata.hpp"

#include <utility>

#include "tinyml/core/error.hpp"

namespace tinyml::io {

bool is_reserved_metadata_key(const std::string& key) {
  return key == "format" || key == "format_version" || key == kModulesKey;
}

std::map<std::string, std::string> stamped_metadata(const std::map<std::string, std::string>& metadata,
                                                    const char* fn) {
  std::map<std::string, std::string> meta = metadata;
  TINYML_CHECK(meta.count(kModulesKey) == 0, "{}: metadata key '{}' is reserved for the module tree", fn,
               kModulesKey);
  for (const auto& [key, value] :
       {std::pair{"format", kFormat}, std::pair{"format_version", kFormatVersion}}) {
    const auto it = meta.find(key);
    TINYML_CHECK(it == meta.end() || it->second == value,
                 "{}: metadata key '{}' is reserved (it must be '{}'), got '{}'", fn, key, value,
                 it == meta.end() ? "" : it->second);
    meta[key] = value;
  }
  return meta;
}

std::map<std::string, std::string> user_metadata(const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : metadata)
    if (!is_reserved_metadata_key(k)) out[k] = v;
  return out;
}

}  // namespace tinyml::io
