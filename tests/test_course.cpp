// The course tooling: solution regions, student copies, JUnit parsing and grading, and the lessons.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

// The tooling belongs to the `tinyml` program (course/), not to the library: this test links
// tinyml_course, the library the `tinyml course` subcommand calls.
#include "course/course.hpp"

namespace fs = std::filesystem;
// A named namespace: the unity build puts other test files after this one, and they must not
// see the course tool's names (its ProcessResult, for one).
namespace course_test {
using namespace tinyml::course;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const fs::path kSource = TINYML_SOURCE_DIR;
const fs::path kBinary = TINYML_BINARY_DIR;

// Marker lines are assembled here so that this file holds no marker of its own (the tooling
// would otherwise find them when it copies the project).
std::string begin(const std::string& rest) { return "// BEGIN " + std::string("SOLUTION ") + rest + "\n"; }
std::string end() { return "// END " + std::string("SOLUTION") + "\n"; }
std::string indent(const std::string& line) { return "  " + line; }

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The files the tooling scans for regions: the same extensions as is_source_file in course/course_copy.cpp,
// which is internal to it.
bool is_source_file(const fs::path& p) {
  static const std::set<std::string> exts = {".cpp", ".hpp", ".h", ".cc", ".cxx", ".hh", ".ipp", ".inl"};
  return exts.count(p.extension().string()) > 0;
}

std::string trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return {};
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// The message of the CourseError `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const CourseError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------- regions

TEST(CourseRegions, FindsModuleMessageAndLines) {
  const std::string text = "int f() {\n" + indent(begin("02: topological sort")) + "  return 1;\n" +
                           indent(end()) + "}\nint g() {\n" + begin("07: quantize") + "  return 2;\n" +
                           end() + "}\n";
  const std::vector<Region> r = find_regions(text, "a.cpp");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].module, 2);
  EXPECT_EQ(r[0].message, "topological sort");
  EXPECT_EQ(r[0].begin_line, 2u);
  EXPECT_EQ(r[0].end_line, 4u);
  EXPECT_EQ(r[1].module, 7);
  EXPECT_EQ(r[1].begin_line, 7u);
}

TEST(CourseRegions, MalformedMarkersNameTheFileAndLine) {
  const std::string nested = "int f() {\n" + begin("02: a") + "x;\n" + begin("03: b") + end() + end() + "}\n";
  EXPECT_THAT(error_of([&] { find_regions(nested, "src/f.cpp"); }), HasSubstr("src/f.cpp:4: nested BEGIN"));
  EXPECT_THAT(error_of([&] { find_regions(nested, "src/f.cpp"); }), HasSubstr("opened at line 2"));
  const std::string open = "int f() {\n" + begin("02: a") + "  return 1;\n}\n";
  EXPECT_THAT(error_of([&] { find_regions(open, "g.cpp"); }),
              HasSubstr("g.cpp:2: BEGIN SOLUTION 02 is never closed"));
  const std::string stray = "int f() {\n  return 1;\n" + end() + "}\n";
  EXPECT_THAT(error_of([&] { find_regions(stray, "h.cpp"); }),
              HasSubstr("h.cpp:3: END SOLUTION without a BEGIN"));
  EXPECT_THAT(error_of([&] { find_regions(begin("2: x") + end(), "i.cpp"); }),
              HasSubstr("i.cpp:1: BEGIN SOLUTION must be followed by a two-digit"));
  EXPECT_THAT(error_of([&] { find_regions(begin("04") + end(), "j.cpp"); }),
              HasSubstr("j.cpp:1: BEGIN SOLUTION 04 needs a description"));
  EXPECT_THAT(error_of([&] { find_regions(begin("04: x") + "// END SOLUTION 05\n", "k.cpp"); }),
              HasSubstr("k.cpp:2: END SOLUTION 05 closes the region of module 04"));
}

TEST(CourseRegions, OnlyWholeLineCommentsAreMarkers) {
  // Mentions inside code or string literals are text, not markers.
  const std::string text = "const char* s = \"" + std::string("// BEGIN SOLUTION 02: no") +
                           "\";\n"
                           "int x = 1;  " +
                           begin("03: no either");
  EXPECT_TRUE(find_regions(text, "a.cpp").empty());
}

TEST(CourseRegions, StripReplacesOnlySelectedModules) {
  const std::string text = "int f(int a) {\n" + indent(begin("02: add one")) + "  return a + 1;\n" +
                           indent(end()) + "}\n\nint g(int b) {\n" + indent(begin("03: double it")) +
                           "  return 2 * b;\n" + indent(end()) + "}\n";
  const std::string out = strip_solutions(text, "a.cpp", {2});
  EXPECT_EQ(out, "int f(int a) {\n  (void)a;\n  TINYML_TODO(\"02: add one\");\n}\n\nint g(int b) {\n" +
                     indent(begin("03: double it")) + "  return 2 * b;\n" + indent(end()) + "}\n");
  EXPECT_EQ(strip_solutions(text, "a.cpp", {5}), text);  // no region of module 05: unchanged
  const std::string both = strip_solutions(text, "a.cpp", {2, 3});
  EXPECT_THAT(both, Not(HasSubstr("SOLUTION")));
  EXPECT_THAT(both, HasSubstr("TINYML_TODO(\"03: double it\");"));
}

TEST(CourseRegions, VoidCastsOnlyParametersTheRestNoLongerUses) {
  // `c` is still used after the region and `unused_type` has no name: neither gets a cast.
  const std::string text =
      "int f(int a, const std::vector<int>& b, int c = 3, double) {\n"
      "  int r = c;\n" +
      indent(begin("04: sum")) + "  r += a + b[0];\n" + indent(end()) + "  return r + c;\n}\n";
  const std::string out = strip_solutions(text, "a.cpp", {4});
  EXPECT_THAT(out, HasSubstr("  (void)a; (void)b;\n  TINYML_TODO(\"04: sum\");\n"));
  EXPECT_THAT(out, Not(HasSubstr("(void)c")));
}

TEST(CourseRegions, UnderstandsOperatorCallConstructorsAndMemberFunctions) {
  const std::string call = "Tensor Module::operator()(const Tensor& input) {\n" + indent(begin("03: hooks")) +
                           "  return forward(input);\n" + indent(end()) + "}\n";
  EXPECT_THAT(strip_solutions(call, "m.cpp", {3}), HasSubstr("  (void)input;\n  TINYML_TODO("));
  const std::string ctor = "Linear::Linear(int64_t in, int64_t out) : in_(in), out_(out) {\n" +
                           indent(begin("03: init")) + "  weight = make(out, in);\n" + indent(end()) + "}\n";
  EXPECT_THAT(strip_solutions(ctor, "l.cpp", {3}),
              HasSubstr("  (void)in; (void)out;\n  TINYML_TODO(\"03: init\");"));
  const std::string method = "template <class T>\nvoid Q<T>::step() const {\n" + indent(begin("05: step")) +
                             "  for (auto& p : ps_) { p.update(); }\n" + indent(end()) + "}\n";
  EXPECT_EQ(strip_solutions(method, "s.cpp", {5}),
            "template <class T>\nvoid Q<T>::step() const {\n  TINYML_TODO(\"05: step\");\n}\n");
}

TEST(CourseRegions, RegionOutsideAFunctionIsRejected) {
  const std::string text = "namespace x {\n" + begin("02: a global") + "int g = 1;\n" + end() + "}\n";
  EXPECT_THAT(error_of([&] { strip_solutions(text, "n.cpp", {2}); }),
              HasSubstr("n.cpp:2: the region of module 02 is not inside a function body"));
}

TEST(CourseRegions, MessagesAreEscapedForTheStringLiteral) {
  const std::string text =
      "void f() {\n" + begin("02: the \"child.name\" path, not C:\\x") + "  g();\n" + end() + "}\n";
  EXPECT_THAT(strip_solutions(text, "q.cpp", {2}),
              HasSubstr("TINYML_TODO(\"02: the \\\"child.name\\\" path, not C:\\\\x\");"));
}

TEST(CourseRegions, ParseModuleList) {
  EXPECT_EQ(parse_module_list("02-07"), (std::set<int>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(parse_module_list("1,3,5-6"), (std::set<int>{1, 3, 5, 6}));
  EXPECT_EQ(parse_module_list("9"), (std::set<int>{9}));
  EXPECT_EQ(parse_module_list("all").size(), 99u);
  for (const char* bad : {"", "7-2", "x", "0", "1,,2", "123"})
    EXPECT_THAT(error_of([&] { parse_module_list(bad); }), HasSubstr("--modules")) << bad;
}

TEST(CourseModules, ANumberWithOrWithoutItsZeroOrTheFolderNamesAModule) {
  // The lessons print `tinyml course test 08` and `09`: a leading zero is decimal, never octal.
  const std::vector<ModuleInfo> modules = list_modules(kSource);
  for (const char* arg : {"9", "09", "09_qat_and_precision", "modules/09_qat_and_precision/"})
    EXPECT_EQ(find_module(arg, modules).number, 9) << arg;
  EXPECT_EQ(find_module("08", modules).number, 8);
  EXPECT_EQ(find_module("8", modules).name, "08_quantization");
  EXPECT_EQ(find_module("10", modules).name, "10_integer_kernels");
  EXPECT_EQ(find_module("1", modules).name, "01_tensor");
  for (const char* bad :
       {"010", "9x", "", "0", "00", "100", "99", "qat", "-1", "+9", " 9", "09_qat", "0x9"}) {
    const std::string e = error_of([&] { find_module(bad, modules); });
    EXPECT_THAT(e, HasSubstr("is not a module of this course")) << bad;
    EXPECT_THAT(e, HasSubstr("09_qat_and_precision")) << bad << ": the error lists the modules";
  }
}

TEST(CourseModules, TestBuildsTheStepTestsAndTheMilestone) {
  const ModuleInfo m = find_module("09", list_modules(kSource));
  EXPECT_EQ(module_targets(m),
            (std::vector<std::string>{"course_module_09", "milestone_09_qat_and_precision"}));
  // The lessons and the guide name the milestone's target, which the build defines.
  EXPECT_THAT(read(m.dir / "README.md"), HasSubstr("milestone_09_qat_and_precision"));
  EXPECT_THAT(read(kSource / "docs" / "course.md"), HasSubstr("milestone_NN_topic"));
}

TEST(CourseGrade, ExitStatusSaysWhetherTheGradeIsGoodEnough) {
  GradeReport r;
  ModuleResult a, b;
  a.module = {1, "01_tensor", "Tensors", {}};
  b.module = {2, "02_autograd", "Autograd", {}};
  a.total = b.total = 4;
  r.modules = {a, b};
  EXPECT_EQ(grade_exit_status(r, 0.0), 1) << "nothing passes";
  r.modules[0].passed = 4;
  r.modules[0].points = module_points(4, 4);  // 50 %
  EXPECT_EQ(grade_exit_status(r, 0.0), 0);
  EXPECT_EQ(grade_exit_status(r, 50.0), 0);
  EXPECT_EQ(grade_exit_status(r, 50.1), 1);
  r.build_ok = false;
  EXPECT_EQ(grade_exit_status(r, 0.0), 1) << "a failed build";
}

TEST(CourseAssignment, NextStepsBuildWithABoundedNumberOfJobs) {
  const std::string steps = assignment_next_steps();
  EXPECT_THAT(steps, ::testing::ContainsRegex("-j [0-9]+ "));
  EXPECT_THAT(steps, Not(HasSubstr("-j --")));
}

// ---------------------------------------------------------------- JUnit and reports

TEST(CourseJUnit, ReadsCTestOutput) {
  // The shape `ctest --output-junit` (CMake 3.25) writes, with one test of each outcome.
  const std::string xml = R"xml(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="(empty)" tests="6" failures="3" disabled="1" skipped="1" hostname="" time="0" timestamp="x">
	<testcase name="02_autograd.Engine.Pass" classname="02_autograd.Engine.Pass" time="0.03" status="run">
		<system-out>[       OK ] Engine.Pass (0 ms)
</system-out>
	</testcase>
	<testcase name="02_autograd.Engine.Todo" classname="c" time="0.06" status="fail">
		<failure message=""/>
		<system-out>unknown file: Failure
C++ exception with description "TODO 02: topological_order: iterative DFS &amp; order" thrown in the test body.
</system-out>
	</testcase>
	<testcase name="02_autograd.Engine.Assert" classname="c" time="0.05" status="fail">
		<failure message=""/>
		<system-out>/src/modules/02/test.cpp:42: Failure
Expected equality of these values:
  x.grad().item()
    Which is: 4
  8

[  FAILED  ] Engine.Assert (0 ms)
</system-out>
	</testcase>
	<testcase name="02_autograd.Engine.Skip" classname="c" time="0.02" status="notrun">
		<skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>
		<system-out>/src/t.cpp:7: Skipped
no data &lt;here&gt;

</system-out>
	</testcase>
	<testcase name="02_autograd.Engine.Crash" classname="c" time="0.02" status="fail">
		<failure message=""/>
		<system-out>Note: Google Test filter = Engine.Crash
</system-out>
	</testcase>
	<testcase name="02_autograd.Engine.Off" classname="c" time="0" status="disabled">
		<system-out>Disabled</system-out>
	</testcase>
</testsuite>)xml";
  const std::vector<TestResult> r = parse_junit(xml);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].status, TestStatus::Passed);
  EXPECT_EQ(r[0].reason, "");
  EXPECT_EQ(r[1].status, TestStatus::Failed);
  EXPECT_EQ(r[1].reason, "TODO 02: topological_order: iterative DFS & order");
  EXPECT_EQ(r[2].status, TestStatus::Failed);
  EXPECT_EQ(r[2].reason, "test.cpp:42: Expected equality of these values: x.grad().item() Which is: 4 8");
  EXPECT_EQ(r[3].status, TestStatus::Skipped);
  EXPECT_EQ(r[3].reason, "skipped: no data <here>");
  EXPECT_EQ(r[4].status, TestStatus::Failed);
  EXPECT_THAT(r[4].reason, HasSubstr("crashed"));
  EXPECT_EQ(r[5].status, TestStatus::Disabled);
  EXPECT_DOUBLE_EQ(r[1].seconds, 0.06);
}

TEST(CourseJUnit, MalformedXmlIsAnError) {
  EXPECT_THAT(error_of([] { parse_junit("<testsuite><testcase name='a'></testsuite>"); }),
              HasSubstr("malformed XML"));
  EXPECT_THAT(error_of([] { parse_junit("<html></html>"); }), HasSubstr("expected <testsuite>"));
  EXPECT_TRUE(parse_junit("<testsuite tests=\"0\"/>").empty());
}

TEST(CourseReport, PointsNeverRewardMissingOrSkippedTests) {
  EXPECT_EQ(module_points(0, 0), 0.0);  // a module without tests is a failed module
  EXPECT_EQ(module_points(3, 3), kPointsPerModule);
  EXPECT_EQ(module_points(1, 3), 3.3);
  GradeReport r;
  ModuleResult none;
  none.module = {2, "02_autograd", "Autograd", {}};
  ModuleResult skipped;
  skipped.module = {3, "03_layers", "Layers", {}};
  skipped.total = 2;
  skipped.passed = 1;
  skipped.skipped = 1;
  skipped.points = module_points(1, 2);
  skipped.first_failure = "Linear.Data";
  skipped.first_failure_reason = "skipped: no data";
  r.modules = {none, skipped};
  EXPECT_FALSE(none.complete());
  EXPECT_FALSE(skipped.complete());
  const std::string table = format_table(r);
  EXPECT_THAT(table, HasSubstr("02 Autograd"));
  EXPECT_THAT(table, HasSubstr("0/0"));
  EXPECT_THAT(table, HasSubstr("no tests found (counts as failed)"));
  EXPECT_THAT(table, HasSubstr("Linear.Data: skipped: no data"));
  EXPECT_THAT(table, HasSubstr("5.0  of 20 (25.0 %)"));
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["modules"][0]["module"], "02");
  EXPECT_EQ(j["modules"][0]["complete"], false);
  EXPECT_EQ(j["modules"][1]["first_failure"]["test"], "Linear.Data");
  EXPECT_DOUBLE_EQ(j["percent"].get<double>(), 25.0);
  const GradeReport back = grade_report_from_json(j);
  ASSERT_EQ(back.modules.size(), 2u);
  EXPECT_EQ(back.modules[1].skipped, 1);
  EXPECT_EQ(back.modules[1].first_failure_reason, "skipped: no data");
}

// ---------------------------------------------------------------- the regions of this project

TEST(CourseProject, EveryModuleHasWellFormedRegions) {
  std::map<int, int> per_module;
  for (const fs::path& rel : project_files(kSource, {})) {
    if (!is_source_file(rel)) continue;
    const std::string text = read(kSource / rel);
    for (const Region& r : find_regions(text, rel.string())) {
      ++per_module[r.module];
      // clang-format (ColumnLimit 110) would split a longer marker and cut its message.
      const std::string marker = lines_of(text)[r.begin_line - 1];
      EXPECT_LE(marker.size(), 110u) << rel << ":" << r.begin_line;
      EXPECT_THAT(r.message, HasSubstr(":")) << rel << ":" << r.begin_line << " names no function";
    }
  }
  const std::vector<ModuleInfo> modules = list_modules(kSource);
  ASSERT_GE(modules.size(), 10u) << "the course has at least ten modules";
  for (const ModuleInfo& m : modules)
    EXPECT_GT(per_module[m.number], 0) << "module " << m.number << " has no region";
  // Not a structured binding: clang 14 (the sanitizer build) cannot capture one in a lambda.
  for (const auto& entry : per_module) {
    const int module = entry.first;
    EXPECT_TRUE(
        std::any_of(modules.begin(), modules.end(), [&](const ModuleInfo& m) { return m.number == module; }))
        << "regions of module " << module << " but no modules/" << module << "_* folder";
  }
}

TEST(CourseProject, ReadmeSnippetsAreCompiledVerbatim) {
  // Every ```cpp block of a lesson appears, line for line (indentation aside), in a .cpp file of
  // its folder: modules/CMakeLists.txt compiles and runs each of them.
  int blocks = 0;
  for (const ModuleInfo& m : list_modules(kSource)) {
    const std::string readme = read(m.dir / "README.md");
    std::vector<std::vector<std::string>> sources;
    for (const auto& e : fs::directory_iterator(m.dir))
      if (e.path().extension() == ".cpp") {
        std::vector<std::string> t;
        for (const std::string& l : lines_of(read(e.path()))) t.push_back(trimmed(l));
        sources.push_back(t);
      }
    for (size_t at = readme.find("```cpp\n"); at != std::string::npos; at = readme.find("```cpp\n", at)) {
      const size_t start = at + 7;
      const size_t stop = readme.find("\n```", start);
      ASSERT_NE(stop, std::string::npos) << m.name << "/README.md: an unclosed ```cpp block";
      const std::string code = readme.substr(start, stop + 1 - start);
      at = stop + 4;
      ++blocks;
      std::vector<std::string> block;
      for (const std::string& l : lines_of(code)) block.push_back(trimmed(l));
      const bool found =
          std::any_of(sources.begin(), sources.end(), [&](const std::vector<std::string>& src) {
            return std::search(src.begin(), src.end(), block.begin(), block.end()) != src.end();
          });
      EXPECT_TRUE(found) << m.name << "/README.md has a snippet that no .cpp of the folder contains:\n"
                         << code;
    }
    for (const char* section : {"## What you implement", "## Test", "## Milestone"})
      EXPECT_THAT(readme, HasSubstr(section)) << m.name;
    EXPECT_THAT(readme, HasSubstr(fmt::format("tinyml course test {:02}", m.number))) << m.name;
    EXPECT_THAT(readme, HasSubstr("build/bin/milestone_" + m.name))
        << m.name << ": the milestone names its program";
    EXPECT_THAT(read(kSource / "modules" / "README.md"), HasSubstr(m.name))
        << "the course map misses " << m.name;
  }
  EXPECT_GE(blocks, 9);
}

namespace {

// The function a region's message names: "Module::operator(): pre-hooks, ..." → "Module::operator".
std::string region_function(const std::string& message) {
  const std::string f = message.substr(0, message.find(": "));
  return f.substr(0, f.find('('));
}

// (file, function) of each function a lesson's "What you implement" table names: every `name(...)`
// of its function column; the file column is "" for a table without one.
std::set<std::pair<std::string, std::string>> lesson_table(const std::string& readme) {
  std::set<std::pair<std::string, std::string>> out;
  const size_t start = readme.find("## What you implement");
  const size_t stop = readme.find("\n## ", start + 1);
  for (const std::string& line : lines_of(readme.substr(start, stop - start))) {
    if (line.rfind("|", 0) != 0 || line.rfind("|---", 0) == 0) continue;
    std::vector<std::string> cells;
    std::istringstream in(line.substr(1));
    for (std::string c; std::getline(in, c, '|');) cells.push_back(trimmed(c));
    if (cells.size() < 2 || cells[0] == "file" || cells[0] == "function") continue;
    const bool has_file = cells.size() >= 3;
    const std::string file = has_file ? cells[0].substr(1, cells[0].size() - 2) : "";
    const std::string& fns = cells[has_file ? 1 : 0];
    for (size_t a = fns.find('`'); a != std::string::npos; a = fns.find('`', a + 1)) {
      const size_t b = fns.find('`', a + 1);
      const std::string name = fns.substr(a + 1, b - a - 1);
      out.emplace(file, name.substr(0, name.find('(')));
      a = b;
    }
  }
  return out;
}

}  // namespace

TEST(CourseProject, EachLessonTableListsExactlyItsModulesRegions) {
  std::map<int, std::set<std::pair<std::string, std::string>>> regions;  // module → (file, function)
  for (const fs::path& rel : project_files(kSource, {}))
    if (is_source_file(rel))
      for (const Region& r : find_regions(read(kSource / rel), rel.string()))
        regions[r.module].emplace(rel.generic_string(), region_function(r.message));
  for (const ModuleInfo& m : list_modules(kSource)) {
    const auto table = lesson_table(read(m.dir / "README.md"));
    const auto listed = [&](const std::string& file, const std::string& fn) {
      return table.count({file, fn}) || table.count({"", fn});
    };
    for (const auto& [file, fn] : regions[m.number])
      EXPECT_TRUE(listed(file, fn)) << m.name << "/README.md, What you implement: no row for `" << fn
                                    << "` in " << file << ", which the student writes";
    for (const auto& [file, fn] : table) {
      // Named copies: clang 14 cannot capture a structured binding.
      const std::string& table_file = file;
      const std::string& table_fn = fn;
      const bool region = std::any_of(regions[m.number].begin(), regions[m.number].end(), [&](const auto& r) {
        return r.second == table_fn && (table_file.empty() || r.first == table_file);
      });
      EXPECT_TRUE(region) << m.name << "/README.md lists `" << fn << "` (" << file
                          << ") but no region of module " << m.number << " holds it: the copy already has it";
    }
  }
}

TEST(CourseProject, TheGuidesModuleTableCountsRegionsAndStepTests) {
  // docs/course.md: "| 07 | Quantization | 15 | 18 |" per module; step tests are the TEST(...)
  // cases of the module's test files (not the snippets).
  const std::string guide = read(kSource / "docs" / "course.md");
  std::map<int, int> regions;
  for (const fs::path& rel : project_files(kSource, {}))
    if (is_source_file(rel))
      for (const Region& r : find_regions(read(kSource / rel), rel.string())) ++regions[r.module];
  for (const ModuleInfo& m : list_modules(kSource)) {
    int tests = 0;
    for (const auto& e : fs::directory_iterator(m.dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("test_", 0) != 0 || name.find("snippets") != std::string::npos) continue;
      for (const std::string& l : lines_of(read(e.path())))
        if (l.rfind("TEST(", 0) == 0 || l.rfind("TEST_F(", 0) == 0) ++tests;
    }
    const std::string row =
        fmt::format("| {:02} | {} | {} | {} |", m.number, m.title, regions[m.number], tests);
    EXPECT_NE(guide.find(row), std::string::npos) << "docs/course.md has no row " << row;
  }
  // The number of files a copy has changes with every commit: the guide does not print one.
  EXPECT_FALSE(::testing::Matches(::testing::ContainsRegex("wrote [0-9]+ files"))(guide));
}

// ---------------------------------------------------------------- grading real builds

TEST(CourseGrade, TheReferenceImplementationGradesFullMarks) {
  RunOptions o;
  o.root = kSource;
  o.build_dir = kBinary;
  o.build = false;  // the suite's own build already holds every module's tests
  const GradeReport r = grade(o);
  ASSERT_EQ(r.modules.size(), list_modules(kSource).size());
  for (const ModuleResult& m : r.modules) {
    EXPECT_GT(m.total, 0) << m.module.name;
    EXPECT_TRUE(m.complete()) << m.module.name << ": " << m.first_failure << ": " << m.first_failure_reason;
  }
  EXPECT_DOUBLE_EQ(r.points(), r.max_points());
  GradeReport saved;
  ASSERT_TRUE(load_saved_report(o, saved));  // what `tinyml course list` reads
  EXPECT_EQ(saved.modules.size(), r.modules.size());
}

TEST(CourseGrade, RefusesABuildOfAnotherTree) {
  const fs::path elsewhere = kBinary / "course-other-tree";
  fs::remove_all(elsewhere);
  fs::create_directories(elsewhere / "modules" / "01_x");
  std::ofstream(elsewhere / "CMakeLists.txt") << "\n";
  std::ofstream(elsewhere / "modules" / "README.md") << "# course\n";
  RunOptions o;
  o.root = elsewhere;
  o.build_dir = kBinary;  // configured from the project, not from `elsewhere`
  o.build = false;
  EXPECT_THAT(error_of([&] { grade(o); }), HasSubstr("grading it would grade that code instead of yours"));
  EXPECT_EQ(find_course_root(elsewhere / "modules" / "01_x"), fs::weakly_canonical(elsewhere));
  fs::remove_all(elsewhere);
}

namespace {

// A small course tree in the build folder: a library file with one region of module 02 (a body of
// 40-odd tokens), which make_assignment can copy.
fs::path mini_course(const std::string& name) {
  const fs::path root = kBinary / name;
  fs::remove_all(root);
  fs::create_directories(root / "modules" / "02_x");
  fs::create_directories(root / "modules" / "05_y");
  fs::create_directories(root / "lib");
  std::ofstream(root / "CMakeLists.txt") << "project(mini)\n";
  std::ofstream(root / "modules" / "README.md") << "# course\n";
  std::ofstream(root / "modules" / "02_x" / "README.md") << "# Module 02 · X\n";
  std::ofstream(root / "lib" / "sum.cpp")
      << "#include <vector>\n\nint total(const std::vector<int>& v, int bias) {\n" +
             indent(begin("02: total: the weighted sum")) +
             "  int acc = bias;\n"
             "  for (size_t i = 0; i < v.size(); ++i) {\n"
             "    if (v[i] > 0) acc += 2 * v[i] - 1;\n"
             "    else acc -= v[i] / 3;\n"
             "  }\n"
             "  return acc;\n" +
             indent(end()) + "}\n";
  return root;
}

}  // namespace

TEST(CourseAssignment, RefusesACopyThatHoldsARemovedBodyUnderOtherNames) {
  const fs::path root = mini_course("course-leak-test");
  const fs::path dest = kBinary / "course-leak-test-copy";
  fs::remove_all(dest);
  // Without a clone the copy is written, and the body is gone from it.
  make_assignment(root, dest, {2});
  EXPECT_THAT(read(dest / "lib" / "sum.cpp"), Not(HasSubstr("acc -= v[i] / 3;")));
  fs::remove_all(dest);
  // The same body under other names and numbers, in another file: a type-2 clone.
  std::ofstream(root / "lib" / "fast.cpp") << "#include <vector>\n\n"
                                              "int fast_total(const std::vector<int>& values, int start) {\n"
                                              "  int s = start;\n"
                                              "  for (size_t k = 0; k < values.size(); ++k) {\n"
                                              "    if (values[k] > 0) s += 5 * values[k] - 7;\n"
                                              "    else s -= values[k] / 9;\n"
                                              "  }\n"
                                              "  return s;\n"
                                              "}\n";
  const std::string e = error_of([&] { make_assignment(root, dest, {2}); });
  EXPECT_THAT(e, HasSubstr("lib/fast.cpp:3 holds 100 % of lib/sum.cpp:4 (02: total: the weighted sum)"));
  EXPECT_FALSE(fs::exists(dest) && !fs::is_empty(dest)) << "nothing may be written when the check fails";
  EXPECT_NO_THROW(make_assignment(root, dest, {5})) << "module 02 kept: its body is no leak";
  fs::remove_all(dest);
  fs::remove_all(root);
}

TEST(CourseAssignment, ModulesTheSourceDoesNotHaveAreRefused) {
  // --modules 11 once wrote a "student copy" that kept every solution (11 names no module).
  const fs::path root = mini_course("course-absent-test");
  const fs::path dest = kBinary / "course-absent-test-copy";
  fs::remove_all(dest);
  EXPECT_THAT(
      error_of([&] {
        make_assignment(root, dest, {2, 11});
      }),
      HasSubstr("--modules names module 11, which " + root.string() + " does not have (its modules: 02-05)"));
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_EQ(error_of([&] { make_assignment(root, dest, parse_module_list("all")); }), "");
  fs::remove_all(dest);
  fs::remove_all(root);
}

TEST(CourseAssignment, TheProjectsCopyOfEveryModuleHasNoLeak) {
  // Every fast path that repeats a solution is stripped with it (or calls the student's code).
  const fs::path dest = kBinary / "course-all-modules-copy";
  fs::remove_all(dest);
  EXPECT_EQ(error_of([&] { make_assignment(kSource, dest, parse_module_list("all")); }), "");
  fs::remove_all(dest);
}

TEST(CourseAssignment, LeavesOutBuildTreesAndBuildProducts) {
  for (const bool git : {false, true}) {
    const fs::path root = mini_course("course-skip-test");
    fs::create_directories(root / "cmake-build-debug" / "tinyml");
    std::ofstream(root / "cmake-build-debug" / "CMakeCache.txt") << "CMAKE_HOME_DIRECTORY:INTERNAL=x\n";
    std::ofstream(root / "cmake-build-debug" / "tinyml" / "libtinyml.a") << "!<arch>\n";
    std::ofstream(root / "lib" / "stale.o") << "\x7f"
                                               "ELF";
    std::ofstream(root / "lib" / "libsum.so.1") << "\x7f"
                                                   "ELF";
    if (git) {
      ASSERT_EQ(run_capture({"git", "init", "-q", root.string()}).exit_code, 0);
    }
    const fs::path dest = kBinary / "course-skip-test-copy";
    fs::remove_all(dest);
    const AssignmentReport r = make_assignment(root, dest, {2});
    EXPECT_EQ(r.from_git, git);
    EXPECT_EQ(r.skipped, (std::vector<std::string>{"cmake-build-debug/", "lib/libsum.so.1", "lib/stale.o"}));
    EXPECT_FALSE(fs::exists(dest / "cmake-build-debug")) << (git ? "git" : "walk");
    EXPECT_FALSE(fs::exists(dest / "lib" / "stale.o"));
    EXPECT_TRUE(fs::exists(dest / "lib" / "sum.cpp"));
    fs::remove_all(dest);
    fs::remove_all(root);
  }
}

// Solution lines unique to their regions: present nowhere else in the project (lines of the
// regions that stay count as elsewhere).
struct RemovedLines {
  std::map<std::string, int> outside;  // trimmed line → occurrences outside the removed regions
  std::vector<std::pair<std::string, std::vector<std::string>>> regions;  // "file:line" → its lines
};

RemovedLines removed_lines(const std::set<int>& selected) {
  RemovedLines out;
  for (const fs::path& rel : project_files(kSource, {})) {
    if (!is_source_file(rel) && rel.extension() != ".md") continue;
    const std::string text = read(kSource / rel);
    const std::vector<std::string> lines = lines_of(text);
    std::vector<bool> inside(lines.size(), false);
    if (is_source_file(rel))
      for (const Region& r : find_regions(text, rel.string())) {
        if (!selected.count(r.module)) continue;
        std::vector<std::string> body;
        for (size_t k = r.begin_line; k + 1 < r.end_line; ++k) {
          inside[k] = true;
          body.push_back(trimmed(lines[k]));
        }
        inside[r.begin_line - 1] = inside[r.end_line - 1] = true;
        out.regions.emplace_back(fmt::format("{}:{}", rel.string(), r.begin_line), body);
      }
    for (size_t k = 0; k < lines.size(); ++k)
      if (!inside[k]) ++out.outside[trimmed(lines[k])];
  }
  return out;
}

// grep -x: no distinctive line of a removed region is a line of any file of the copy.
void expect_no_solution_line(const fs::path& dest, const RemovedLines& removed) {
  std::set<std::string> copy_lines;
  for (const auto& e : fs::recursive_directory_iterator(dest))
    if (e.is_regular_file())
      for (const std::string& l : lines_of(read(e.path()))) copy_lines.insert(trimmed(l));
  for (const auto& [where, body] : removed.regions) {
    int checked = 0;
    for (const std::string& line : body) {
      if (line.size() < 16 || removed.outside.count(line) || line.rfind("//", 0) == 0) continue;
      ++checked;
      EXPECT_FALSE(copy_lines.count(line)) << where << ": solution line left in the copy: " << line;
    }
    EXPECT_GT(checked, 0) << where << ": no distinctive line to look for";
  }
}

// Markers: none left of the selected modules; every region of the others kept, solution and all.
void expect_regions_kept(const fs::path& dest, const std::set<int>& selected) {
  std::map<int, int> source_regions, copy_regions;
  for (const fs::path& rel : project_files(kSource, {}))
    if (is_source_file(rel))
      for (const Region& r : find_regions(read(kSource / rel), rel.string())) ++source_regions[r.module];
  for (const fs::path& rel : project_files(dest, {}))
    if (is_source_file(rel))
      for (const Region& r : find_regions(read(dest / rel), rel.string())) ++copy_regions[r.module];
  for (const auto& [module, n] : source_regions)
    EXPECT_EQ(copy_regions[module], selected.count(module) ? 0 : n) << "regions of module " << module;
}

// Module 01 passes in full; every test of a selected module fails on its TODO.
void expect_todo_grades(const GradeReport& r, const std::set<int>& selected) {
  for (const ModuleResult& m : r.modules) {
    if (m.module.number == 1) {
      EXPECT_TRUE(m.complete()) << m.first_failure << ": " << m.first_failure_reason;
      EXPECT_EQ(m.points, kPointsPerModule);
    } else if (selected.count(m.module.number)) {
      EXPECT_GT(m.total, 0) << m.module.name;
      EXPECT_EQ(m.passed, 0) << m.module.name << ": a test passes without the student's code";
      EXPECT_EQ(m.points, 0.0) << m.module.name;
      for (const TestResult& t : m.tests)
        EXPECT_THAT(t.reason, HasSubstr("TODO 0"))
            << m.module.name << " " << t.name << " fails for another reason";
    }
  }
  EXPECT_THAT(format_table(r), HasSubstr("TODO 02:"));
}

// The slow one (label "slow", see modules/CMakeLists.txt): a student copy with modules 02-07
// removed is written, configured and built; its modules 02-07 fail with their TODOs, module 01
// passes, and no solution line of 02-07 is left anywhere in it.
TEST(CourseAssignment, StudentCopyBuildsFailsAndGrades) {
  const std::set<int> selected{2, 3, 4, 5, 6, 7};
  const fs::path dest = kBinary / "course-assignment-test";
  fs::remove_all(dest);
  const RemovedLines removed = removed_lines(selected);
  ASSERT_GE(removed.regions.size(), 20u);

  const AssignmentReport made = make_assignment(kSource, dest, selected);
  EXPECT_EQ(made.replaced.size(), removed.regions.size());
  EXPECT_THAT(error_of([&] { make_assignment(kSource, dest, selected); }), HasSubstr("is not empty"));
  expect_no_solution_line(dest, removed);
  expect_regions_kept(dest, selected);

  // Configure and build only what grading needs (the library and the module tests), -Werror on.
  const tinyml::course::ProcessResult cfg = run_capture(
      {"cmake", "-S", dest.string(), "-B", (dest / "build").string(), "-DTINYML_BUILD_EXAMPLES=OFF",
       "-DTINYML_BUILD_BENCH=OFF", "-DTINYML_BUILD_CLI=OFF", "-DTINYML_WERROR=ON"});
  ASSERT_EQ(cfg.exit_code, 0) << cfg.output;
  RunOptions o;
  o.root = dest;
  o.build_dir = "build";
  o.jobs = 2;
  const GradeReport r = grade(o);
  ASSERT_TRUE(r.build_ok) << r.build_error;
  expect_todo_grades(r, selected);
  fs::remove_all(dest);
}

}  // namespace course_test
