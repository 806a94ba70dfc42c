// A little C++ lexing for the course tool: lines of a text, comments and literals masked out,
// function bodies and their parameters found by matching braces.
#include "course/course_lexer.hpp"

#include <cctype>
#include <string>

#include "course/course.hpp"

namespace tinyml::course {

namespace detail {

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::string_view body = text.substr(pos, stop - pos);
    if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
    lines.push_back({body, pos, nl == std::string_view::npos ? text.size() : nl + 1});
    pos = lines.back().end;
  }
  return lines;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace detail

using namespace detail;

namespace {

// The text with comments and the contents of string and character literals blanked out (quotes
// and newlines kept), so braces, parentheses and identifiers can be matched without being fooled.
std::string code_mask(std::string_view text) {
  std::string out(text);
  size_t i = 0;
  const size_t n = text.size();
  auto blank = [&](size_t from, size_t to) {
    for (size_t k = from; k < to && k < n; ++k)
      if (out[k] != '\n') out[k] = ' ';
  };
  while (i < n) {
    const char c = text[i];
    if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      const size_t e = text.find('\n', i);
      const size_t stop = e == std::string_view::npos ? n : e;
      blank(i, stop);
      i = stop;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      const size_t e = text.find("*/", i + 2);
      const size_t stop = e == std::string_view::npos ? n : e + 2;
      blank(i, stop);
      i = stop;
    } else if (c == 'R' && i + 1 < n && text[i + 1] == '"' && (i == 0 || !is_ident_char(text[i - 1]))) {
      // Raw string R"delim( ... )delim"
      const size_t paren = text.find('(', i + 2);
      if (paren == std::string_view::npos) break;
      std::string close = ")";  // appended piecewise: GCC 12 warns (-Wrestrict) on a + chain here
      close.append(text.substr(i + 2, paren - i - 2));
      close.push_back('"');
      const size_t e = text.find(close, paren + 1);
      const size_t stop = e == std::string_view::npos ? n : e + close.size();
      blank(i + 2, stop - 1);
      i = stop;
    } else if (c == '"' ||
               (c == '\'' && !(i > 0 && std::isxdigit(static_cast<unsigned char>(text[i - 1])) && i + 1 < n &&
                               std::isxdigit(static_cast<unsigned char>(text[i + 1]))))) {
      // A string or character literal (a ' between two hex digits is a digit separator: 1'000).
      size_t k = i + 1;
      while (k < n && text[k] != c && text[k] != '\n') k += text[k] == '\\' ? 2 : 1;
      blank(i + 1, std::min(k, n));
      i = std::min(k + 1, n);
    } else {
      ++i;
    }
  }
  return out;
}

// Offset of the brace matching the '{' at `open` in masked text, or npos.
size_t matching_brace(const std::string& m, size_t open) {
  int depth = 0;
  for (size_t k = open; k < m.size(); ++k) {
    if (m[k] == '{')
      ++depth;
    else if (m[k] == '}' && --depth == 0)
      return k;
  }
  return std::string::npos;
}

// The header in front of the '{' at `open`: back to the previous ';', '{' or '}' outside
// parentheses, without preprocessor lines and access labels.
std::string header_before(const std::string& m, size_t open) {
  int paren = 0;
  size_t k = open;
  while (k > 0) {
    const char c = m[k - 1];
    if (c == ')')
      ++paren;
    else if (c == '(')
      --paren;
    else if (paren == 0 && (c == ';' || c == '{' || c == '}'))
      break;
    --k;
  }
  std::string header;
  std::istringstream in(m.substr(k, open - k));
  for (std::string line; std::getline(in, line);) {
    const std::string_view t = trim(line);
    if (!t.empty() && t.front() == '#') continue;
    header += line;
    header += ' ';
  }
  std::string_view h = trim(header);
  for (std::string_view label : {"public:", "private:", "protected:"})
    if (h.substr(0, label.size()) == label) h = trim(h.substr(label.size()));
  return std::string(h);
}

std::string first_word(std::string_view s) {
  s = trim(s);
  size_t k = 0;
  while (k < s.size() && is_ident_char(s[k])) ++k;
  return std::string(s.substr(0, k));
}

// Splits at top-level commas (outside (), [], {} and <>).
std::vector<std::string> split_params(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(' || c == '[' || c == '{' || c == '<') ++depth;
    if (c == ')' || c == ']' || c == '}' || c == '>') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(cur);
  return out;
}

// The name a parameter declares, or "" when it has none ("const Tensor&", "int", "std::string").
std::string param_name(std::string_view p) {
  int depth = 0;
  for (size_t k = 0; k < p.size(); ++k) {  // drop a default argument
    const char c = p[k];
    if (c == '(' || c == '[' || c == '{' || c == '<') ++depth;
    if (c == ')' || c == ']' || c == '}' || c == '>') --depth;
    if (c == '=' && depth == 0) {
      p = p.substr(0, k);
      break;
    }
  }
  p = trim(p);
  size_t k = p.size();
  while (k > 0 && is_ident_char(p[k - 1])) --k;
  const std::string_view name = p.substr(k);
  const std::string_view rest = trim(p.substr(0, k));
  if (name.empty() || rest.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return {};
  if (rest.size() >= 2 && rest.substr(rest.size() - 2) == "::") return {};
  static const std::set<std::string_view> type_words = {"int",   "char",     "bool",     "float",  "double",
                                                        "long",  "short",    "unsigned", "signed", "auto",
                                                        "const", "volatile", "void"};
  if (type_words.count(name)) return {};
  return std::string(name);
}

}  // namespace

namespace detail {

// If the '{' at `open` starts a function body, its parameters; lambdas and control blocks are not
// functions.
std::optional<FunctionScope> function_at(const std::string& m, size_t open) {
  const std::string header = header_before(m, open);
  static const std::set<std::string> not_functions = {"if",     "for",   "while", "switch",    "catch",
                                                      "do",     "else",  "try",   "namespace", "class",
                                                      "struct", "union", "enum",  "return",    "extern"};
  if (header.empty() || not_functions.count(first_word(header))) return std::nullopt;
  // The parameter list: the first top-level (...) group, skipping the "()" of operator().
  size_t lp = std::string::npos;
  int angle = 0;
  for (size_t k = 0; k < header.size(); ++k) {
    const char c = header[k];
    if (c == '<')
      ++angle;
    else if (c == '>')
      --angle;
    else if ((c == '=' || c == '[') && angle == 0)
      return std::nullopt;  // initializer or lambda
    else if (c == '(' && angle == 0) {
      const std::string_view before = trim(std::string_view(header).substr(0, k));
      if (before.size() >= 8 && before.substr(before.size() - 8) == "operator" &&
          header.compare(k, 2, "()") == 0) {
        k += 1;
        continue;
      }
      lp = k;
      break;
    }
  }
  if (lp == std::string::npos) return std::nullopt;
  int depth = 0;
  size_t rp = std::string::npos;
  for (size_t k = lp; k < header.size(); ++k) {
    if (header[k] == '(')
      ++depth;
    else if (header[k] == ')' && --depth == 0) {
      rp = k;
      break;
    }
  }
  if (rp == std::string::npos) return std::nullopt;
  FunctionScope f;
  f.open = open;
  f.close = matching_brace(m, open);
  if (f.close == std::string::npos) return std::nullopt;
  for (const std::string& p : split_params(std::string_view(header).substr(lp + 1, rp - lp - 1))) {
    std::string name = param_name(p);
    if (!name.empty()) f.params.push_back(std::move(name));
  }
  return f;
}

// The innermost function whose body contains offset `pos` of the masked text.
std::optional<FunctionScope> enclosing_function(const std::string& m, size_t pos) {
  int depth = 0;
  for (size_t k = pos; k > 0; --k) {
    const char c = m[k - 1];
    if (c == '}') {
      ++depth;
    } else if (c == '{') {
      if (depth > 0) {
        --depth;
      } else if (auto f = function_at(m, k - 1)) {
        return f;
      }
    }
  }
  return std::nullopt;
}

bool uses_identifier(std::string_view code, const std::string& name) {
  for (size_t at = code.find(name); at != std::string_view::npos; at = code.find(name, at + 1)) {
    const bool left = at == 0 || !is_ident_char(code[at - 1]);
    const bool right = at + name.size() >= code.size() || !is_ident_char(code[at + name.size()]);
    if (left && right) return true;
  }
  return false;
}

}  // namespace detail

std::string mask_code(std::string_view text) { return code_mask(text); }

std::vector<std::pair<size_t, size_t>> function_bodies(const std::string& masked) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t k = masked.find('{'); k != std::string::npos; k = masked.find('{', k + 1)) {
    if (const auto f = function_at(masked, k)) {
      out.emplace_back(f->open, f->close);
      k = f->close;
    }
  }
  return out;
}

}  // namespace tinyml::course
