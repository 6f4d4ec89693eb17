// The command-line conventions mantis-tool, mantis-server and mantis-bench share, over CLI11:
// `--help` (and `--version` where a tool has one) print on stdout and exit 0; a usage error prints
// "<tool>: <what is wrong>" and "(try <tool> --help)" on stderr and exits kExitUsage.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace mantis::tools {

constexpr int kExitUsage = 2;

// Parses argv with `app` (its name is the tool's). nullopt: go on; otherwise the exit status to
// return, what there was to say already printed.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Prints a usage error found after parsing (a rule CLI11 does not check) as parse_command_line
// does, and returns kExitUsage.
int usage_error(const CLI::App& app, const std::string& message);

// --durability NAME into *name, checked against kDurabilityNames (durability.hpp).
CLI::Option* add_durability_option(CLI::App& app, std::string* name, const std::string& description);

}  // namespace mantis::tools
