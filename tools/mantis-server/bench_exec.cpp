#include "bench_exec.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace mantis::server {

int exec_mantis_bench(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(self.parent_path() / "mantis-bench");
  candidates.push_back(fs::path(MANTIS_INSTALL_BINDIR) / "mantis-bench");

  std::vector<char*> argv;
  std::string name = "mantis-bench";
  argv.push_back(name.data());
  std::vector<std::string> owned(args);
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (const fs::path& path : candidates) {
    if (::access(path.c_str(), X_OK) == 0) {
      ::execv(path.c_str(), argv.data());
      std::fprintf(stderr, "mantis-server: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
      return 127;
    }
  }
  ::execvp("mantis-bench", argv.data());  // returns only if not found on PATH either
  std::fprintf(stderr,
               "mantis-server: --benchmark-only needs mantis-bench, which was not found next to this program (%s), "
               "in %s or on PATH (build it: cmake --build build --target mantis_bench; install it: cmake --install)\n",
               ec ? "unknown" : self.parent_path().c_str(), MANTIS_INSTALL_BINDIR);
  return 127;
}

}  // namespace mantis::server
