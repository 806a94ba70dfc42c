// Running and grading module tests: cmake and ctest as child processes, their results merged into reports.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "course/course.hpp"

namespace tinyml::course {

// ---------------------------------------------------------------- processes

namespace {

int spawn(const std::vector<std::string>& argv, const fs::path& cwd, int out_fd) {
  if (argv.empty()) throw CourseError("run: empty command");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);  // or the child would inherit (and print again) buffered output
  const pid_t pid = fork();
  if (pid < 0) throw CourseError(fmt::format("cannot start {}: {}", argv[0], std::strerror(errno)));
  if (pid == 0) {
    if (out_fd >= 0) {
      dup2(out_fd, STDOUT_FILENO);
      dup2(out_fd, STDERR_FILENO);
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    execvp(args[0], args.data());
    const char msg[] = "course: cannot run the command (is it installed and on PATH?)\n";
    [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw CourseError(fmt::format("waiting for {}: {}", argv[0], std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

ProcessResult run_capture(const std::vector<std::string>& argv, const fs::path& cwd) {
  std::string tmpl = (fs::temp_directory_path() / "tinyml-course-XXXXXX").string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) throw CourseError(fmt::format("cannot create a temporary file: {}", std::strerror(errno)));
  ProcessResult r;
  try {
    r.exit_code = spawn(argv, cwd, fd);
  } catch (...) {
    close(fd);
    fs::remove(tmpl);
    throw;
  }
  close(fd);
  r.output = read_all(tmpl);
  fs::remove(tmpl);
  return r;
}

int run_streaming(const std::vector<std::string>& argv, const fs::path& cwd) { return spawn(argv, cwd, -1); }

int run_logged(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd) {
  fs::create_directories(log.parent_path());
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw CourseError(fmt::format("cannot write {}: {}", log.string(), std::strerror(errno)));
  int code = -1;
  try {
    code = spawn(argv, cwd, fd);
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
  return code;
}

// ---------------------------------------------------------------- running the tests

namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int jobs_of(const RunOptions& o) {
  if (o.jobs > 0) return o.jobs;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// The source folder a build folder was configured from (CMAKE_HOME_DIRECTORY in its cache).
std::optional<fs::path> configured_source(const fs::path& build) {
  std::ifstream cache(build / "CMakeCache.txt");
  for (std::string line; std::getline(cache, line);)
    if (line.rfind("CMAKE_HOME_DIRECTORY:", 0) == 0) return fs::path(line.substr(line.find('=') + 1));
  return std::nullopt;
}

void check_build_belongs(const fs::path& root, const fs::path& build) {
  const auto src = configured_source(build);
  if (!src)
    throw CourseError(
        fmt::format("{} is not a configured build folder (no CMakeCache.txt); run cmake first "
                    "or pass --build-dir",
                    build.string()));
  std::error_code ec;
  if (!fs::equivalent(*src, root, ec))
    throw CourseError(
        fmt::format("{} was configured from {}, not from this tree ({}); grading it would grade that "
                    "code instead of yours. Pass --build-dir with a build folder of this tree",
                    build.string(), src->string(), root.string()));
}

// Lines of a build log worth showing: the compiler's errors, else the end of the log.
std::string build_errors(const std::string& log) {
  std::istringstream in(log);
  std::vector<std::string> lines, errors;
  for (std::string line; std::getline(in, line);) {
    if (line.find("error") != std::string::npos && errors.size() < 12) errors.push_back(line);
    lines.push_back(line);
  }
  if (errors.empty())
    errors.assign(lines.end() - static_cast<std::ptrdiff_t>(std::min<size_t>(lines.size(), 20)), lines.end());
  std::string out;
  for (const auto& e : errors) out += "  " + e + "\n";
  return out;
}

// True when a program called `name` is on PATH.
bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / name).c_str(), X_OK) == 0) return true;
  return false;
}

// Configures (if needed: with Ninja when it is installed, as modules/README.md does) and builds
// `targets`; returns "" on success, else the errors to show.
std::string build_targets(const RunOptions& o, const fs::path& root, const fs::path& build,
                          const std::vector<std::string>& targets) {
  const fs::path log = build / "course" / "build.log";
  fs::create_directories(log.parent_path());
  fs::remove(log);
  auto run = [&](const std::vector<std::string>& argv) {
    return o.echo ? run_streaming(argv, root) : run_logged(argv, log, root);
  };
  if (!fs::exists(build / "CMakeCache.txt")) {
    std::vector<std::string> configure{"cmake", "-S", root.string(), "-B", build.string()};
    if (on_path("ninja")) configure.emplace_back("-GNinja");
    if (run(configure) != 0)
      return o.echo ? "  cmake could not configure the project (see above)\n" : build_errors(read_all(log));
  }
  check_build_belongs(root, build);
  std::vector<std::string> argv{"cmake",   "--build", build.string(), "-j", std::to_string(jobs_of(o)),
                                "--target"};
  argv.insert(argv.end(), targets.begin(), targets.end());
  if (run(argv) != 0)
    return o.echo ? "  the build failed (see the compiler's messages above)\n" : build_errors(read_all(log));
  return {};
}

ModuleResult summarize(const ModuleInfo& info, std::vector<TestResult> tests) {
  ModuleResult m;
  m.module = info;
  m.tests = std::move(tests);
  m.total = static_cast<int>(m.tests.size());
  for (const TestResult& t : m.tests) {
    if (t.status == TestStatus::Passed)
      ++m.passed;
    else if (t.status == TestStatus::Failed)
      ++m.failed;
    else
      ++m.skipped;
    if (t.status != TestStatus::Passed && m.first_failure.empty()) {
      m.first_failure = t.name;
      m.first_failure_reason = t.reason;
    }
  }
  m.points = module_points(m.passed, m.total);
  return m;
}

ModuleResult run_module_tests(const RunOptions& o, const fs::path& build, const ModuleInfo& info, bool show) {
  const fs::path junit = build / "course" / fmt::format("junit-{:02}.xml", info.number);
  fs::create_directories(junit.parent_path());
  fs::remove(junit);
  std::vector<std::string> argv{"ctest",
                                "--test-dir",
                                build.string(),
                                "-L",
                                fmt::format("^module-{:02}$", info.number),
                                "--output-junit",
                                junit.string(),
                                "-j",
                                std::to_string(jobs_of(o))};
  if (show) {
    argv.push_back("--output-on-failure");
    run_streaming(argv);
  } else {
    run_capture(argv);
  }
  std::vector<TestResult> tests;
  if (fs::exists(junit)) tests = parse_junit(read_all(junit));
  ModuleResult m = summarize(info, std::move(tests));
  if (m.total == 0) {
    m.first_failure = "(none)";
    m.first_failure_reason = fmt::format(
        "ctest found no test labelled module-{:02}; a module without tests counts "
        "as failed (is the build folder configured with TINYML_BUILD_TESTS=ON?)",
        info.number);
  }
  return m;
}

fs::path report_path(const fs::path& build) { return build / "course" / "grade.json"; }

void save_report(const fs::path& build, const GradeReport& r) {
  const fs::path p = report_path(build);
  fs::create_directories(p.parent_path());
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << to_json(r).dump(2) << "\n";
    if (!out) throw CourseError(fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, p);
}

}  // namespace

fs::path resolve_build_dir(const RunOptions& o) {
  const fs::path b = o.build_dir.empty() ? fs::path("build") : o.build_dir;
  return fs::weakly_canonical(b.is_absolute() ? b : o.root / b);
}

bool load_saved_report(const RunOptions& o, GradeReport& out) {
  const fs::path p = report_path(resolve_build_dir(o));
  if (!fs::exists(p)) return false;
  try {
    out = grade_report_from_json(nlohmann::json::parse(read_all(p)));
  } catch (const nlohmann::json::exception&) {
    return false;  // a damaged cache is the same as none
  }
  return true;
}

GradeReport grade(const RunOptions& o) {
  const fs::path root = fs::weakly_canonical(fs::absolute(o.root));
  const fs::path build = resolve_build_dir(o);
  const std::vector<ModuleInfo> modules = list_modules(root);
  if (modules.empty())
    throw CourseError(fmt::format("grade: no modules/NN_topic folders in {}", root.string()));
  GradeReport r;
  r.root = root.string();
  r.build_dir = build.string();
  r.timestamp = utc_now();
  if (o.build) {
    r.build_error = build_targets(o, root, build, {"course_modules"});
    r.build_ok = r.build_error.empty();
  } else {
    check_build_belongs(root, build);
  }
  for (const ModuleInfo& info : modules) {
    if (!r.build_ok) {
      // Never run binaries left from an earlier build: they would grade older code.
      ModuleResult m = summarize(info, {});
      m.first_failure = "(build)";
      m.first_failure_reason = "the build failed";
      r.modules.push_back(std::move(m));
      continue;
    }
    r.modules.push_back(run_module_tests(o, build, info, o.echo));
  }
  save_report(build, r);
  return r;
}

ModuleResult test_module(const RunOptions& o, int module) {
  const fs::path root = fs::weakly_canonical(fs::absolute(o.root));
  const fs::path build = resolve_build_dir(o);
  const std::vector<ModuleInfo> modules = list_modules(root);
  const auto it =
      std::find_if(modules.begin(), modules.end(), [&](const ModuleInfo& m) { return m.number == module; });
  if (it == modules.end()) find_module(std::to_string(module), modules);  // throws, listing the modules
  ModuleResult m;
  if (o.build) {
    if (!o.echo)
      fmt::print("building {} and {} (log: {})\n", module_targets(*it)[0], module_targets(*it)[1],
                 (build / "course" / "build.log").string());
    const std::string err = build_targets(o, root, build, module_targets(*it));
    if (!err.empty())
      throw CourseError(fmt::format("test: the build failed, so module {:02} cannot run:\n{}", module, err));
  } else {
    check_build_belongs(root, build);
  }
  m = run_module_tests(o, build, *it, o.echo);
  // Merge into the saved report so `list` shows it.
  GradeReport r;
  if (!load_saved_report(o, r) || r.root != root.string()) {
    r = GradeReport{};
    r.root = root.string();
    r.build_dir = build.string();
  }
  r.timestamp = utc_now();
  r.build_ok = true;
  r.build_error.clear();
  auto slot = std::find_if(r.modules.begin(), r.modules.end(),
                           [&](const ModuleResult& x) { return x.module.number == module; });
  if (slot != r.modules.end())
    *slot = m;
  else
    r.modules.push_back(m);
  std::sort(r.modules.begin(), r.modules.end(),
            [](const ModuleResult& a, const ModuleResult& b) { return a.module.number < b.module.number; });
  save_report(build, r);
  return m;
}

}  // namespace tinyml::course
