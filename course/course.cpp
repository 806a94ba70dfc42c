// Solution regions and student copies: finding `// BEGIN SOLUTION NN` blocks and replacing them by TODOs.
#include "course/course.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

namespace tinyml::course {

namespace {

// ---------------------------------------------------------------- lines and markers

struct Line {
  std::string_view text;  // without the newline (and without a trailing '\r')
  size_t offset = 0;      // of the first character in the whole text
  size_t end = 0;         // offset just past the newline (or the end of the text)
};

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

// ---------------------------------------------------------------- a little C++ lexing

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

struct FunctionScope {
  size_t open = 0;   // the body's '{'
  size_t close = 0;  // its '}'
  std::vector<std::string> params;
};

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

std::string c_string_literal(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_source_file(const fs::path& p) {
  static const std::set<std::string> exts = {".cpp", ".hpp", ".h", ".cc", ".cxx", ".hh", ".ipp", ".inl"};
  return exts.count(p.extension().string()) > 0;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw CourseError(fmt::format("cannot read {}", p.string()));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& p, std::string_view content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw CourseError(fmt::format("cannot write {}", p.string()));
}

bool is_inside(const fs::path& p, const fs::path& dir) {
  if (dir.empty()) return false;
  const fs::path rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
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
  const std::string mask = code_mask(out);
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

// ---------------------------------------------------------------- student copies

namespace {

// Object files and archives: build products (a libtinyml.a holds every solution's machine code).
bool is_build_product(const fs::path& p) {
  static const std::set<std::string> exts = {".o",     ".obj", ".a",   ".lib", ".so",
                                             ".dylib", ".dll", ".pch", ".gch"};
  const std::string name = p.filename().string();
  return exts.count(p.extension().string()) > 0 || name.find(".so.") != std::string::npos;
}

// The build tree (a folder below root holding CMakeCache.txt) that `rel` lies in, or "".
std::string build_tree_of(const fs::path& root, const fs::path& rel, std::map<fs::path, bool>& cache) {
  fs::path dir;
  for (auto it = rel.begin(); std::next(it) != rel.end() && it != rel.end(); ++it) {
    dir /= *it;
    auto [slot, fresh] = cache.try_emplace(dir, false);
    if (fresh) slot->second = fs::exists(root / dir / "CMakeCache.txt");
    if (slot->second) return dir.generic_string() + "/";
  }
  return {};
}

}  // namespace

std::vector<fs::path> project_files(const fs::path& root, const fs::path& skip, bool* from_git,
                                    std::vector<std::string>* skipped) {
  std::vector<fs::path> listed;
  bool git = false;
  const fs::path abs_skip = skip.empty() ? fs::path() : fs::weakly_canonical(fs::absolute(skip));
  if (fs::exists(root / ".git")) {
    ProcessResult r = run_capture(
        {"git", "-C", root.string(), "ls-files", "-z", "--cached", "--others", "--exclude-standard"});
    if (r.exit_code == 0) {
      git = true;
      std::set<std::string> seen;  // a file both staged and modified can be listed twice
      size_t pos = 0;
      while (pos < r.output.size()) {
        const size_t z = r.output.find('\0', pos);
        const std::string rel = r.output.substr(pos, (z == std::string::npos ? r.output.size() : z) - pos);
        pos = z == std::string::npos ? r.output.size() : z + 1;
        if (rel.empty() || !seen.insert(rel).second) continue;
        const fs::path p = root / rel;
        if (!fs::is_regular_file(p)) continue;  // deleted in the working tree, or a submodule
        if (is_inside(fs::weakly_canonical(fs::absolute(p)), abs_skip)) continue;
        listed.emplace_back(rel);
      }
    }
  }
  if (!git) {
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      const fs::path rel = it->path().lexically_relative(root);
      const std::string name = it->path().filename().string();
      if (it->is_directory()) {
        const bool top = std::distance(rel.begin(), rel.end()) == 1;
        if (name == ".git" || (top && name.rfind("build", 0) == 0) ||
            (!abs_skip.empty() && fs::weakly_canonical(it->path()) == abs_skip))
          it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && name != ".git") listed.push_back(rel);
    }
  }
  std::vector<fs::path> files;
  std::set<std::string> left_out;
  std::map<fs::path, bool> cache;
  for (fs::path& rel : listed) {
    if (std::string tree = build_tree_of(root, rel, cache); !tree.empty())
      left_out.insert(tree);
    else if (is_build_product(rel))
      left_out.insert(rel.generic_string());
    else
      files.push_back(std::move(rel));
  }
  std::sort(files.begin(), files.end());
  if (from_git) *from_git = git;
  if (skipped) skipped->assign(left_out.begin(), left_out.end());
  return files;
}

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

std::string assignment_next_steps() {
  return "  cmake -S . -B build && cmake --build build -j 2 --target tinyml_cli course_modules\n"
         "  ./build/bin/tinyml course list\n"
         "(-j 2 builds two files at a time; raise it to the number of cores you have)\n";
}

AssignmentReport make_assignment(const fs::path& source, const fs::path& dest, const std::set<int>& modules) {
  if (!fs::is_directory(source))
    throw CourseError(fmt::format("make-assignment: source {} is not a directory", source.string()));
  if (!fs::exists(source / "CMakeLists.txt") || !fs::exists(source / "modules"))
    throw CourseError(
        fmt::format("make-assignment: {} does not look like the tinyml project (no CMakeLists.txt "
                    "and modules/); pass --source",
                    source.string()));
  if (fs::exists(dest)) {
    if (!fs::is_directory(dest))
      throw CourseError(fmt::format("make-assignment: {} exists and is not a directory", dest.string()));
    if (!fs::is_empty(dest))
      throw CourseError(
          fmt::format("make-assignment: {} is not empty; refusing to write a student copy over "
                      "existing files (choose a new or empty directory)",
                      dest.string()));
  }
  if (modules.empty()) throw CourseError("make-assignment: no module selected");

  AssignmentReport report;
  const std::vector<fs::path> files = project_files(source, dest, &report.from_git, &report.skipped);
  // Everything is transformed and checked in memory first, so a bad marker or a leak leaves no
  // half-written copy.
  std::vector<std::pair<fs::path, std::string>> changed;
  std::vector<RemovedRegion> removed;
  std::vector<std::pair<std::string, std::string>> sources;  // every source file as the copy holds it
  for (const fs::path& rel : files) {
    if (!is_source_file(rel)) continue;
    std::string text = read_file(source / rel);
    if (text.find("SOLUTION") != std::string::npos) {
      const std::vector<Line> lines = split_lines(text);
      for (const Region& r : find_regions(text, rel.generic_string())) {
        (modules.count(r.module) ? report.replaced : report.kept).push_back(r.module);
        if (!modules.count(r.module)) continue;
        const size_t from = lines[r.begin_line].offset, to = lines[r.end_line - 1].offset;
        removed.push_back(
            {fmt::format("{}:{} ({:02}: {})", rel.generic_string(), r.begin_line, r.module, r.message),
             text.substr(from, to - from)});
      }
      std::string stripped = strip_solutions(text, rel.generic_string(), modules);
      if (stripped != text) {
        changed.emplace_back(rel, stripped);
        text = std::move(stripped);
      }
    }
    sources.emplace_back(rel.generic_string(), std::move(text));
  }
  if (const std::vector<Leak> leaks = find_leaks(removed, sources); !leaks.empty()) {
    std::string list;
    for (const Leak& l : leaks)
      list += fmt::format("\n  {} holds {:.0f} % of {}", l.function, 100.0 * l.similarity, l.region);
    throw CourseError(fmt::format(
        "make-assignment: the copy would still hold removed solutions in another form (same code up "
        "to names and literals); nothing was written. Strip those functions with the region, or make "
        "them call the student's function:{}",
        list));
  }
  fs::create_directories(dest);
  std::map<fs::path, const std::string*> replacement;
  for (const auto& [rel, text] : changed) replacement[rel] = &text;
  for (const fs::path& rel : files) {
    const fs::path to = dest / rel;
    fs::create_directories(to.parent_path());
    if (auto it = replacement.find(rel); it != replacement.end()) {
      write_file(to, *it->second);
      fs::permissions(to, fs::status(source / rel).permissions());
    } else {
      fs::copy_file(source / rel, to, fs::copy_options::overwrite_existing);
    }
    ++report.files;
  }
  report.files_changed = changed.size();
  return report;
}

}  // namespace tinyml::course
