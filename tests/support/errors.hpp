// Test support: the message of the tinyml::Error a call throws, for HasSubstr checks.
#pragma once

#include <string>

#include "tinyml/core/error.hpp"

namespace tinyml_test {

// Runs `f` and returns what() of the tinyml::Error it throws, or "(no error)" when it returns.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tinyml::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace tinyml_test
