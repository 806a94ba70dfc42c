// The course tooling behind `tinyml course`: solution regions, student copies, module tests and grading.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Independent of the tinyml library on purpose: it must keep working in a student's copy whose
// library is full of TODOs, and it only reads files and runs cmake/ctest.
namespace tinyml::course {

namespace fs = std::filesystem;

// Everything the course tooling reports to its user (bad markers, bad arguments, failed commands).
class CourseError : public std::runtime_error {
 public:
  explicit CourseError(const std::string& what) : std::runtime_error(what) {}
};

// ---------------------------------------------------------------- running programs

struct ProcessResult {
  int exit_code = -1;  // the program's status; 128 + N when killed by signal N; 127 if it could not start
  std::string output;  // stdout and stderr interleaved (run_capture only)
};

// Runs argv[0] (looked up in PATH) in `cwd` (the current directory if empty) without a shell, so
// paths with spaces need no quoting.
ProcessResult run_capture(const std::vector<std::string>& argv, const fs::path& cwd = {});
// The same with output going to the terminal.
int run_streaming(const std::vector<std::string>& argv, const fs::path& cwd = {});
// The same with output appended to `log`.
int run_logged(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd = {});

// ---------------------------------------------------------------- solution regions

// A part of the library that students write:
//     // BEGIN SOLUTION 02: topological sort of the graph
//     ...reference code...
//     // END SOLUTION
// The text after "NN:" becomes the TODO message of the student copy.
struct Region {
  int module = 0;
  std::string message;    // "topological sort of the graph"
  size_t begin_line = 0;  // 1-based line of the BEGIN marker
  size_t end_line = 0;    // 1-based line of the END marker
};

// The regions of one file. Throws CourseError naming `file` and the line for a nested BEGIN, an
// END without BEGIN, a region never closed, a bad module number or a missing description.
std::vector<Region> find_regions(std::string_view text, const std::string& file);

// `text` with every region of a module in `modules` replaced by
//     TINYML_TODO("NN: description");
// (markers included), preceded by `(void)param;` for each parameter of the enclosing function that
// the remaining code no longer uses, so that the copy still compiles with -Werror. Regions of the
// other modules are kept as they are, markers and all. Throws like find_regions, and when a
// selected region is not inside a function body.
std::string strip_solutions(std::string_view text, const std::string& file, const std::set<int>& modules);

// "02-07", "1,3,5-6", "04" or "all" → module numbers (1..99). Throws on anything else.
std::set<int> parse_module_list(std::string_view spec);

// Files of a source tree that make up the project: `git ls-files` (tracked and untracked but not
// ignored) in a git checkout, otherwise a walk that skips .git and top-level build*/ folders.
// Either way, build trees (any folder below `root` holding a CMakeCache.txt) and object or archive
// files (.o .obj .a .lib .so .dylib .dll .pch .gch) are left out and, if `skipped` is given, listed
// there ("cmake-build-debug/", "tinyml/x.o"). Paths are relative to `root`, sorted; `skip` (e.g. the
// destination) is left out.
std::vector<fs::path> project_files(const fs::path& root, const fs::path& skip, bool* from_git = nullptr,
                                    std::vector<std::string>* skipped = nullptr);

struct AssignmentReport {
  size_t files = 0;                  // files written
  size_t files_changed = 0;          // files in which a region was replaced
  bool from_git = false;             // listed by git rather than by walking the tree
  std::vector<int> replaced;         // module of every replaced region
  std::vector<int> kept;             // module of every region left in place (not selected)
  std::vector<std::string> skipped;  // build trees and object/archive files not copied
};

// Writes a student copy of `source` into `dest`, which must be empty or not exist. Source files
// (.cpp, .hpp, .h, .cc, .cxx, .hh, .ipp, .inl) go through strip_solutions; everything else is
// copied byte for byte with its permissions. Before anything is written, the copy is checked for
// leaks (find_leaks): a function left in it that holds a removed region in another form stops
// the copy with a CourseError naming both.
AssignmentReport make_assignment(const fs::path& source, const fs::path& dest, const std::set<int>& modules);

// What to run in a fresh copy, with a bounded number of build jobs.
std::string assignment_next_steps();

// ---------------------------------------------------------------- leaks of removed solutions

// A removed region's code, for the leak check.
struct RemovedRegion {
  std::string where;  // "tinyml/quant/qtensor.cpp:199 (08: unpack_int4: ...)"
  std::string code;   // the lines between its markers
};

// A function of the copy whose body holds a removed region up to names and literals.
struct Leak {
  std::string region;       // RemovedRegion::where
  std::string function;     // "tinyml/quant/qtensor.cpp:223"
  double similarity = 0.0;  // share of the region's token 8-grams found in that body
};

// Clone detection, the way a type-2 clone detector works: every removed region and every function
// body of `files` (path, text) become token sequences with comments dropped, identifiers mapped
// to one token and literals to another (keywords and punctuation stay), cut into 8-grams. A body
// holding at least `threshold` of a region's 8-grams is a leak. Regions shorter than 24 tokens are
// not compared (too little code to tell a copy from a common idiom).
inline constexpr double kLeakThreshold = 0.75;
std::vector<Leak> find_leaks(const std::vector<RemovedRegion>& removed,
                             const std::vector<std::pair<std::string, std::string>>& files,
                             double threshold = kLeakThreshold);

// The text with comments and string/character contents blanked (quotes and newlines kept).
std::string mask_code(std::string_view text);
// Offsets of the '{' and '}' of every outermost function body of masked text.
std::vector<std::pair<size_t, size_t>> function_bodies(const std::string& masked);

// ---------------------------------------------------------------- modules and test results

struct ModuleInfo {
  int number = 0;
  std::string name;   // folder name, "02_autograd"
  std::string title;  // from the README's first heading, "Autograd"
  fs::path dir;
};

// modules/NN_topic folders of a course tree, in order.
std::vector<ModuleInfo> list_modules(const fs::path& root);

// The module a command line names: its number in decimal with or without the leading zero ("9",
// "09"), or its folder ("09_qat_and_precision", also as "modules/09_qat_and_precision/"). Anything
// else, or a module the course does not have, throws a CourseError listing the modules.
ModuleInfo find_module(std::string_view arg, const std::vector<ModuleInfo>& modules);

// The build targets of one module: its step tests (course_module_NN) and its milestone program
// (milestone_NN_topic, in build/bin).
std::vector<std::string> module_targets(const ModuleInfo& m);

// The tree a command is run from: `start` or its nearest parent holding modules/README.md and
// CMakeLists.txt. Throws if there is none.
fs::path find_course_root(const fs::path& start);

enum class TestStatus { Passed, Failed, Skipped, Disabled };
const char* to_string(TestStatus s);

struct TestResult {
  std::string name;
  TestStatus status = TestStatus::Failed;
  double seconds = 0.0;
  std::string reason;  // one line: why it failed or was skipped (empty for a pass)
  std::string output;  // what the test printed
};

// The <testcase> entries of a JUnit file written by `ctest --output-junit`. Throws on malformed XML.
std::vector<TestResult> parse_junit(std::string_view xml);

// The most telling line of a failed gtest run: the description of an uncaught exception (which is
// where TINYML_TODO's "TODO NN: ..." shows up) or the first assertion failure with its message.
std::string failure_reason(std::string_view output);

// `s` on one line: newlines and tabs become spaces, runs of spaces one, the ends trimmed; cut to
// `limit` characters with "..." at the end.
std::string one_line(std::string s, size_t limit = 240);

// ---------------------------------------------------------------- running and grading

inline constexpr double kPointsPerModule = 10.0;

struct ModuleResult {
  ModuleInfo module;
  int total = 0;
  int passed = 0;
  int failed = 0;
  int skipped = 0;  // skipped and disabled tests: counted in total, never as passed
  double points = 0.0;
  std::string first_failure;         // test name
  std::string first_failure_reason;  // failure_reason() of it
  std::vector<TestResult> tests;
  bool complete() const { return total > 0 && passed == total; }
};

// Points for `passed` of `total` tests: proportional, and 0 when a module has no tests at all.
double module_points(int passed, int total);

struct GradeReport {
  std::string root;
  std::string build_dir;
  std::string timestamp;  // UTC, ISO 8601
  bool build_ok = true;
  std::string build_error;  // tail of the build log when the build failed
  std::vector<ModuleResult> modules;
  double points() const;
  double max_points() const { return kPointsPerModule * static_cast<double>(modules.size()); }
};

nlohmann::json to_json(const GradeReport& report);
GradeReport grade_report_from_json(const nlohmann::json& j);
// Fixed-width table: module, passed/total, points, first failure; then the total.
std::string format_table(const GradeReport& report);

struct RunOptions {
  fs::path root;       // the course tree (the student's copy)
  fs::path build_dir;  // absolute, or relative to root
  bool build = true;   // configure if needed, then build the module test targets first
  int jobs = 0;        // 0: one per hardware thread
  bool echo = false;   // stream cmake's and ctest's output to the terminal (else: to BUILD/course/*.log)
};

// The exit status of `tinyml course grade`: 0 when the build succeeded, some test passed and the
// total is at least `fail_under` percent; 1 otherwise (a failed build, nothing passing, or a
// total below the bar).
int grade_exit_status(const GradeReport& report, double fail_under);

// The build folder RunOptions point at (relative paths resolved against root).
fs::path resolve_build_dir(const RunOptions& options);

// Builds the module tests (unless !options.build) and runs every module's tests, one ctest call
// per module reading its JUnit output. A failed build fails every module (no stale binary is
// run). The report is also saved to <build>/course/grade.json for `tinyml course list`.
GradeReport grade(const RunOptions& options);

// One module: builds its tests and its milestone (module_targets) and runs `ctest -L ^module-NN$`
// (with --output-on-failure when options.echo); the result is merged into the saved report.
ModuleResult test_module(const RunOptions& options, int module);

// The report saved by the last grade/test run in this build folder, if any.
bool load_saved_report(const RunOptions& options, GradeReport& out);

}  // namespace tinyml::course
