// The process's resident memory, from /proc/self/status: for the tests that bound memory under churn
// and for mantis-bench's memory columns.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>

namespace mantis::test {

// A field of /proc/self/status given in kB ("VmRSS", "VmHWM"), in bytes; 0 if unavailable.
inline std::size_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return static_cast<std::size_t>(std::stoull(line.substr(field.size() + 1))) * 1024;
    }
  }
  return 0;
}
// Resident set size now (VmRSS), in bytes.
inline std::size_t resident_bytes() { return proc_status_bytes("VmRSS"); }
// Peak resident set size (VmHWM), in bytes.
inline std::size_t peak_resident_bytes() { return proc_status_bytes("VmHWM"); }

}  // namespace mantis::test
