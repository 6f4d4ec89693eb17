// Process-level helpers for mantis-bench: resident memory from /proc/self/status and running a
// measurement in a forked child so that its memory is the only thing in the process.
//
// run_in_child() forks: call it only while the process has no other thread that could hold a lock
// (no open Engine, whose reaper is a thread; no running workers). The child may start threads.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>

#include "process_memory.hpp"

namespace mantis::bench {

using support::peak_resident_bytes;
using support::resident_bytes;

// Resets VmHWM to the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs). False if refused, in
// which case VmHWM stays the peak of the whole process lifetime.
inline bool reset_peak_resident() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

// Runs fn() in a forked child and returns its result, or nullopt if the child failed (threw, crashed
// or was killed). Result must be trivially copyable: it crosses a pipe as bytes.
template <class Fn>
auto run_in_child(Fn&& fn) -> std::optional<decltype(fn())> {
  using Result = decltype(fn());
  static_assert(std::is_trivially_copyable_v<Result>, "the result is sent through a pipe as raw bytes");
  int fds[2];
  if (pipe(fds) != 0) return std::nullopt;
  std::fflush(stdout);  // or the child's exit would print the parent's buffered output twice
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    close(fds[0]);
    int code = 1;
    try {
      const Result result = fn();
      const auto* bytes = reinterpret_cast<const char*>(&result);
      std::size_t written = 0;
      while (written < sizeof(Result)) {
        const ssize_t n = write(fds[1], bytes + written, sizeof(Result) - written);
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
      }
      code = written == sizeof(Result) ? 0 : 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mantis-bench: child failed: %s\n", e.what());
    }
    _exit(code);  // skips atexit handlers and static destructors that belong to the parent
  }
  close(fds[1]);
  Result result{};
  auto* bytes = reinterpret_cast<char*>(&result);
  std::size_t received = 0;
  while (received < sizeof(Result)) {
    const ssize_t n = read(fds[0], bytes + received, sizeof(Result) - received);
    if (n <= 0) break;
    received += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (received != sizeof(Result) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return result;
}

}  // namespace mantis::bench
