#include "env/fault_injection_env.hpp"

#include <thread>

#include "env/io_status.hpp"

namespace mantis::detail {

// Forwards to the base file, failing where the Env says so and reporting successful syncs back.
class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base) : env_(env), base_(std::move(base)) {}

  Status append(std::string_view data) override {
    if (const int err = env_->take_fault(env_->append_fault_); err != 0) {
      if (!failed_) {
        failed_ = true;
        // The first failure is a torn write: half the bytes reach the file.
        const Status s = base_->append(data.substr(0, data.size() / 2));
        if (!s.ok()) return s;
      }
      return io_status(path(), "write", err);
    }
    return base_->append(data);
  }

  Status sync() override {
    if (const std::int64_t delay = env_->sync_delay_us_.load(); delay > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(delay));
    }
    if (const int err = env_->take_fault(env_->sync_fault_); err != 0) return io_status(path(), "fdatasync", err);
    Status s = base_->sync();
    if (s.ok()) env_->record_sync(path(), size());
    return s;
  }

  Status preallocate(std::uint64_t bytes) override { return base_->preallocate(bytes); }
  Status close() override { return base_->close(); }
  std::uint64_t size() const noexcept override { return base_->size(); }
  const std::string& path() const noexcept override { return base_->path(); }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<WritableFile> base_;
  bool failed_ = false;
};

void FaultInjectionEnv::fail_appends_from(std::uint64_t nth, int err) {
  std::lock_guard lock(mu_);
  append_fault_ = {nth, err};
}

void FaultInjectionEnv::fail_syncs_from(std::uint64_t nth, int err) {
  std::lock_guard lock(mu_);
  sync_fault_ = {nth, err};
}

void FaultInjectionEnv::clear_faults() {
  std::lock_guard lock(mu_);
  append_fault_ = {};
  sync_fault_ = {};
}

int FaultInjectionEnv::take_fault(Fault& fault) {
  std::lock_guard lock(mu_);
  if (fault.countdown == 0) return 0;
  if (fault.countdown > 1) {
    --fault.countdown;
    return 0;
  }
  return fault.err;
}

void FaultInjectionEnv::record_sync(const std::string& path, std::uint64_t size) {
  std::lock_guard lock(mu_);
  durable_size_[path] = size;
}

Status FaultInjectionEnv::drop_unsynced_data() {
  std::lock_guard lock(mu_);
  for (const auto& [path, size] : durable_size_) {
    if (Status s = base_->truncate_file(path, size); !s.ok()) return s;
  }
  return Status::ok_status();
}

Status FaultInjectionEnv::wrap(const std::string& path, Status opened, std::unique_ptr<WritableFile>* file) {
  if (!opened.ok()) return opened;
  {
    std::lock_guard lock(mu_);
    durable_size_.try_emplace(path, (*file)->size());  // what existed before this Env wrote is durable
  }
  *file = std::make_unique<File>(this, std::move(*file));
  return Status::ok_status();
}

Status FaultInjectionEnv::new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) {
  return wrap(path, base_->new_writable_file(path, file), file);
}

Status FaultInjectionEnv::reopen_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) {
  return wrap(path, base_->reopen_writable_file(path, file), file);
}

Status FaultInjectionEnv::rename_and_sync(const std::string& dir, const std::string& from, const std::string& to) {
  Status s = base_->rename_and_sync(dir, from, to);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  if (auto it = durable_size_.find(dir + "/" + from); it != durable_size_.end()) {
    durable_size_[dir + "/" + to] = it->second;
    durable_size_.erase(it);
  }
  return s;
}

Status FaultInjectionEnv::remove_file(const std::string& path) {
  Status s = base_->remove_file(path);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    durable_size_.erase(path);
  }
  return s;
}

Status FaultInjectionEnv::truncate_file(const std::string& path, std::uint64_t size) {
  Status s = base_->truncate_file(path, size);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    if (auto it = durable_size_.find(path); it != durable_size_.end()) it->second = size;
  }
  return s;
}

}  // namespace mantis::detail
