// The names of the files in a data directory, and their parsing.
//
//   LOCK                 the directory lock (env/file_lock.hpp)
//   MANIFEST             which snapshot and which log segments make up the current state
//   snap-<lsn>.snap      a snapshot holding every write up to and including LSN <lsn> (decimal)
//   wal/000007.log       log segment 7 (at least six digits, zero-padded; u32 range)
//   <name>.tmp           a file being written, renamed over <name> once complete and synced
//
// All functions are thread-safe and pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mantis::detail {

inline constexpr std::string_view kManifestFileName = "MANIFEST";
inline constexpr std::string_view kWalDirName = "wal";
inline constexpr std::string_view kTempSuffix = ".tmp";

// "wal/000007.log", relative to the data directory.
std::string log_file_name(std::uint64_t segment);
// "snap-42.snap".
std::string snapshot_file_name(std::uint64_t lsn);
// "<name>.tmp".
std::string temp_file_name(std::string_view name);

enum class FileKind { kLog, kSnapshot, kManifest, kLock, kTemp, kUnknown };

// What the directory entry `name` (a bare name, as list_dir returns it: "000007.log" inside wal/,
// "snap-42.snap" in the data directory) is. *number gets the segment for kLog and the LSN for
// kSnapshot, 0 otherwise. Strict: "7.log", "000007.log.bak", "snap-.snap" and overflowing numbers are
// kUnknown.
FileKind parse_file_name(std::string_view name, std::uint64_t* number);

}  // namespace mantis::detail
