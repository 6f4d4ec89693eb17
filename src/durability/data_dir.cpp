#include "durability/data_dir.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "durability/file_names.hpp"
#include "durability/log_reader.hpp"
#include "durability/log_record.hpp"
#include "durability/lsn_chain.hpp"
#include "durability/snapshot_format.hpp"
#include "durability/snapshot_reader.hpp"
#include "durability/snapshot_writer.hpp"

namespace mantis::detail {
namespace {

// Every entry the engine accepts fits a snapshot chunk: the largest key plus the largest value plus its
// Record's framing (a few dozen bytes; 1 MiB of slack).
static_assert(Options::kMaxKeySizeLimit + Options::kMaxValueSizeLimit + (std::uint64_t{1} << 20) <=
                  kMaxSnapshotEntryBytes,
              "the largest key and value must fit one snapshot entry");

// The log segment numbers in <dir>/wal, ascending.
Status list_segments(Env* env, const std::string& wal_dir, std::vector<std::uint64_t>* segments) {
  std::vector<std::string> names;
  Status s = env->list_dir(wal_dir, &names);
  if (!s.ok()) return s;
  for (const std::string& name : names) {
    std::uint64_t number = 0;
    if (parse_file_name(name, &number) == FileKind::kLog) segments->push_back(number);
  }
  std::sort(segments->begin(), segments->end());
  return Status::ok_status();
}

}  // namespace

Status DataDir::open(const Options& options, Env* env, DataDirHost& host, Recovered* recovered,
                     std::unique_ptr<DataDir>* out) {
  const std::string dir = options.dir.string();
  std::error_code error;
  if (!std::filesystem::is_directory(options.dir, error)) {
    if (std::filesystem::exists(options.dir, error)) {
      return Status::invalid_argument("Options::dir: " + dir + " exists and is not a directory");
    }
    if (!options.create_if_missing) {
      return Status::invalid_argument("Options::dir: " + dir + " does not exist and create_if_missing is false");
    }
    Status s = env->create_dir(dir);
    if (!s.ok()) return s;
  }
  std::unique_ptr<FileLock> lock;
  Status s = env->lock_dir(dir, &lock);
  if (!s.ok()) return s;
  Manifest manifest;
  bool exists = false;
  s = read_manifest(env, dir, &manifest, &exists);
  if (!s.ok()) return s;
  const std::string wal_dir = dir + "/" + std::string(kWalDirName);
  if (exists) {
    if (options.error_if_exists) {
      return Status::invalid_argument("Options::error_if_exists: " + dir + " already holds a database");
    }
  } else {
    // A directory with log segments or snapshots but no MANIFEST lost it: never start over on top of it.
    std::vector<std::string> names;
    s = env->list_dir(dir, &names);
    if (!s.ok()) return s;
    for (const std::string& name : names) {
      std::uint64_t number = 0;
      if (name == kWalDirName || parse_file_name(name, &number) == FileKind::kSnapshot) {
        return Status::corruption(dir + ": holds " + name + " but no " + std::string(kManifestFileName));
      }
    }
    s = env->create_dir(wal_dir);
    if (s.ok()) s = write_manifest(env, dir, manifest);  // also makes wal/'s entry durable
    if (!s.ok()) return s;
  }
  s = env->create_dir(wal_dir);
  if (!s.ok()) return s;

  std::unique_ptr<DataDir> data_dir(new DataDir(options, env, host, std::move(lock), manifest));
  s = data_dir->recover(recovered);
  if (!s.ok()) return s;
  data_dir->background_ = std::thread([raw = data_dir.get()] { raw->background(); });
  *out = std::move(data_dir);
  return Status::ok_status();
}

DataDir::DataDir(const Options& options, Env* env, DataDirHost& host, std::unique_ptr<FileLock> lock, Manifest manifest)
    : options_(options),
      env_(env),
      dir_(options.dir.string()),
      host_(host),
      lock_(std::move(lock)),
      manifest_(manifest) {}

DataDir::~DataDir() { static_cast<void>(close()); }

Status DataDir::close() {
  {
    std::lock_guard<std::mutex> lock(background_mutex_);
    stopping_ = true;
  }
  background_wake_.notify_all();
  if (background_.joinable()) background_.join();
  Status s;
  if (!recovered_) {
    // open() failed: nothing of this session may reach the disk.
  } else if (wal_ == nullptr) {
    s = checkpoint();  // kNone: the store persists only through snapshots
  } else {
    s = wal_->close();
  }
  std::lock_guard<std::mutex> lock(checkpoint_mutex_);
  closed_ = true;
  return s;
}

Status DataDir::recover(Recovered* recovered) {
  using SteadyClock = std::chrono::steady_clock;
  const auto seconds_since = [](SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
  };
  auto start = SteadyClock::now();
  if (manifest_.snapshot_lsn != 0) {
    Status s = load_snapshot(recovered);
    if (!s.ok()) return s;
    recovered->snapshot_seconds = seconds_since(start);
  }
  start = SteadyClock::now();
  std::uint64_t next_segment = 0;
  Status s = replay_log(recovered, &next_segment);
  if (!s.ok()) return s;
  recovered->log_seconds = seconds_since(start);
  if (options_.durability != Durability::kNone) {
    WriteAheadLog::Config config;
    config.env = env_;
    config.dir = dir_;
    config.sync_every_write = options_.durability == Durability::kSync;
    s = WriteAheadLog::open(config, next_segment, next_lsn_, &wal_);
    if (!s.ok()) return s;
  }
  next_segment_ = next_segment;
  remove_obsolete_files();
  recovered_ = true;
  return Status::ok_status();
}

Status DataDir::load_snapshot(Recovered* recovered) {
  const std::string name = snapshot_file_name(manifest_.snapshot_lsn);
  std::unique_ptr<SnapshotReader> reader;
  Status s = SnapshotReader::open(env_, dir_ + "/" + name, name, &reader);
  if (!s.ok()) return s;
  if (reader->lsn() != manifest_.snapshot_lsn) {
    return Status::corruption(name + " offset 0: holds LSN " + std::to_string(reader->lsn()) + ", the " +
                              std::string(kManifestFileName) + " names " + std::to_string(manifest_.snapshot_lsn));
  }
  snapshot_bytes_.store(reader->file()->size(), std::memory_order_relaxed);
  return host_.load_snapshot(*reader, name, &recovered->snapshot_entries);
}

Status DataDir::replay_log(Recovered* recovered, std::uint64_t* next_segment) {
  std::vector<std::uint64_t> segments;
  Status s = list_segments(env_, dir_ + "/" + std::string(kWalDirName), &segments);
  if (!s.ok()) return s;
  // Older segments are leftovers of a checkpoint that did not finish deleting them.
  segments.erase(segments.begin(), std::lower_bound(segments.begin(), segments.end(), manifest_.first_log_segment));
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::uint64_t expected = manifest_.first_log_segment + i;
    if (segments[i] != expected) return Status::corruption(log_file_name(expected) + " is missing");
  }
  LsnChain chain(manifest_.snapshot_lsn + 1);
  std::string torn_path;
  std::uint64_t torn_end = 0;
  LogRecord record;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string name = log_file_name(segments[i]);
    std::shared_ptr<const MappedFile> file;
    s = env_->map_file(dir_ + "/" + name, &file);
    if (!s.ok()) return s;
    LogReader reader(file->data(), name, segments[i], /*last_segment=*/i + 1 == segments.size());
    std::string_view payload;
    while (reader.read(&payload)) {
      s = decode_log_record(payload, &record);
      if (s.ok()) s = chain.accept(record.lsn);
      for (std::size_t op = 0; op < record.ops.size() && s.ok(); ++op) s = host_.replay(record.ops[op]);
      if (!s.ok()) return located(reader.location(reader.record_offset()), s);
      ++recovered->log_records;
    }
    if (!reader.status().ok()) return reader.status();
    if (reader.torn_tail()) {
      torn_path = dir_ + "/" + name;
      torn_end = reader.valid_end();
    }
  }
  s = host_.finish_replay();
  if (!s.ok()) return s;
  next_lsn_ = chain.expected();
  *next_segment = segments.empty() ? manifest_.first_log_segment : segments.back() + 1;
  // Only now that every file has verified: cut the torn write off the end of the last segment.
  if (!torn_path.empty()) return env_->truncate_file(torn_path, torn_end);
  return Status::ok_status();
}

void DataDir::remove_obsolete_files() {
  std::vector<std::string> names;
  if (env_->list_dir(dir_, &names).ok()) {
    for (const std::string& name : names) {
      std::uint64_t number = 0;
      const FileKind kind = parse_file_name(name, &number);
      if ((kind == FileKind::kSnapshot && number != manifest_.snapshot_lsn) || kind == FileKind::kTemp) {
        static_cast<void>(env_->remove_file(dir_ + "/" + name));
      }
    }
  }
  const std::string wal_dir = dir_ + "/" + std::string(kWalDirName);
  std::vector<std::uint64_t> segments;
  if (list_segments(env_, wal_dir, &segments).ok()) {
    for (std::uint64_t segment : segments) {
      if (segment < manifest_.first_log_segment)
        static_cast<void>(env_->remove_file(dir_ + "/" + log_file_name(segment)));
    }
  }
}

Status DataDir::write(std::string* payload, bool sync, WriteAheadLog::Apply apply) {
  if (wal_ != nullptr) return wal_->write(payload, sync, apply);
  unlogged_writes_.fetch_add(1, std::memory_order_relaxed);
  return apply(0);
}

Status DataDir::sync() {
  if (wal_ != nullptr) return wal_->sync();
  return checkpoint();
}

Status DataDir::checkpoint() {
  std::lock_guard<std::mutex> lock(checkpoint_mutex_);
  if (closed_) return Status::closed("checkpoint: the engine is closed");
  return checkpoint_locked();
}

Status DataDir::checkpoint_locked() {
  std::uint64_t lsn = 0;
  std::uint64_t first_segment = 0;
  if (wal_ != nullptr) {
    if (wal_->last_lsn() == manifest_.snapshot_lsn) return wal_->error();  // nothing logged since
    Status s = wal_->rotate(&lsn, &first_segment);
    if (!s.ok()) return s;
  } else {
    const std::uint64_t writes = unlogged_writes_.exchange(0, std::memory_order_relaxed);
    if (writes == 0 && manifest_.snapshot_lsn != 0) return Status::ok_status();
    lsn = manifest_.snapshot_lsn + std::max<std::uint64_t>(writes, 1);
    first_segment = next_segment_;
  }
  std::unique_ptr<SnapshotWriter> writer;
  Status s = SnapshotWriter::create(env_, dir_, lsn, &writer);
  if (!s.ok()) return s;
  s = host_.write_snapshot(*writer);
  if (!s.ok()) return s;
  s = writer->finish();
  if (!s.ok()) return s;
  snapshot_bytes_.store(writer->bytes(), std::memory_order_relaxed);
  Manifest next;
  next.snapshot_lsn = lsn;
  next.first_log_segment = first_segment;
  s = write_manifest(env_, dir_, next);
  if (!s.ok()) return s;
  manifest_ = next;
  remove_obsolete_files();
  return Status::ok_status();
}

Status DataDir::backup(const std::string& target) {
  if (wal_ == nullptr) {
    return Status::not_supported(
        "backup: Durability::kNone keeps no log, so a copy taken while writes go on cannot be made "
        "consistent (checkpoint(), then copy the directory while nothing writes)");
  }
  std::error_code error;
  if (std::filesystem::exists(target, error) && !std::filesystem::is_empty(target, error)) {
    return Status::invalid_argument("backup: " + target + " exists and is not an empty directory");
  }
  if (std::filesystem::equivalent(target, dir_, error)) {
    return Status::invalid_argument("backup: " + target + " is the engine's own directory");
  }
  std::lock_guard<std::mutex> lock(checkpoint_mutex_);
  if (closed_) return Status::closed("backup: the engine is closed");
  Status s = checkpoint_locked();
  if (!s.ok()) return s;
  std::uint64_t end_lsn = 0;
  std::uint64_t end_segment = 0;
  s = wal_->rotate(&end_lsn, &end_segment);
  if (!s.ok()) return s;
  const std::string target_wal = target + "/" + std::string(kWalDirName);
  s = env_->create_dir(target);
  if (s.ok()) s = env_->create_dir(target_wal);
  if (!s.ok()) return s;
  auto copy = [&](const std::string& name) {
    std::shared_ptr<const MappedFile> from;
    Status c = env_->map_file(dir_ + "/" + name, &from);
    std::unique_ptr<WritableFile> to;
    if (c.ok()) c = env_->new_writable_file(target + "/" + name, &to);
    if (c.ok()) c = to->append(from->data());
    if (c.ok()) c = to->sync();
    if (c.ok()) c = to->close();
    return c;
  };
  if (manifest_.snapshot_lsn != 0) s = copy(snapshot_file_name(manifest_.snapshot_lsn));
  for (std::uint64_t segment = manifest_.first_log_segment; s.ok() && segment < end_segment; ++segment) {
    s = copy(log_file_name(segment));
  }
  if (s.ok()) s = env_->sync_dir(target_wal);
  if (s.ok()) s = env_->sync_dir(target);
  if (s.ok()) s = write_manifest(env_, target, manifest_);
  return s;
}

void DataDir::background() {
  using SteadyClock = std::chrono::steady_clock;
  const bool periodic = options_.durability == Durability::kPeriodic && wal_ != nullptr;
  const auto tick = periodic ? std::min<std::chrono::milliseconds>(options_.sync_interval, std::chrono::seconds(1))
                             : std::chrono::milliseconds(1000);
  auto next_sync = SteadyClock::now() + options_.sync_interval;
  std::unique_lock<std::mutex> lock(background_mutex_);
  while (!background_wake_.wait_for(lock, tick, [this] { return stopping_; })) {
    lock.unlock();
    if (periodic && SteadyClock::now() >= next_sync) {
      static_cast<void>(wal_->sync());  // a failure is sticky in the log: the next write reports it
      next_sync = SteadyClock::now() + options_.sync_interval;
    }
    if (wal_ != nullptr &&
        wal_->bytes_since_rotate() > std::max(kCheckpointFloorBytes, snapshot_bytes_.load(std::memory_order_relaxed))) {
      static_cast<void>(checkpoint());
    }
    lock.lock();
  }
}

}  // namespace mantis::detail
