// FaultInjectionEnv: an Env for tests that makes the disk fail on cue and can simulate a power cut.
//
// It forwards to a base Env and adds:
//  - fail_appends_from(n, err): the n-th append from now (1 = the next one), across all files, and every
//    later one fail with `err` (ENOSPC, EIO, ...) until clear_faults(). The first failing append of each
//    file writes the first half of its data, like a disk that fills up in the middle of a write; later
//    ones write nothing.
//  - fail_syncs_from(n, err): the same for sync() (nothing is made durable by a failing sync).
//  - slow_syncs(d): every sync() from now takes at least d longer (a slow disk).
//  - drop_unsynced_data(): truncates every file written through this Env back to the size it had at its
//    last successful sync (or when it was opened), which is what survives a power cut on a disk that
//    loses its volatile cache. Directory entries are treated as always durable.
//
// Thread-safe. REQUIRES: outlives every file it hands out.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "env/env.hpp"

namespace mantis::detail {

class FaultInjectionEnv final : public Env {
 public:
  // `base` is not owned and must outlive this Env.
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  void fail_appends_from(std::uint64_t nth, int err);
  void fail_syncs_from(std::uint64_t nth, int err);
  void slow_syncs(std::chrono::microseconds delay) noexcept { sync_delay_us_.store(delay.count()); }
  void clear_faults();
  // Truncates each tracked file to its durable size. IOError from the base Env if a truncate fails.
  Status drop_unsynced_data();

  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) override;
  Status reopen_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) override;
  // Faults are injected into write calls, and stores into a mapping are none: the log writes with calls.
  Status new_mapped_file(const std::string& path, std::uint64_t, std::unique_ptr<MappedWritableFile>*) override {
    return Status::not_supported(path + ": the fault-injecting Env hands out no mapped files");
  }
  Status map_file(const std::string& path, std::shared_ptr<const MappedFile>* file) override {
    return base_->map_file(path, file);
  }
  Status create_dir(const std::string& path) override { return base_->create_dir(path); }
  Status sync_dir(const std::string& path) override { return base_->sync_dir(path); }
  Status list_dir(const std::string& dir, std::vector<std::string>* names) override {
    return base_->list_dir(dir, names);
  }
  Status rename_and_sync(const std::string& dir, const std::string& from, const std::string& to) override;
  Status remove_file(const std::string& path) override;
  Status truncate_file(const std::string& path, std::uint64_t size) override;
  Status lock_dir(const std::string& dir, std::unique_ptr<FileLock>* lock) override {
    return base_->lock_dir(dir, lock);
  }

 private:
  class File;
  // A countdown to a fault: 0 = none armed; the call that brings it to 1 and every later one fail.
  struct Fault {
    std::uint64_t countdown = 0;
    int err = 0;
  };

  Status wrap(const std::string& path, Status opened, std::unique_ptr<WritableFile>* file);
  // The errno the next call of this kind must fail with, or 0. Counts the call.
  int take_fault(Fault& fault);
  void record_sync(const std::string& path, std::uint64_t size);

  Env* const base_;
  std::mutex mu_;
  Fault append_fault_;
  Fault sync_fault_;
  std::atomic<std::int64_t> sync_delay_us_{0};
  std::map<std::string, std::uint64_t> durable_size_;  // path -> bytes that survive a power cut
};

}  // namespace mantis::detail
