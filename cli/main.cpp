// `tinyml`: train, evaluate, quantize and benchmark tinyml models from the command line.
#include "program.hpp"

int main(int argc, char** argv) { return tinyml::cli::run_program(argc, argv); }
