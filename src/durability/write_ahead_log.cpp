#include "durability/write_ahead_log.hpp"

#include "durability/group_commit_log.hpp"
#include "durability/mapped_log.hpp"

namespace mantis::detail {

Status WriteAheadLog::open(const Config& config, std::uint64_t segment, std::uint64_t next_lsn,
                           std::unique_ptr<WriteAheadLog>* out) {
  if (!config.sync_every_write) {
    Status s = MappedLog::open(config, segment, next_lsn, out);
    if (!s.is_not_supported()) return s;  // NotSupported: the Env maps no files, and created none
  }
  return GroupCommitLog::open(config, segment, next_lsn, out);
}

}  // namespace mantis::detail
