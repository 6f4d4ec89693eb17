// Manifest: which snapshot and which log segments make up a data directory's state.
//
// The MANIFEST file is four lines of text, so that a person can read it:
//
//   mantis-manifest 1
//   snapshot <lsn>       the snapshot snap-<lsn>.snap holds every write up to LSN <lsn>; 0 = no snapshot
//   log <segment>        replay starts at segment wal/<segment>.log; every later segment follows it
//   crc <8 hex digits>   masked CRC32C (crc32c.hpp) of the three lines above, newlines included
//
// It is replaced atomically: written to MANIFEST.tmp, fdatasync'ed, renamed over MANIFEST, and the
// directory fsync'ed. A reader accepts exactly this format and nothing else.
#pragma once

#include <cstdint>
#include <string>

#include <mantis/status.hpp>

#include "env/env.hpp"

namespace mantis::detail {

struct Manifest {
  std::uint64_t snapshot_lsn = 0;       // 0: no snapshot
  std::uint64_t first_log_segment = 1;  // the oldest segment recovery replays

  // The file's bytes.
  std::string encode() const;
  // Parses `contents`. Corruption "MANIFEST offset N: <what>" for anything but the exact format.
  static Status decode(std::string_view contents, Manifest* out);
};

// Writes `manifest` to <dir>/MANIFEST atomically and durably (see above). IOError naming the file.
Status write_manifest(Env* env, const std::string& dir, const Manifest& manifest);
// Reads <dir>/MANIFEST. *exists is false (and OK returned) when the directory has no MANIFEST.
Status read_manifest(Env* env, const std::string& dir, Manifest* manifest, bool* exists);

}  // namespace mantis::detail
