// The process's resident memory, from /proc/self/status: for the tests that bound memory under churn
// and for mantis-bench's memory columns.
#pragma once

#include <cstddef>
#include <string>

namespace mantis::support {

// A field of /proc/self/status given in kB ("VmRSS", "VmHWM"), in bytes; 0 if unavailable.
std::size_t proc_status_bytes(const std::string& field);
// Resident set size now (VmRSS), in bytes.
std::size_t resident_bytes();
// Peak resident set size (VmHWM), in bytes.
std::size_t peak_resident_bytes();

}  // namespace mantis::support
