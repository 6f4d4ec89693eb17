// --benchmark-only: replaces the process with mantis-bench, the project's benchmark suite.
#pragma once

#include <string>
#include <vector>

namespace mantis::server {

// Looks for mantis-bench next to this executable, then in the build tree's bench/ folder
// (../../bench/ and ../bench/ from tools/mantis-server/), then on PATH, and execs it with `args`.
// Returns only on failure, with the exit status to use (127, the message printed).
int exec_mantis_bench(const std::vector<std::string>& args);

}  // namespace mantis::server
