// Errors: tinyml::Error and the TINYML_CHECK macro that every public function uses on bad input.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace tinyml {

// Every error a user can trigger with bad input. The message names the function,
// the shapes/values it got and what it expected.
// An error raised inside a child of a container (Sequential::forward) also carries the child's
// dotted name and type as fields, and what() puts them in front of the message.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what), message_(what), what_(what) {}
  // "Sequential::forward: module 'head.0' (Linear): <message>", or the message alone.
  const char* what() const noexcept override { return what_.c_str(); }
  // What the function that failed said, without the module path.
  const std::string& message() const { return message_; }
  // The dotted name of the module it came from, as named_modules() spells it ("head.0"), and
  // that module's type ("Linear"); both empty when it was not raised inside a container's child.
  const std::string& module_path() const { return path_; }
  const std::string& module_type() const { return type_; }
  // Called by the container `where` as the error leaves its child `name` of type `type`, innermost
  // container first: `name` goes in front of the path; the type stays the innermost module's.
  void add_module(const std::string& where, const std::string& name, const std::string& type) {
    path_ = path_.empty() ? name : name + "." + path_;
    if (type_.empty()) type_ = type;
    what_ = ::fmt::format("{}: module '{}' ({}): {}", where, path_, type_, message_);
  }

 private:
  std::string message_;
  std::string path_;
  std::string type_;
  std::string what_;
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
