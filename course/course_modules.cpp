// The modules of a course tree, and grade reports: points, JSON and the table `tinyml course` prints.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <string>

#include "course/course.hpp"

namespace tinyml::course {

// ---------------------------------------------------------------- modules of a tree

std::vector<ModuleInfo> list_modules(const fs::path& root) {
  std::vector<ModuleInfo> out;
  const fs::path dir = root / "modules";
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[0])) ||
        !std::isdigit(static_cast<unsigned char>(name[1])) || name[2] != '_')
      continue;
    ModuleInfo m;
    m.number = std::stoi(name.substr(0, 2));
    m.name = name;
    m.dir = entry.path();
    m.title = name.substr(3);
    std::ifstream readme(entry.path() / "README.md");
    for (std::string line; std::getline(readme, line);) {
      if (line.rfind("# ", 0) != 0) continue;
      // "# Module 02 · Autograd" → "Autograd"
      std::string t = line.substr(2);
      const std::string prefix = fmt::format("Module {:02}", m.number);
      if (t.rfind(prefix, 0) == 0) t = t.substr(prefix.size());
      const size_t start = t.find_first_not_of(" :-\xC2\xB7\xE2\x80\x94");
      m.title = one_line(start == std::string::npos ? t : t.substr(start), 60);
      break;
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const ModuleInfo& a, const ModuleInfo& b) { return a.number < b.number; });
  return out;
}

ModuleInfo find_module(std::string_view arg, const std::vector<ModuleInfo>& modules) {
  std::string_view a = arg;
  if (a.substr(0, 8) == "modules/") a.remove_prefix(8);
  while (!a.empty() && a.back() == '/') a.remove_suffix(1);
  const bool digits = !a.empty() && a.size() <= 2 && std::all_of(a.begin(), a.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  for (const ModuleInfo& m : modules) {
    // Decimal on purpose: "08" is module 8, never an octal literal.
    if (digits ? (a.size() == 1 ? a[0] - '0' : (a[0] - '0') * 10 + (a[1] - '0')) == m.number : a == m.name)
      return m;
  }
  std::string known;
  for (const ModuleInfo& m : modules) known += fmt::format("\n  {:<24} {}", m.name, m.title);
  throw CourseError(
      fmt::format("'{}' is not a module of this course; give its number (8 or 08) or its folder "
                  "name. The modules:{}",
                  arg, known));
}

std::vector<std::string> module_targets(const ModuleInfo& m) {
  return {fmt::format("course_module_{:02}", m.number), "milestone_" + m.name};
}

fs::path find_course_root(const fs::path& start) {
  fs::path p = fs::weakly_canonical(fs::absolute(start));
  for (fs::path q = p;; q = q.parent_path()) {
    if (fs::exists(q / "modules" / "README.md") && fs::exists(q / "CMakeLists.txt")) return q;
    if (q == q.parent_path()) break;
  }
  throw CourseError(
      fmt::format("{} is not inside a tinyml course tree (no modules/README.md next to a "
                  "CMakeLists.txt in it or its parents); run this from your copy of the project",
                  p.string()));
}

// ---------------------------------------------------------------- reports

double module_points(int passed, int total) {
  if (total <= 0 || passed <= 0) return 0.0;
  return std::round(kPointsPerModule * passed / total * 10.0) / 10.0;
}

int grade_exit_status(const GradeReport& r, double fail_under) {
  const double max = r.max_points();
  const double percent = max > 0 ? 100.0 * r.points() / max : 0.0;
  return r.build_ok && r.points() > 0.0 && percent + 1e-9 >= fail_under ? 0 : 1;
}

double GradeReport::points() const {
  double p = 0.0;
  for (const auto& m : modules) p += m.points;
  return p;
}

nlohmann::json to_json(const GradeReport& r) {
  nlohmann::json mods = nlohmann::json::array();
  for (const ModuleResult& m : r.modules) {
    nlohmann::json tests = nlohmann::json::array();
    for (const TestResult& t : m.tests)
      tests.push_back(
          {{"name", t.name}, {"status", to_string(t.status)}, {"seconds", t.seconds}, {"reason", t.reason}});
    mods.push_back({{"module", fmt::format("{:02}", m.module.number)},
                    {"name", m.module.name},
                    {"title", m.module.title},
                    {"total", m.total},
                    {"passed", m.passed},
                    {"failed", m.failed},
                    {"skipped", m.skipped},
                    {"points", m.points},
                    {"max_points", kPointsPerModule},
                    {"complete", m.complete()},
                    {"first_failure",
                     m.first_failure.empty()
                         ? nlohmann::json(nullptr)
                         : nlohmann::json{{"test", m.first_failure}, {"reason", m.first_failure_reason}}},
                    {"tests", tests}});
  }
  const double max = r.max_points();
  return {{"root", r.root},
          {"build_dir", r.build_dir},
          {"timestamp", r.timestamp},
          {"build_ok", r.build_ok},
          {"build_error", r.build_error},
          {"points", r.points()},
          {"max_points", max},
          {"percent", max > 0 ? std::round(1000.0 * r.points() / max) / 10.0 : 0.0},
          {"modules", mods}};
}

GradeReport grade_report_from_json(const nlohmann::json& j) {
  GradeReport r;
  r.root = j.value("root", "");
  r.build_dir = j.value("build_dir", "");
  r.timestamp = j.value("timestamp", "");
  r.build_ok = j.value("build_ok", true);
  r.build_error = j.value("build_error", "");
  for (const auto& jm : j.value("modules", nlohmann::json::array())) {
    ModuleResult m;
    m.module.number = std::stoi(jm.value("module", "0"));
    m.module.name = jm.value("name", "");
    m.module.title = jm.value("title", "");
    m.total = jm.value("total", 0);
    m.passed = jm.value("passed", 0);
    m.failed = jm.value("failed", 0);
    m.skipped = jm.value("skipped", 0);
    m.points = jm.value("points", 0.0);
    if (jm.contains("first_failure") && jm["first_failure"].is_object()) {
      m.first_failure = jm["first_failure"].value("test", "");
      m.first_failure_reason = jm["first_failure"].value("reason", "");
    }
    for (const auto& jt : jm.value("tests", nlohmann::json::array())) {
      TestResult t;
      t.name = jt.value("name", "");
      const std::string s = jt.value("status", "failed");
      t.status = s == "passed"     ? TestStatus::Passed
                 : s == "skipped"  ? TestStatus::Skipped
                 : s == "disabled" ? TestStatus::Disabled
                                   : TestStatus::Failed;
      t.seconds = jt.value("seconds", 0.0);
      t.reason = jt.value("reason", "");
      m.tests.push_back(std::move(t));
    }
    r.modules.push_back(std::move(m));
  }
  return r;
}

std::string format_table(const GradeReport& r) {
  std::string out;
  size_t title_w = 6;
  for (const auto& m : r.modules) title_w = std::max(title_w, m.module.title.size() + 3);
  title_w = std::min<size_t>(title_w, 36);
  out += fmt::format("{:<{}}  {:>7}  {:>6}  {}\n", "module", title_w, "tests", "points", "first failure");
  for (const auto& m : r.modules) {
    std::string failure;
    if (!m.first_failure.empty())
      failure = one_line(m.first_failure + ": " + m.first_failure_reason, 110);
    else if (m.total == 0)
      failure = r.build_ok ? "no tests found (counts as failed)" : "not run: the build failed";
    out += fmt::format("{:<{}}  {:>7}  {:>6.1f}  {}\n",
                       one_line(fmt::format("{:02} {}", m.module.number, m.module.title), title_w), title_w,
                       fmt::format("{}/{}", m.passed, m.total), m.points, failure);
  }
  const double max = r.max_points();
  out += fmt::format("{:<{}}  {:>7}  {:>6.1f}  of {:.0f} ({:.1f} %)\n", "total", title_w, "", r.points(), max,
                     max > 0 ? 100.0 * r.points() / max : 0.0);
  if (!r.build_ok) out += "\nThe build failed, so no test ran:\n" + r.build_error + "\n";
  return out;
}

}  // namespace tinyml::course
