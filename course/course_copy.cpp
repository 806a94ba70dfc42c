// Student copies: the project's files, solution regions stripped, checked for leaks, then written.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

#include "course/course.hpp"
#include "course/course_lexer.hpp"

namespace tinyml::course {

using namespace detail;

namespace {

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

std::string assignment_next_steps() {
  return "  cmake -S . -B build -G Ninja && cmake --build build -j 2 --target tinyml-course\n"
         "  ./build/bin/tinyml-course list\n"
         "(-j 2 builds two files at a time; raise it to the number of cores you have)\n";
}

namespace {

// Throws unless `source` looks like the project, `dest` is new or an empty folder, and a module is selected.
void check_assignment_args(const fs::path& source, const fs::path& dest, const std::set<int>& modules) {
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
  // A number that names no module would strip nothing and leave its solutions in the student's
  // copy. "all" (every number 1..99) is the one selection that may name absent ones.
  if (modules.size() == 99) return;
  std::set<int> present;
  for (const ModuleInfo& m : list_modules(source)) present.insert(m.number);
  for (int m : modules)
    if (!present.contains(m))
      throw CourseError(
          fmt::format("make-assignment: --modules names module {:02}, which {} does not have "
                      "(its modules: {:02}-{:02})",
                      m, source.string(), present.empty() ? 0 : *present.begin(),
                      present.empty() ? 0 : *present.rbegin()));
}

// The source files of a copy, stripped in memory.
struct StrippedFiles {
  std::vector<std::pair<fs::path, std::string>> changed;     // files in which a region was replaced
  std::vector<RemovedRegion> removed;                        // every region replaced
  std::vector<std::pair<std::string, std::string>> sources;  // every source file as the copy holds it
};

// Strips the selected regions of the source files among `files`, noting in `report` every region
// replaced or kept.
StrippedFiles strip_files(const fs::path& source, const std::vector<fs::path>& files,
                          const std::set<int>& modules, AssignmentReport& report) {
  StrippedFiles out;
  for (const fs::path& rel : files) {
    if (!is_source_file(rel)) continue;
    std::string text = read_file(source / rel);
    if (text.find("SOLUTION") != std::string::npos) {
      const std::vector<Line> lines = split_lines(text);
      for (const Region& r : find_regions(text, rel.generic_string())) {
        (modules.count(r.module) ? report.replaced : report.kept).push_back(r.module);
        if (!modules.count(r.module)) continue;
        const size_t from = lines[r.begin_line].offset, to = lines[r.end_line - 1].offset;
        out.removed.push_back(
            {fmt::format("{}:{} ({:02}: {})", rel.generic_string(), r.begin_line, r.module, r.message),
             text.substr(from, to - from)});
      }
      std::string stripped = strip_solutions(text, rel.generic_string(), modules);
      if (stripped != text) {
        out.changed.emplace_back(rel, stripped);
        text = std::move(stripped);
      }
    }
    out.sources.emplace_back(rel.generic_string(), std::move(text));
  }
  return out;
}

// Throws a CourseError listing the functions of the copy that still hold a removed region.
void check_no_leaks(const StrippedFiles& stripped) {
  if (const std::vector<Leak> leaks = find_leaks(stripped.removed, stripped.sources); !leaks.empty()) {
    std::string list;
    for (const Leak& l : leaks)
      list += fmt::format("\n  {} holds {:.0f} % of {}", l.function, 100.0 * l.similarity, l.region);
    throw CourseError(fmt::format(
        "make-assignment: the copy would still hold removed solutions in another form (same code up "
        "to names and literals); nothing was written. Strip those functions with the region, or make "
        "them call the student's function:{}",
        list));
  }
}

// Writes the copy: the changed files with the permissions of their originals, the others copied.
void write_copy(const fs::path& source, const fs::path& dest, const std::vector<fs::path>& files,
                const StrippedFiles& stripped, AssignmentReport& report) {
  fs::create_directories(dest);
  std::map<fs::path, const std::string*> replacement;
  for (const auto& [rel, text] : stripped.changed) replacement[rel] = &text;
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
  report.files_changed = stripped.changed.size();
}

}  // namespace

AssignmentReport make_assignment(const fs::path& source, const fs::path& dest, const std::set<int>& modules) {
  check_assignment_args(source, dest, modules);
  AssignmentReport report;
  const std::vector<fs::path> files = project_files(source, dest, &report.from_git, &report.skipped);
  // Everything is transformed and checked in memory first, so a bad marker or a leak leaves no
  // half-written copy.
  const StrippedFiles stripped = strip_files(source, files, modules, report);
  check_no_leaks(stripped);
  write_copy(source, dest, files, stripped, report);
  return report;
}

}  // namespace tinyml::course
