// --benchmark-only: replaces the process with mantis-bench, the project's benchmark suite.
#pragma once

#include <string>
#include <vector>

namespace mantis::server {

// Execs mantis-bench with `args`, found by one rule: next to this executable, then in the install's
// bindir (MANTIS_INSTALL_BINDIR, where `cmake --install` puts both programs), then on PATH.
// Returns only on failure, with the exit status to use (127, the message printed).
int exec_mantis_bench(const std::vector<std::string>& args);

}  // namespace mantis::server
