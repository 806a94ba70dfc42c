// The `tinyml` program: the subcommands registered on one CLI11 App, parsed and run. Here, not in
// main.cpp, so that CLI11 is compiled once, with the commands (the library is one unity unit).
#include "program.hpp"

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace tinyml::cli {

int run_program(int argc, char** argv) {
  CLI::App app{
      "tinyml: train, evaluate, quantize and benchmark small neural networks (MLPs) with the tinyml library"};
  register_all(app);
  return parse_and_run(app, argc, argv);
}

}  // namespace tinyml::cli
