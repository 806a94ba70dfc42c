#include "lab/graphviz.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "tinyml/core/file.hpp"

extern char** environ;

namespace tinyml::cli {

namespace {

// Spawns `argv` with stdout and stderr on /dev/null and waits; 0 and the exit status, or an errno.
struct Spawned {
  int error = 0;  // errno of posix_spawnp or waitpid, 0 when the program ran
  int status = 0;
};

Spawned spawn_and_wait(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  Spawned s;
  s.error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (s.error != 0) return s;
  while (waitpid(pid, &s.status, 0) < 0) {
    if (errno != EINTR) {
      s.error = errno;
      return s;
    }
  }
  return s;
}

}  // namespace

DotDrawing draw_dot_as_svg(const std::string& dot_path, const std::string& svg_path,
                           const std::string& program) {
  // dot writes a temporary file beside the target, renamed over it once complete: a FIFO or a
  // device at `svg_path` is refused first (dot would wait on it), and a failed run leaves no half
  // drawing under the final name.
  check_save_target(svg_path, "demo");
  const std::string temp = temp_name_prefix(svg_path) + "dot";
  const Spawned s = spawn_and_wait({program, "-Tsvg", dot_path, "-o", temp});
  DotDrawing d;
  if (s.error == ENOENT)
    d.problem = fmt::format("`{}` (Graphviz) is not installed", program);
  else if (s.error != 0)
    d.problem = fmt::format("`{}` could not be run ({})", program, std::strerror(s.error));
  else if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0)
    d.problem =
        fmt::format("`{}` failed (status {})", program, WIFEXITED(s.status) ? WEXITSTATUS(s.status) : -1);
  else
    d.drawn = true;
  std::error_code ec;
  if (d.drawn) {
    std::filesystem::rename(temp, svg_path, ec);
    if (ec) d = {.drawn = false, .problem = fmt::format("its drawing could not be saved ({})", ec.message())};
  }
  if (!d.drawn) {
    std::filesystem::remove(temp, ec);
    std::filesystem::remove(svg_path, ec);
  }
  return d;
}

}  // namespace tinyml::cli
