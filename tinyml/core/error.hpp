// Errors: tinyml::Error and the TINYML_CHECK macro that every public function uses on bad input.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace tinyml {

// Every error a user can trigger with bad input. The message names the function,
// the shapes/values it got and what it expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown by course assignment stubs (TINYML_TODO) that the student has not written yet.
class NotImplemented : public Error {
 public:
  explicit NotImplemented(const std::string& what) : Error(what) {}
};

}  // namespace tinyml

// TINYML_CHECK(cond, "fn: expected ... got {}", value) throws tinyml::Error with the formatted message.
#define TINYML_CHECK(cond, ...)                          \
  do {                                                   \
    if (!(cond)) [[unlikely]] {                          \
      throw ::tinyml::Error(::fmt::format(__VA_ARGS__)); \
    }                                                    \
  } while (0)

// A part of the course that the student writes; see modules/README.md.
#define TINYML_TODO(what) throw ::tinyml::NotImplemented(std::string("TODO ") + (what))
