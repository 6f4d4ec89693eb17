// Commands' key access: the engine outside EXEC, EXEC's Transaction inside it (key_access.hpp).
#include "key_access.hpp"

namespace mantis::server {

using std::chrono::milliseconds;

Status Commands::read(std::string_view key, std::string* value) {
  return tx_ != nullptr ? tx_->txn.get(key, value) : state_.engine.get(key, value);
}

Status Commands::read_ttl(std::string_view key, std::optional<milliseconds>* remaining) {
  if (tx_ == nullptr) return state_.engine.ttl(key, remaining);
  std::string value;
  Status s = tx_->txn.get(key, &value);  // present in the transaction's view? (and a read it commits on)
  if (!s.ok()) return s;
  if (const auto written = tx_->written_expiry.find(std::string(key)); written != tx_->written_expiry.end()) {
    // Its TTL counts from the commit: never below 1 ms before it.
    *remaining = written->second ? std::optional(milliseconds(std::max<std::int64_t>(1, *written->second - wall_clock_ms())))
                                 : std::nullopt;
    return Status::ok_status();
  }
  s = state_.engine.ttl(key, remaining);
  if (s.is_not_found()) {
    // Present at the snapshot, gone now: erased (the commit will conflict) or expired since. Either
    // way this attempt cannot know the TTL; EXEC starts over at a new snapshot.
    tx_->start_over = true;
    return Status::conflict("key expired or erased during EXEC");
  }
  return s;
}

Status Commands::write(std::string_view key, std::string_view value, const WriteOptions& options) {
  if (tx_ == nullptr) return state_.engine.put(key, value, options);
  // The Transaction has no keep_ttl: the key's TTL, if it is present, is carried over by hand.
  WriteOptions txn_options;
  txn_options.ttl = options.ttl;
  if (options.keep_ttl) {
    std::optional<milliseconds> remaining;
    const Status s = read_ttl(key, &remaining);
    if (s.ok()) {
      txn_options.ttl = remaining.value_or(milliseconds(0));
    } else if (!s.is_not_found()) {
      return s;
    }
  }
  const Status s = tx_->txn.put(key, value, txn_options);
  if (!s.ok()) return s;
  tx_->written_expiry[std::string(key)] =
      txn_options.ttl.count() > 0 ? std::optional(wall_clock_ms() + txn_options.ttl.count()) : std::nullopt;
  return s;
}

Status Commands::remove(std::string_view key, bool* removed) {
  if (tx_ == nullptr) return state_.engine.erase(key, removed);
  std::string value;
  Status s = tx_->txn.get(key, &value);
  if (!s.ok() && !s.is_not_found()) return s;
  *removed = s.ok();
  if (!*removed) return Status::ok_status();
  tx_->written_expiry.erase(std::string(key));
  return tx_->txn.erase(key);
}

}  // namespace mantis::server
