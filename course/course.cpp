// Solution regions: finding `// BEGIN SOLUTION NN` blocks and replacing them by TODOs.
#include "course/course.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "course/course_lexer.hpp"

namespace tinyml::course {

using namespace detail;

namespace {

// ---------------------------------------------------------------- markers

enum class MarkerKind { None, Begin, End };

struct Marker {
  MarkerKind kind = MarkerKind::None;
  std::string rest;  // what follows "BEGIN SOLUTION" / "END SOLUTION"
};

// A marker is a line holding only a // comment that starts with BEGIN SOLUTION or END SOLUTION.
// Mentions elsewhere (a string literal, the middle of a comment) are not markers.
Marker read_marker(std::string_view line) {
  std::string_view s = trim(line);
  if (s.substr(0, 2) != "//") return {};
  s = trim(s.substr(2));
  for (auto [word, kind] : {std::pair{std::string_view("BEGIN SOLUTION"), MarkerKind::Begin},
                            std::pair{std::string_view("END SOLUTION"), MarkerKind::End}}) {
    if (s.substr(0, word.size()) == word && (s.size() == word.size() || !is_ident_char(s[word.size()])))
      return {kind, std::string(trim(s.substr(word.size())))};
  }
  return {};
}

// "02: what to implement" → module 2, "what to implement".
std::pair<int, std::string> parse_begin(const std::string& rest, const std::string& file, size_t line) {
  const auto where = [&] { return fmt::format("{}:{}", file, line); };
  if (rest.size() < 2 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
      !std::isdigit(static_cast<unsigned char>(rest[1])) || (rest.size() > 2 && is_ident_char(rest[2])))
    throw CourseError(
        fmt::format("{}: BEGIN SOLUTION must be followed by a two-digit module number and a "
                    "description, as in '// BEGIN SOLUTION 02: topological sort'; got '{}'",
                    where(), rest));
  const int module = (rest[0] - '0') * 10 + (rest[1] - '0');
  if (module == 0) throw CourseError(fmt::format("{}: module number 00 is not a module", where()));
  std::string_view tail = trim(std::string_view(rest).substr(2));
  if (tail.empty() || tail.front() != ':' || trim(tail.substr(1)).empty())
    throw CourseError(
        fmt::format("{}: BEGIN SOLUTION {:02} needs a description after ':' (it becomes the "
                    "student's TODO message), e.g. '// BEGIN SOLUTION {:02}: what to implement'",
                    where(), module, module));
  return {module, std::string(trim(tail.substr(1)))};
}

std::string c_string_literal(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

// ---------------------------------------------------------------- regions

std::vector<Region> find_regions(std::string_view text, const std::string& file) {
  std::vector<Region> regions;
  std::optional<Region> open;
  size_t number = 0;
  for (const Line& line : split_lines(text)) {
    ++number;
    const Marker m = read_marker(line.text);
    if (m.kind == MarkerKind::Begin) {
      if (open)
        throw CourseError(
            fmt::format("{}:{}: nested BEGIN SOLUTION: the region of module {:02} opened at line {} "
                        "is not closed yet (regions cannot nest)",
                        file, number, open->module, open->begin_line));
      const auto [module, message] = parse_begin(m.rest, file, number);
      open = Region{module, message, number, 0};
    } else if (m.kind == MarkerKind::End) {
      if (!open)
        throw CourseError(
            fmt::format("{}:{}: END SOLUTION without a BEGIN SOLUTION before it", file, number));
      if (!m.rest.empty() && m.rest != fmt::format("{:02}", open->module))
        throw CourseError(
            fmt::format("{}:{}: END SOLUTION {} closes the region of module {:02} opened at line {}", file,
                        number, m.rest, open->module, open->begin_line));
      open->end_line = number;
      regions.push_back(*open);
      open.reset();
    }
  }
  if (open)
    throw CourseError(fmt::format("{}:{}: BEGIN SOLUTION {:02} is never closed by an '// END SOLUTION' line",
                                  file, open->begin_line, open->module));
  return regions;
}

std::string strip_solutions(std::string_view text, const std::string& file, const std::set<int>& modules) {
  const std::vector<Region> regions = find_regions(text, file);
  const std::vector<Line> lines = split_lines(text);
  // First pass: cut the selected regions, leaving one TODO line each (remembering where it went).
  std::string out;
  struct Todo {
    size_t offset;  // of the TODO line in `out`
    std::string indent;
    const Region* region;
  };
  std::vector<Todo> todos;
  size_t next_line = 0;  // 0-based index into lines
  for (const Region& r : regions) {
    if (!modules.count(r.module)) continue;
    for (; next_line + 1 < r.begin_line; ++next_line)
      out += text.substr(lines[next_line].offset, lines[next_line].end - lines[next_line].offset);
    const std::string_view begin = lines[r.begin_line - 1].text;
    const std::string indent(begin.substr(0, std::min(begin.size(), begin.find_first_not_of(" \t"))));
    todos.push_back({out.size(), indent, &r});
    out += indent + "TINYML_TODO(" + c_string_literal(fmt::format("{:02}: {}", r.module, r.message)) + ");\n";
    next_line = r.end_line;  // skip through the END marker
  }
  for (; next_line < lines.size(); ++next_line)
    out += text.substr(lines[next_line].offset, lines[next_line].end - lines[next_line].offset);
  if (todos.empty()) return std::string(text);

  // Second pass: parameters the cut code was the only user of get a (void) cast, so that
  // -Wunused-parameter stays quiet. Inserted from the back so earlier offsets stay valid.
  const std::string mask = mask_code(out);
  for (auto it = todos.rbegin(); it != todos.rend(); ++it) {
    const auto f = enclosing_function(mask, it->offset);
    if (!f)
      throw CourseError(
          fmt::format("{}:{}: the region of module {:02} is not inside a function body; a region must "
                      "be a function body or a block inside one",
                      file, it->region->begin_line, it->region->module));
    const std::string_view body = std::string_view(mask).substr(f->open, f->close - f->open + 1);
    std::string casts;
    for (const std::string& p : f->params)
      if (!uses_identifier(body, p)) casts += fmt::format("(void){}; ", p);
    if (!casts.empty()) {
      casts.pop_back();
      out.insert(it->offset, it->indent + casts + "\n");
    }
  }
  return out;
}

std::set<int> parse_module_list(std::string_view spec) {
  const auto bad = [&] {
    return CourseError(fmt::format(
        "--modules: expected module numbers such as '02-07', '1,3,5-6' or 'all', got '{}'", spec));
  };
  std::set<int> out;
  if (trim(spec) == "all") {
    for (int m = 1; m <= 99; ++m) out.insert(m);
    return out;
  }
  const auto number = [&](std::string_view s) {
    s = trim(s);
    if (s.empty() || s.size() > 2 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      throw bad();
    const int v = std::stoi(std::string(s));
    if (v < 1) throw bad();
    return v;
  };
  std::string_view rest = spec;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      out.insert(number(item));
    } else {
      const int lo = number(item.substr(0, dash)), hi = number(item.substr(dash + 1));
      if (lo > hi) throw bad();
      for (int m = lo; m <= hi; ++m) out.insert(m);
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

}  // namespace tinyml::course
