// `tinyml course`: student copies of the project, one module's tests, grading and progress.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "course/course.hpp"

namespace tinyml::cli {

namespace {

namespace fs = std::filesystem;
using namespace tinyml::course;

struct CourseOptions {
  std::string dir;
  std::string modules = "all";
  std::string source;
  std::string module;
  std::string build_dir = "build";
  bool verbose = false;
  double fail_under = 0.0;
  bool no_build = false;
  int jobs = 0;
  bool json = false;
  bool run = false;
};

RunOptions run_options(const CourseOptions& o, bool echo) {
  RunOptions r;
  r.root = find_course_root(fs::current_path());
  r.build_dir = o.build_dir;
  r.build = !o.no_build;
  r.jobs = o.jobs;
  r.echo = echo;
  return r;
}

std::string counts(const std::vector<int>& modules) {
  std::map<int, int> n;
  for (int m : modules) ++n[m];
  std::string s;
  for (const auto& [m, c] : n) s += fmt::format("{}{:02}: {}", s.empty() ? "" : ", ", m, c);
  return s;
}

void run_make_assignment(const CourseOptions& o) {
  const fs::path source = o.source.empty() ? find_course_root(fs::current_path()) : fs::path(o.source);
  const std::set<int> modules = parse_module_list(o.modules);
  const AssignmentReport r = make_assignment(source, o.dir, modules);
  fmt::print("wrote {} files to {} (file list from {})\n", r.files, o.dir,
             r.from_git ? "git ls-files" : "a walk of the source tree");
  fmt::print("replaced {} solution regions in {} files ({})\n", r.replaced.size(), r.files_changed,
             r.replaced.empty() ? "none: no region belongs to the selected modules" : counts(r.replaced));
  if (!r.kept.empty())
    fmt::print("kept {} regions of unselected modules ({})\n", r.kept.size(), counts(r.kept));
  if (!r.skipped.empty()) {
    fmt::print("left out {} build trees and build products:\n", r.skipped.size());
    for (const std::string& s : r.skipped) fmt::print("  {}\n", s);
  }
  fmt::print("\nnext, in the copy:\n{}", assignment_next_steps());
}

void run_test(const CourseOptions& o) {
  const RunOptions ro = run_options(o, /*echo=*/o.verbose);
  int number = 0;
  try {
    number = find_module(o.module, list_modules(ro.root)).number;
  } catch (const CourseError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    throw CLI::RuntimeError(2);  // a bad command line, like CLI11's own errors
  }
  const ModuleResult m = test_module(ro, number);
  fmt::print("\nmodule {:02} {}: {}/{} tests passed\n", m.module.number, m.module.title, m.passed, m.total);
  for (const TestResult& t : m.tests)
    if (t.status != TestStatus::Passed)
      fmt::print("  {:<8}  {}\n            {}\n", to_string(t.status), t.name, t.reason);
  if (m.total == 0) fmt::print("  {}\n", m.first_failure_reason);
  if (m.complete()) {
    fmt::print(
        "\nAll of module {:02} passes. The milestone is unlocked: run {}/bin/{} (see {}/README.md, "
        "section Milestone).\n",
        m.module.number, fs::relative(resolve_build_dir(ro), ro.root).string(), module_targets(m.module)[1],
        fs::relative(m.module.dir, ro.root).string());
  } else {
    throw CLI::RuntimeError(1);  // a failing module is a failing command, for scripts
  }
}

void run_grade(const CourseOptions& o) {
  const GradeReport r = grade(run_options(o, /*echo=*/false));
  if (o.json)
    fmt::print("{}\n", to_json(r).dump(2));
  else
    fmt::print("{}", format_table(r));
  if (const int status = grade_exit_status(r, o.fail_under); status != 0) throw CLI::RuntimeError(status);
}

void run_list(const CourseOptions& o) {
  const RunOptions ro = run_options(o, false);
  GradeReport saved;
  bool have = false;
  if (o.run) {
    saved = grade(ro);
    have = true;
  } else {
    have = load_saved_report(ro, saved);
  }
  fmt::print("{:<34}  {}\n", "module", "progress");
  for (const ModuleInfo& info : list_modules(ro.root)) {
    std::string progress = "not run yet";
    for (const ModuleResult& m : saved.modules)
      if (have && m.module.number == info.number)
        progress = fmt::format("{}/{} tests{}", m.passed, m.total, m.complete() ? "  done" : "");
    fmt::print("{:<34}  {}\n", fmt::format("{:02} {}", info.number, info.title), progress);
  }
  if (have)
    fmt::print("\nfrom the run at {} in {}; `tinyml course grade` refreshes it\n", saved.timestamp,
               saved.build_dir);
  else
    fmt::print(
        "\nno results yet: `tinyml course test NN` runs one module, `tinyml course grade` all of them\n");
}

void add_build_options(CLI::App* cmd, const std::shared_ptr<CourseOptions>& o) {
  cmd->add_option("--build-dir", o->build_dir, "Build folder of this tree (relative to its root)")
      ->capture_default_str();
  cmd->add_flag("--no-build", o->no_build, "Run the tests as they are built, without building first");
  cmd->add_option("--jobs,-j", o->jobs, "Parallel build and test jobs; 0: one per hardware thread")
      ->check(int_at_least(0))
      ->capture_default_str();
}

}  // namespace

void register_course(CLI::App& app) {
  add_course_commands(
      *app.add_subcommand("course", "The course: student copies, module tests, grading (modules/README.md)"));
}

void add_course_commands(CLI::App& course_app) {
  auto o = std::make_shared<CourseOptions>();
  CLI::App* course = &course_app;
  course->require_subcommand(1);

  CLI::App* make = course->add_subcommand(
      "make-assignment",
      "Write a student copy of the project with the selected modules' solutions replaced by TODOs");
  make->add_option("dir", o->dir, "Where to write the copy (must be empty or not exist)")->required();
  make->add_option("--modules", o->modules, "Modules whose solutions are removed: 02-07, 1,3,5-6 or all")
      ->capture_default_str();
  make->add_option("--source", o->source, "The project to copy (default: the tree this is run from)")
      ->check(CLI::ExistingDirectory);
  make->callback([o] { run_make_assignment(*o); });

  CLI::App* test =
      course->add_subcommand("test", "Build and run one module's tests in this tree, with their failures");
  test->add_option("module", o->module, "Module: its number (9 or 09) or its folder (09_qat_and_precision)")
      ->required();
  test->add_flag("--verbose,-v", o->verbose, "Show the build's and ctest's whole output");
  add_build_options(test, o);
  test->callback([o] { run_test(*o); });

  CLI::App* grade_cmd =
      course->add_subcommand("grade", "Build and run every module's tests and print the grades");
  grade_cmd->add_flag("--json", o->json,
                      "Print the report as JSON (per module: passed/total, points, each test)");
  grade_cmd
      ->add_option("--fail-under", o->fail_under,
                   "Exit with status 1 when the total is below P percent (it also does when the "
                   "build fails or no test passes)")
      ->check(number_in(0.0, 100.0, false, "a percentage in [0, 100]"))
      ->capture_default_str();
  add_build_options(grade_cmd, o);
  grade_cmd->callback([o] { run_grade(*o); });

  CLI::App* list =
      course->add_subcommand("list", "The modules with their titles and progress from the last run");
  list->add_flag("--run", o->run, "Run every module's tests first (as grade does)");
  add_build_options(list, o);
  list->callback([o] { run_list(*o); });
}

}  // namespace tinyml::cli
