// The `tinyml` program: the subcommands registered on one CLI11 App, parsed and run. Here, not in
// main.cpp, so that CLI11 is compiled once, with the commands (the library is one unity unit).
#include "program.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml::cli {

int run_program(int argc, char** argv) {
  CLI::App app{
      "tinyml: train, evaluate, quantize and benchmark small neural networks (MLPs) with the tinyml library"};
  register_all(app);

  // Subcommands run from their callbacks, inside parse(); so errors of the work itself arrive here
  // as well as errors of the command line.
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    // A command that ran and failed (a failing course module): its own status, not a usage error.
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or CLI11's message naming the option
    return code == 0 ? 0 : 2;
  } catch (const tinyml::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tinyml::cli
