// MULTI, EXEC, DISCARD, WATCH, UNWATCH: Redis's transactions on the engine's optimistic transactions.
//
// MULTI starts queuing (Commands::execute answers +QUEUED, or refuses a command and marks the queue
// so that EXEC answers EXECABORT). WATCH records each key's version (0: absent). EXEC begins one
// mantis::Transaction, reads every watched key through it (so that the commit's conflict check
// covers them) and compares its latest version with the one WATCH recorded: any difference is a nil
// reply, nothing applied. Then the queued commands run against the transaction (key_access.hpp:
// reads see its snapshot plus the writes queued before them) and it commits. On Conflict (a key the
// queue read or a watched key was written meanwhile) EXEC starts over with a new transaction: the
// watched versions are compared again, so a watched key written meanwhile gives the nil reply, and
// otherwise the queue runs again, as if it had come after that write. Redis never fails EXEC for
// concurrency, and neither does this, up to kMaxExecAttempts.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "key_access.hpp"
#include "resp_writer.hpp"

namespace mantis::server {

namespace {

// A bound on starting over, so that a worker thread (and the connections it serves) cannot spin
// forever behind writers that keep conflicting; reached, EXEC answers an error and applies nothing.
constexpr int kMaxExecAttempts = 1000;

}  // namespace

void Commands::multi(const Args&, std::string* out) {
  if (client_->in_multi) return resp::append_error(out, "ERR MULTI calls can not be nested");
  client_->in_multi = true;
  resp::append_ok(out);
}

void Commands::discard(const Args&, std::string* out) {
  if (!client_->in_multi) return resp::append_error(out, "ERR DISCARD without MULTI");
  client_->discard();
  client_->watched.clear();
  resp::append_ok(out);
}

// WATCH key [key ...]: the first WATCH of a key until EXEC, DISCARD or UNWATCH is the one that counts.
void Commands::watch(const Args& a, std::string* out) {
  if (client_->in_multi) return resp::append_error(out, "ERR WATCH inside MULTI is not allowed");
  for (std::size_t i = 1; i < a.size(); ++i) {
    const auto& watched = client_->watched;
    if (std::any_of(watched.begin(), watched.end(), [&](const auto& entry) { return entry.first == a[i]; })) {
      continue;
    }
    Version version = 0;
    const Status s = state_.engine.get(a[i], &reply_scratch_, &version);
    if (!s.ok() && !s.is_not_found()) return reply_status(s, out);
    client_->watched.emplace_back(std::string(a[i]), s.ok() ? version : 0);
  }
  resp::append_ok(out);
}

// Also queued inside MULTI (as in Redis), where it has nothing left to do: EXEC drops the watches.
void Commands::unwatch(const Args&, std::string* out) {
  client_->watched.clear();
  resp::append_ok(out);
}

void Commands::exec(const Args&, std::string* out) {
  if (!client_->in_multi) return resp::append_error(out, "ERR EXEC without MULTI");
  // Whatever happens below, the queue and the watches end with this EXEC.
  ClientState finished;
  std::swap(finished.queue, client_->queue);
  std::swap(finished.watched, client_->watched);
  const bool refused = client_->queue_refused;
  client_->discard();
  if (refused) return resp::append_error(out, "EXECABORT Transaction discarded because of previous errors.");

  const auto specs = table();
  std::vector<std::string_view> args;
  std::string replies;
  for (int attempt = 0; attempt < kMaxExecAttempts; ++attempt) {
    std::unique_ptr<Transaction> txn = state_.engine.begin();
    if (!txn) return reply_status(Status::resource_exhausted("no memory for a transaction"), out);
    bool changed = false;
    for (const auto& [key, watched_version] : finished.watched) {
      std::string value;
      Status s = txn->get(key, &value);  // joins the commit's check
      if (!s.ok() && !s.is_not_found()) return reply_status(s, out);
      // The latest version: if it is the one WATCH saw, so is the snapshot's (taken after WATCH,
      // and versions only grow); a write after this read makes the commit conflict.
      Version version = 0;
      s = state_.engine.get(key, &value, &version);
      if (!s.ok() && !s.is_not_found()) return reply_status(s, out);
      if ((s.ok() ? version : 0) != watched_version) {
        changed = true;
        break;
      }
    }
    if (changed) return resp::append_null_array(out);

    ExecContext context(*txn);
    replies.clear();
    {
      const InTransaction scope(this, &context);
      for (const auto& [index, queued] : finished.queue) {
        args.assign(queued.begin(), queued.end());
        (this->*specs[index].run)(args, &replies);
        if (context.start_over) break;
      }
    }
    if (context.start_over) continue;
    const Status s = txn->commit();
    if (s.is_conflict()) continue;
    if (!s.ok()) return reply_status(s, out);
    resp::append_array_header(out, finished.queue.size());
    out->append(replies);
    return;
  }
  resp::append_error(out, "ERR EXEC gave up after " + std::to_string(kMaxExecAttempts) +
                              " attempts, each in conflict with concurrent writers; nothing was applied");
}

}  // namespace mantis::server
