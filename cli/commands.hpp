// The `tinyml` subcommands: each file cmd_<name>.cpp defines register_<name>, which register_all calls.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <system_error>

#include "tinyml/train/datasets.hpp"

namespace tinyml::cli {

// Adding a subcommand: write cmd_<name>.cpp defining register_<name>(CLI::App&), which adds a
// subcommand with its options and a callback; declare it here and call it from register_all below.
// The callback may throw tinyml::Error: parse_and_run (below) prints "error: <message>" and
// returns status 1. A command that measures keeps the work apart from the output: compute(options)
// fills a plain results struct without printing, and render functions print it as text or JSON
// (cmd_eval.cpp); a long one reports its setup and each epoch through a listener as they are known,
// so its text streams (cmd_train.cpp).
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_bench(CLI::App& app);
void register_course(CLI::App& app);
void register_quantize(CLI::App& app);
void register_qat(CLI::App& app);
void register_precision(CLI::App& app);
void register_demo(CLI::App& app);
void register_export(CLI::App& app);
void register_import(CLI::App& app);
void register_profile(CLI::App& app);
// The course's subcommands (make-assignment, test, grade, list) on `app`: register_course adds them
// under `course`; the program tinyml-course (course/main.cpp) has them at its top level.
void add_course_commands(CLI::App& app);

// Exactly one subcommand, each of the above: the whole `tinyml` command line, which run_program() and
// the command-line fuzz target (tests/fuzz/fuzz_cli.cpp) both parse.
inline void register_all(CLI::App& app) {
  app.require_subcommand(1);
  app.fallthrough(false);
  register_train(app);
  register_eval(app);
  register_bench(app);
  register_course(app);
  register_quantize(app);
  register_qat(app);
  register_precision(app);
  register_demo(app);
  register_export(app);
  register_import(app);
  register_profile(app);
}

// Parses argv with `app` and runs what it names (subcommands run from their callbacks, inside
// parse(), so errors of the work itself arrive here as well as errors of the command line).
// Returns the exit status: 0 done or help printed; 2 a command-line error (CLI11's message,
// naming the option, on stderr); the status of a command that throws CLI::RuntimeError (a
// failing course module); 1 any other error, printed as "error: <message>".
inline int parse_and_run(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or CLI11's message naming the option
    return code == 0 ? 0 : 2;
  } catch (const std::exception& e) {  // tinyml::Error among them
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

// The command line that repeats what the user gave `cmd` (parsed): "tinyml demo --epochs 3 --out
// r", its positionals and the options that were given, in the order they are declared, with the
// values as typed (quoted when a shell would split them). Options left at their defaults are left
// out, so that each default is written once, where its option is declared. For reports that
// record how they were made.
inline std::string given_command_line(const CLI::App& cmd) {
  const auto quoted = [](const std::string& v) {
    if (!v.empty() && v.find_first_of(" \t\n'\"\\$`*?;&|<>()#~") == std::string::npos) return v;
    std::string q = "'";
    for (char c : v) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string line = "tinyml " + cmd.get_name();
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->count() == 0 || opt->get_name() == "--help") continue;
    std::string name;
    if (!opt->get_lnames().empty())
      name = "--" + opt->get_lnames().front();
    else if (!opt->get_snames().empty())
      name = "-" + opt->get_snames().front();
    if (opt->get_expected_max() == 0) {  // a flag
      line += " " + name;
      continue;
    }
    for (const std::string& v : opt->results()) line += (name.empty() ? " " : " " + name + " ") + quoted(v);
  }
  return line;
}

// Numbers as a person writes them: decimal, the whole string, no spaces, no hexadecimal. CLI11
// 2.1 converts integers with strtoll(s, 0), which reads "010" as 8 and "0x10" as 16, and reals
// with strtold, which takes leading spaces and hexadecimal; every numeric option of tinyml's
// commands is therefore checked by one of the validators below, which read the text themselves.
template <std::integral Int>
bool read_decimal(const std::string& s, Int& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}
inline bool read_decimal(const std::string& s, double& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}

// Validators with messages that say what is expected. CLI11 prefixes them with the option name
// ("--lr: must be a number > 0, got '-1'"), and parse_and_run returns status 2. An integer must be
// written in canonical form (no leading zero, no '+'), the one form CLI11 converts as it reads.
inline CLI::Validator number_in(double lo, double hi, bool lo_open, const std::string& what) {
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double v = 0.0;
        if (read_decimal(s, v) && (lo_open ? v > lo : v >= lo) && v <= hi) return {};
        return "must be " + what + ", got '" + s + "'";
      },
      what);
}

inline CLI::Validator positive_number() {
  return number_in(0.0, std::numeric_limits<double>::max(), true, "a number > 0");
}

inline CLI::Validator int_in_range(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        long long v = 0;
        const bool read = read_decimal(s, v) && v >= lo && v <= hi;
        if (read && s == std::to_string(v)) return {};
        const std::string expected =
            hi == std::numeric_limits<long long>::max()
                ? "an integer >= " + std::to_string(lo)
                : "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return "must be " + expected + (read ? " written without leading zeros" : "") + ", got '" + s + "'";
      },
      "INT");
}

inline CLI::Validator int_at_least(long long lo) {
  return int_in_range(lo, std::numeric_limits<long long>::max());
}

// A seed: an unsigned 64-bit integer written in decimal digits. CLI11's own conversion turned
// "-1", "18446744073709551616" and "1e23" all into 2^64 - 1.
inline CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        uint64_t v = 0;
        const bool read = read_decimal(s, v);
        if (read && s == std::to_string(v)) return {};
        return std::string("must be an integer in [0, 18446744073709551615]") +
               (read ? " written without leading zeros" : "") + ", got '" + s + "'";
      },
      "UINT64");
}

// A file name that is not empty ("" would silently mean "do not save").
inline CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](std::string& s) -> std::string { return s.empty() ? "must be a file name, got ''" : std::string(); },
      "FILE");
}

inline CLI::Validator fraction_below_one() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0.0;
        if (read_decimal(s, v) && v >= 0.0 && v < 1.0) return {};
        return "must be a number in [0, 1), got '" + s + "'";
      },
      "[0,1)");
}

// The options several commands share, declared once.

// --threads: kernel threads of OpenBLAS and oneDNN (0: all cores; apply_threads bounds it).
inline CLI::Option* add_threads_option(CLI::App* cmd, int& threads) {
  return cmd
      ->add_option("--threads", threads, "kernel threads (OpenBLAS and oneDNN); default 1, 0 = all cores")
      ->check(int_at_least(0))
      ->capture_default_str();
}

// --dataset of a command that reads a model file, which names the dataset it was trained on.
inline CLI::Option* add_model_dataset_option(CLI::App* cmd, std::string& dataset) {
  return cmd
      ->add_option("--dataset", dataset, "fashion-mnist | xor | spirals (default: the one it was trained on)")
      ->check(CLI::IsMember(train::dataset_names()));
}

// --skip: the Linear layers a quantizing command keeps in float.
inline CLI::Option* add_skip_option(CLI::App* cmd, std::string& skip) {
  return cmd->add_option("--skip", skip,
                         "Linear layers kept in float, comma-separated: names like 0,4 or first,last");
}

}  // namespace tinyml::cli
