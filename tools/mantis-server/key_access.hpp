// The two modes of the commands' key access (see Commands::read and the members after it): the
// engine's latest state and conditional writes outside EXEC, EXEC's Transaction inside it. Private to
// the commands' files; the templates are here so that each command file can instantiate them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <mantis/engine.hpp>
#include <mantis/transaction.hpp>

#include "commands.hpp"
#include "resp_writer.hpp"

namespace mantis::server {

// An engine failure as an error reply: "ERR " and the Status ("ERR NotSupported: ...").
inline void reply_status(const Status& status, std::string* out) {
  resp::append_error(out, "ERR " + status.to_string());
}

// Wall-clock milliseconds, the clock the engine judges expiry by.
inline std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sets Commands::tx_ for its lifetime.
class Commands::InTransaction {
 public:
  InTransaction(Commands* commands, ExecContext* context) : commands_(commands) { commands_->tx_ = context; }
  ~InTransaction() { commands_->tx_ = nullptr; }
  InTransaction(const InTransaction&) = delete;
  InTransaction& operator=(const InTransaction&) = delete;

 private:
  Commands* commands_;
};

struct Commands::ExecContext {
  explicit ExecContext(Transaction& transaction) : txn(transaction) {}
  Transaction& txn;
  // The Transaction API reads values, not TTLs. A key this transaction wrote has the expiry it was
  // written with (absolute wall-clock ms; nullopt: none), kept here; any other key's TTL is read from
  // the engine's latest state, which is the snapshot's unless the key was written since, and then the
  // commit fails with Conflict (the key was read through the transaction) and EXEC starts over.
  std::unordered_map<std::string, std::optional<std::int64_t>> written_expiry;
  // Set when this attempt saw something it cannot run on (a key that expired after the snapshot):
  // its replies are dropped and EXEC starts over with a new transaction.
  bool start_over = false;
};

template <class Decide>
Status Commands::modify(std::string_view key, std::string* current, bool* exists, bool want_ttl, Decide&& decide) {
  std::string next;
  for (;;) {
    Version version = 0;
    Status s = tx_ != nullptr ? tx_->txn.get(key, current) : state_.engine.get(key, current, &version);
    if (!s.ok() && !s.is_not_found()) return s;
    *exists = s.ok();
    KeyState key_state{*exists ? current : nullptr, std::nullopt};
    if (*exists && want_ttl) {
      s = read_ttl(key, &key_state.ttl);
      // Outside EXEC: gone since the read (expired or erased); read again.
      if (s.is_not_found() && tx_ == nullptr) continue;
      if (!s.ok()) return s;
    }
    WriteOptions options;
    const Change change = decide(static_cast<const KeyState&>(key_state), &next, &options);
    if (change == Change::kNone) return Status::ok_status();
    if (tx_ != nullptr) {
      bool removed = false;
      return change == Change::kPut ? write(key, next, options) : remove(key, &removed);
    }
    s = change == Change::kPut ? state_.engine.put_if_version(key, *exists ? version : 0, next, options)
                               : state_.engine.erase_if_version(key, version, options);
    if (!s.is_condition_failed()) return s;
  }
}

template <class Body>
Status Commands::atomically(Body&& body) {
  if (tx_ != nullptr) return body();
  for (;;) {
    std::unique_ptr<Transaction> txn = state_.engine.begin();
    if (!txn) return Status::resource_exhausted("no memory for a transaction");
    ExecContext context(*txn);
    Status s;
    {
      const InTransaction scope(this, &context);
      s = body();
    }
    if (context.start_over) continue;
    if (!s.ok()) return s;  // the transaction rolls back as it goes
    s = txn->commit();
    if (!s.is_conflict()) return s;
  }
}

}  // namespace mantis::server
