// The embedded stores mantis-bench can measure beside mantis: LMDB (lmdb_target.cpp) and RocksDB
// (rocksdb_target.cpp), one file each. Both are optional: CMake builds a peer only when its Debian
// package's header and library are found (liblmdb-dev, librocksdb-dev) and then defines
// MANTIS_BENCH_HAVE_LMDB / MANTIS_BENCH_HAVE_ROCKSDB to 1, so runner.cpp and options.cpp know which
// factories exist.
//
// Settings, as the harness opens them (StoreSetup::durability):
//   in-memory run (nullopt): the files live in a scratch directory on the real disk (/var/tmp, never
//     tmpfs), with the settings closest to an in-memory store. LMDB: MDB_NOSYNC|MDB_WRITEMAP|
//     MDB_NOMETASYNC (commits land in a shared mapping; nothing is flushed). RocksDB: memtable only
//     (WAL off, a 4 GiB write buffer that never fills, no automatic compaction).
//   kNone: the same as in-memory, in the --dir filesystem.
//   kAsync, kPeriodic: LMDB MDB_NOSYNC|MDB_WRITEMAP (a commit survives kill -9, not power loss, as
//     mantis's kAsync); RocksDB WAL with WriteOptions::sync = false. Neither has a timed flush, so
//     kPeriodic gets the kAsync settings.
//   kSync: LMDB default flags (fsync at every commit); RocksDB WAL with sync = true (its own group
//     commit).
// Each target creates StoreSetup::dir and removes it, with everything in it, when destroyed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>

#include <mantis/options.hpp>

#include "peers.hpp"

#ifndef MANTIS_BENCH_HAVE_LMDB
#define MANTIS_BENCH_HAVE_LMDB 0
#endif
#ifndef MANTIS_BENCH_HAVE_ROCKSDB
#define MANTIS_BENCH_HAVE_ROCKSDB 0
#endif

namespace mantis::bench {

inline constexpr bool kLmdbBuilt = MANTIS_BENCH_HAVE_LMDB != 0;
inline constexpr bool kRocksDbBuilt = MANTIS_BENCH_HAVE_ROCKSDB != 0;

// In-memory runs put the embedded stores' files here: a disk-backed directory (Debian's /tmp may be
// tmpfs, which would make the page cache and the "disk" one and the same memory).
inline constexpr const char* kScratchRoot = "/var/tmp";

struct StoreSetup {
  std::filesystem::path dir;             // must not exist yet; created by the target, removed with it
  std::optional<Durability> durability;  // nullopt: an in-memory run
  // Upper bound on the bytes of keys and values the run writes into one store: LMDB sizes its map
  // (address space reserved up front; a sparse file) from it.
  std::size_t data_bytes = 0;
  int max_threads = 64;  // LMDB: reader slots (one per thread that ever reads)
};

#if MANTIS_BENCH_HAVE_LMDB
// Throws std::runtime_error when the environment cannot be opened.
std::unique_ptr<KvTarget> make_lmdb_target(const StoreSetup& setup);
#endif
#if MANTIS_BENCH_HAVE_ROCKSDB
// Throws std::runtime_error when the database cannot be opened.
std::unique_ptr<KvTarget> make_rocksdb_target(const StoreSetup& setup);
#endif

}  // namespace mantis::bench
