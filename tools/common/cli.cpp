#include "cli.hpp"

#include <cstdio>
#include <vector>

#include "durability.hpp"

namespace mantis::tools {

int usage_error(const CLI::App& app, const std::string& message) {
  const std::string& tool = app.get_name();
  std::fprintf(stderr, "%s: %s\n(try %s --help)\n", tool.c_str(), message.c_str(), tool.c_str());
  return kExitUsage;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end the parse with a "success" error: CLI11 prints them on stdout.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return usage_error(app, e.what());
  }
  return std::nullopt;
}

CLI::Option* add_durability_option(CLI::App& app, std::string* name, const std::string& description) {
  const std::vector<std::string> names(kDurabilityNames.begin(), kDurabilityNames.end());
  return app.add_option("--durability", *name, description)->check(CLI::IsMember(names));
}

}  // namespace mantis::tools
