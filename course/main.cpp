// `tinyml-course`: the course's commands (`tinyml course ...`) as a program of their own. It needs
// neither the library nor the other commands, so a student's copy builds it in seconds and its
// first `tinyml-course test 01` builds only what module 01 needs.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "tinyml-course: the course's student copies, module tests and grades (modules/README.md); "
      "the same commands as `tinyml course`"};
  tinyml::cli::add_course_commands(app);
  return tinyml::cli::parse_and_run(app, argc, argv);
}
