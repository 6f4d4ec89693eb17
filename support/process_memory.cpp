#include "process_memory.hpp"

#include <fstream>

namespace mantis::support {

std::size_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return static_cast<std::size_t>(std::stoull(line.substr(field.size() + 1))) * 1024;
    }
  }
  return 0;
}

std::size_t resident_bytes() { return proc_status_bytes("VmRSS"); }

std::size_t peak_resident_bytes() { return proc_status_bytes("VmHWM"); }

}  // namespace mantis::support
