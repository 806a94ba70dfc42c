// Fuzz target: the `tinyml` command line (cli/), parsed exactly as main() parses it, without running
// any command. The input is the argument list, split on NUL or newline bytes.
//
// Every subcommand of cli/commands.hpp is registered. Commands run from their callbacks, and a
// callback owns the struct its options write into (it captures the only shared_ptr to it), so
// replacing the callbacks with no-ops would free that struct before parsing fills it. Instead the
// root's parse-complete callback, which CLI11 runs after every option has been converted and
// validated but before any subcommand's callback, throws a private token that ends the parse.
//
// Allowed outcomes: CLI::ParseError (reported by main with status 2; its message and the help
// text are rendered here too) and tinyml::Error. Anything else is a finding. For each option that
// was given and carries one of the validators of cli/commands.hpp, the value the command would
// receive must satisfy that validator (a validator and the option's own conversion could disagree).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "fuzz_common.hpp"

namespace {

struct ParsedToTheEnd {};

// The value `opt` would hand to the command satisfies the validator it was declared with.
void check_validated_value(CLI::Option* opt) {
  if (opt->count() == 0 || opt->get_items_expected_max() != 1) return;
  std::string desc;
  try {
    desc = opt->get_validator()->get_description();
  } catch (const CLI::OptionNotFound&) {
    return;  // no validator
  }
  if (desc == "POSITIVE") {
    const auto v = opt->as<double>();
    FUZZ_CHECK(std::isfinite(v) && v > 0.0);
  } else if (desc == "[0,1)") {
    const auto v = opt->as<double>();
    FUZZ_CHECK(v >= 0.0 && v < 1.0);
  } else if (desc.rfind("INT>=", 0) == 0) {
    const long long lo = std::stoll(desc.substr(5));
    FUZZ_CHECK(opt->as<long long>() >= lo);
  }
}

void check_parsed(CLI::App* app) {
  for (CLI::Option* opt : app->get_options()) check_validated_value(opt);
  for (CLI::App* sub : app->get_subcommands()) check_parsed(sub);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"tinyml"};
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') {
      args.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (size > 0) args.push_back(current);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());

  // The command line of cli/program.cpp.
  CLI::App app{"tinyml"};
  tinyml::cli::register_all(app);
  app.parse_complete_callback([] { throw ParsedToTheEnd{}; });

  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    FUZZ_CHECK(false);  // parsing always ends in the callback or an error
  } catch (const ParsedToTheEnd&) {
    check_parsed(&app);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);  // what main prints: help, or the message naming the option
  } catch (const tinyml::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception (not CLI::ParseError or tinyml::Error): %s\n", e.what());
    std::abort();
  }
  return 0;
}
