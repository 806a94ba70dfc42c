// The whole `tinyml` program as one function: main() calls it (cli/main.cpp).
#pragma once

namespace tinyml::cli {

// Parses argv as `tinyml <subcommand> [options]` (register_all in commands.hpp) and runs the
// subcommand. Returns the exit status: 0 done (or help printed), 1 the work failed (the message on
// stderr as "error: ..."), 2 a command-line error (CLI11's message naming the option), or the
// status a failing course module reports.
int run_program(int argc, char** argv);

}  // namespace tinyml::cli
