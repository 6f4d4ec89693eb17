// The `rocksdb` peer: RocksDB 7.8 (librocksdb-dev), the default column family, used as its own
// documentation says (one rocksdb::DB shared by all threads, no thread attachment).
//
// Memtable: a 4 GiB write buffer, which no run here fills, and no automatic compaction, so every key
// stays in the memtable (a concurrent skiplist) and reads never touch a file. In-memory runs also turn
// the WAL off (WriteOptions::disableWAL): nothing is written to disk at all. Durable runs keep the same
// memtable and add the WAL (sync false or true), which is mantis's own shape: an in-memory index plus
// a log. Closing skips the flush to SST files (avoid_flush_during_shutdown): the directory is removed.
// Scans: a fresh iterator per scan (Seek, then Next), as RocksDB's YCSB binding does.
// snapshot_get: GetSnapshot, Get at it, ReleaseSnapshot.
// No compare_and_set or increment: atomic read-modify-write needs a TransactionDB (or a merge operator
// that changes what reads return), which is another product than the DB measured here.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "embedded_stores.hpp"

namespace mantis::bench {
namespace {

rocksdb::Slice as_slice(std::string_view bytes) { return {bytes.data(), bytes.size()}; }

class RocksDbTarget final : public KvTarget {
 public:
  explicit RocksDbTarget(const StoreSetup& setup) : dir_(setup.dir) {
    std::filesystem::create_directories(dir_);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.error_if_exists = true;
    options.write_buffer_size = std::size_t{4} << 30;
    options.disable_auto_compactions = true;
    options.avoid_flush_during_shutdown = true;
    const bool logged = setup.durability && *setup.durability != Durability::kNone;
    write_options_.disableWAL = !logged;
    write_options_.sync = logged && *setup.durability == Durability::kSync;
    rocksdb::DB* db = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(options, dir_.string(), &db);
    if (!status.ok()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw std::runtime_error("rocksdb::DB::Open " + dir_.string() + ": " + status.ToString());
    }
    db_.reset(db);
  }
  ~RocksDbTarget() override {
    if (db_) static_cast<void>(db_->Close());
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  RocksDbTarget(const RocksDbTarget&) = delete;
  RocksDbTarget& operator=(const RocksDbTarget&) = delete;

  bool put(std::string_view key, std::string_view value) override {
    return db_->Put(write_options_, as_slice(key), as_slice(value)).ok();
  }
  Lookup get(std::string_view key, std::string* value) override {
    const rocksdb::Status status = db_->Get(read_options_, as_slice(key), value);
    if (status.ok()) return Lookup::kFound;
    return status.IsNotFound() ? Lookup::kMissing : Lookup::kError;
  }
  std::size_t scan(std::string_view start, std::size_t limit) override {
    const std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_));
    std::size_t visited = 0;
    for (it->Seek(as_slice(start)); it->Valid() && visited < limit; it->Next()) ++visited;
    return it->status().ok() ? visited : 0;
  }
  bool supports_scan() const override { return true; }
  bool atomic_overwrite() const override { return true; }
  Lookup snapshot_get(std::string_view key, std::string* value) override {
    rocksdb::ReadOptions at = read_options_;
    at.snapshot = db_->GetSnapshot();
    const rocksdb::Status status = db_->Get(at, as_slice(key), value);
    db_->ReleaseSnapshot(at.snapshot);
    if (status.ok()) return Lookup::kFound;
    return status.IsNotFound() ? Lookup::kMissing : Lookup::kError;
  }
  bool supports_snapshots() const override { return true; }

 private:
  const std::filesystem::path dir_;
  rocksdb::WriteOptions write_options_;
  const rocksdb::ReadOptions read_options_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<KvTarget> make_rocksdb_target(const StoreSetup& setup) {
  return std::make_unique<RocksDbTarget>(setup);
}

}  // namespace mantis::bench
