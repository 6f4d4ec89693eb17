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
  std::vector<std::string> candidates;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = self.parent_path();
    for (const fs::path& p : {dir / "mantis-bench", dir / "../../bench/mantis-bench", dir / "../bench/mantis-bench"}) {
      candidates.push_back(p.lexically_normal().string());
    }
  }
  std::vector<char*> argv;
  std::string name = "mantis-bench";
  argv.push_back(name.data());
  std::vector<std::string> owned(args);
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (const std::string& path : candidates) {
    if (::access(path.c_str(), X_OK) == 0) {
      ::execv(path.c_str(), argv.data());
      std::fprintf(stderr, "mantis-server: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
      return 127;
    }
  }
  ::execvp("mantis-bench", argv.data());  // returns only if not found on PATH either
  std::fprintf(stderr,
               "mantis-server: --benchmark-only needs mantis-bench, which was not found next to this program, in "
               "the build tree's bench/ folder or on PATH (build it: cmake --build build --target mantis_bench)\n");
  return 127;
}

}  // namespace mantis::server
