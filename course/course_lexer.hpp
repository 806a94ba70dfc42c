// Internals of the course tool shared by its files: lines of a text and a little C++ lexing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinyml::course::detail {

struct Line {
  std::string_view text;  // without the newline (and without a trailing '\r')
  size_t offset = 0;      // of the first character in the whole text
  size_t end = 0;         // offset just past the newline (or the end of the text)
};

// The lines of `text`, each with its offsets.
std::vector<Line> split_lines(std::string_view text);

// `s` without leading and trailing white space.
std::string_view trim(std::string_view s);

// A letter, digit or '_'.
bool is_ident_char(char c);

// A function body in masked text (mask_code): the offsets of its braces and its parameters' names.
struct FunctionScope {
  size_t open = 0;   // the body's '{'
  size_t close = 0;  // its '}'
  std::vector<std::string> params;
};

// If the '{' at `open` of masked text starts a function body, its parameters; lambdas and control
// blocks are not functions.
std::optional<FunctionScope> function_at(const std::string& m, size_t open);

// The innermost function whose body contains offset `pos` of the masked text.
std::optional<FunctionScope> enclosing_function(const std::string& m, size_t pos);

// Whether `code` holds `name` as a whole identifier.
bool uses_identifier(std::string_view code, const std::string& name);

}  // namespace tinyml::course::detail
