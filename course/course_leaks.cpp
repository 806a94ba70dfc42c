// The leak check of student copies: a removed solution must not survive elsewhere in another form.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "course/course.hpp"

namespace tinyml::course {

namespace {

constexpr size_t kGram = 8;        // tokens per shingle
constexpr size_t kMinTokens = 24;  // shorter regions are not compared

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Words that keep their identity: the structure of the code, not its names.
const std::set<std::string, std::less<>>& keywords() {
  static const std::set<std::string, std::less<>> k = {"auto",
                                                       "bool",
                                                       "break",
                                                       "case",
                                                       "catch",
                                                       "char",
                                                       "const",
                                                       "constexpr",
                                                       "continue",
                                                       "default",
                                                       "delete",
                                                       "do",
                                                       "double",
                                                       "else",
                                                       "false",
                                                       "float",
                                                       "for",
                                                       "if",
                                                       "int",
                                                       "long",
                                                       "new",
                                                       "nullptr",
                                                       "operator",
                                                       "return",
                                                       "short",
                                                       "signed",
                                                       "sizeof",
                                                       "static",
                                                       "static_cast",
                                                       "switch",
                                                       "template",
                                                       "this",
                                                       "throw",
                                                       "true",
                                                       "try",
                                                       "unsigned",
                                                       "reinterpret_cast",
                                                       "void",
                                                       "while",
                                                       "std",
                                                       "size_t",
                                                       "int8_t",
                                                       "uint8_t",
                                                       "int32_t",
                                                       "int64_t",
                                                       "uint32_t",
                                                       "uint64_t",
                                                       "int16_t"};
  return k;
}

// Masked code (comments gone, literal contents blanked) as normalised tokens: "$" for every
// identifier that is not a keyword, "#" for every number, string or character literal.
std::vector<std::string> tokens(std::string_view m) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < m.size()) {
    const char c = m[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (ident_start(c)) {
      size_t j = i;
      while (j < m.size() && ident_char(m[j])) ++j;
      const std::string_view w = m.substr(i, j - i);
      out.emplace_back(keywords().count(w) ? std::string(w) : "$");
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < m.size() && std::isdigit(static_cast<unsigned char>(m[i + 1])))) {
      size_t j = i + 1;
      while (j < m.size() && (ident_char(m[j]) || m[j] == '.' || m[j] == '\'' ||
                              ((m[j] == '+' || m[j] == '-') && (m[j - 1] == 'e' || m[j - 1] == 'E'))))
        ++j;
      out.emplace_back("#");
      i = j;
    } else if (c == '"' || c == '\'') {
      const size_t j = m.find(c, i + 1);
      out.emplace_back("#");
      i = j == std::string_view::npos ? m.size() : j + 1;
    } else {
      out.emplace_back(1, c);
      ++i;
    }
  }
  return out;
}

std::vector<size_t> shingles(const std::vector<std::string>& t) {
  std::vector<size_t> out;
  for (size_t k = 0; k + kGram <= t.size(); ++k) {
    size_t h = 0;
    for (size_t j = k; j < k + kGram; ++j) h = h * 1000003u ^ std::hash<std::string>{}(t[j]);
    out.push_back(h);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t line_of(std::string_view text, size_t offset) {
  return 1 + static_cast<size_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

}  // namespace

std::vector<Leak> find_leaks(const std::vector<RemovedRegion>& removed,
                             const std::vector<std::pair<std::string, std::string>>& files,
                             double threshold) {
  std::vector<std::vector<size_t>> region_grams;
  for (const RemovedRegion& r : removed) {
    const std::vector<std::string> t = tokens(mask_code(r.code));
    region_grams.push_back(t.size() < kMinTokens ? std::vector<size_t>{} : shingles(t));
  }
  // Which regions each shingle occurs in, so a body is compared only with regions it shares code with.
  std::unordered_map<size_t, std::vector<size_t>> owners;
  for (size_t r = 0; r < region_grams.size(); ++r)
    for (size_t g : region_grams[r]) owners[g].push_back(r);
  std::vector<Leak> leaks;
  for (const auto& [path, text] : files) {
    const std::string m = mask_code(text);
    for (const auto& [open, close] : function_bodies(m)) {
      const std::vector<size_t> body = shingles(tokens(std::string_view(m).substr(open, close - open + 1)));
      std::map<size_t, size_t> hits;  // region → shared shingles
      for (size_t g : body)
        if (auto it = owners.find(g); it != owners.end())
          for (size_t r : it->second) ++hits[r];
      for (const auto& [r, n] : hits) {
        const double share = static_cast<double>(n) / static_cast<double>(region_grams[r].size());
        if (share >= threshold)
          leaks.push_back({removed[r].where, fmt::format("{}:{}", path, line_of(text, open)), share});
      }
    }
  }
  return leaks;
}

}  // namespace tinyml::course
