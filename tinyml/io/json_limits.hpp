// A linear-time check of untrusted JSON before it is parsed: nesting depth, duplicate keys, entry count.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tinyml::io {

struct JsonLimits {
  int max_depth = 64;               // arrays and objects nested deeper are refused
  size_t max_entries = 65536;       // members (or items) of the outermost object (or array)
  const char* entries = "entries";  // what an entry is, for the message ("tensors", "modules")
};

// Scans `text` once, in time linear in its length, and throws tinyml::Error starting with `what`
// ("read_safetensors('m.st'): the header") when it nests deeper than limits.max_depth ("... nests
// arrays and objects more than 64 deep"), when an object has a key twice ("... has the key 'w'
// twice"; a JSON parser would silently keep the last) or when the outermost container has more
// than limits.max_entries members ("... has more than 65536 tensors, the limit"). Syntax errors are left to
// the parser that follows: the scan stops at the first one without throwing.
void check_json_limits(std::string_view text, const std::string& what, const JsonLimits& limits);

}  // namespace tinyml::io
