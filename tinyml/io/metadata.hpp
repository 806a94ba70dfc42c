// tinyml's own metadata keys in a .safetensors file: the format stamp and a model file's module tree.
#pragma once

#include <map>
#include <string>

namespace tinyml::io {

// Every file tinyml saves says "format": kFormat and "format_version": kFormatVersion.
inline constexpr const char* kFormat = "tinyml";
inline constexpr const char* kFormatVersion = "1";
// The metadata key holding a model file's module tree (a JSON array, see save_model).
inline constexpr const char* kModulesKey = "tinyml.modules";

// True for the keys tinyml writes itself: "format", "format_version" and kModulesKey.
bool is_reserved_metadata_key(const std::string& key);

// `metadata` with "format" and "format_version" set to tinyml's values: what save_state_dict and
// save_model write. Throws an Error naming `fn` when `metadata` holds either with another value,
// or holds kModulesKey, which only save_model writes (from the model itself).
std::map<std::string, std::string> stamped_metadata(const std::map<std::string, std::string>& metadata,
                                                    const char* fn);

// `metadata` without the reserved keys: what a model read from a file passes on to the file of a
// model derived from it.
std::map<std::string, std::string> user_metadata(const std::map<std::string, std::string>& metadata);

}  // namespace tinyml::io
