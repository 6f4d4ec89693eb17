// Commands: the RESP command table and what each command does to the Engine.
//
// One Commands object per RESP worker thread (it owns scratch buffers reused by every request, so
// the hot path allocates nothing); all of them share one ServerState. What belongs to one connection
// (its MULTI queue and WATCHed keys) is a ClientState the connection owns and passes to execute(). Replies follow Redis 7.0's
// for the same command, error texts included, so clients written for Redis behave the same. SET's
// NX/XX/GET/KEEPTTL, SETNX, GETSET, GETDEL, GETEX, APPEND, DEL's count and INCR's family are the
// engine's conditional writes (one call, or a version-checked read-modify-write), atomic with respect
// to every other writer of the engine, through the server or not.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/snapshot.hpp>
#include <mantis/status.hpp>
#include <mantis/transaction.hpp>

#include "server_state.hpp"

namespace mantis::server {

// One connection's transaction state: MULTI's queue and the keys WATCH recorded. Owned by the
// connection; dropped with it (which is UNWATCH and DISCARD).
struct ClientState {
  bool in_multi = false;
  bool queue_refused = false;  // a command was refused while queuing: EXEC answers EXECABORT
  // The queued commands: the command table's index and the arguments (the name included).
  std::vector<std::pair<std::size_t, std::vector<std::string>>> queue;
  // Each WATCHed key and the version it had at WATCH (0: absent then).
  std::vector<std::pair<std::string, Version>> watched;

  void discard() {
    in_multi = false;
    queue_refused = false;
    queue.clear();
  }
};

class Commands {
 public:
  Commands(ServerState& state, std::size_t worker_index);
  Commands(const Commands&) = delete;
  Commands& operator=(const Commands&) = delete;

  // Runs one request of the connection whose state is *client (args[0] is the command name, in any
  // case) and appends its reply to *out; inside MULTI the request is queued instead. Returns false
  // when the connection must close once the reply is written (QUIT). REQUIRES: !args.empty().
  bool execute(const std::vector<std::string_view>& args, std::string* out, ClientState* client);

  // The names of every command, lowercase, in table order (COMMAND, docs, tests).
  static std::vector<std::string_view> names();

  using Args = std::vector<std::string_view>;
  // One row of the command table: the name, Redis's arity convention (n = exactly n arguments, the
  // name included; -n = at least n), COMMAND's flags and key positions, and the member that runs it.
  struct Spec {
    std::string_view name;  // lowercase
    int arity;
    std::string_view flags;  // space separated
    int first_key, last_key, step;
    void (Commands::*run)(const Args&, std::string*);
  };

 private:
  static std::span<const Spec> table();

  void get(const Args& a, std::string* out);
  void set(const Args& a, std::string* out);
  void setex(const Args& a, std::string* out);
  void psetex(const Args& a, std::string* out);
  void del(const Args& a, std::string* out);
  void exists(const Args& a, std::string* out);
  void mget(const Args& a, std::string* out);
  void mset(const Args& a, std::string* out);
  void msetnx(const Args& a, std::string* out);
  void incrbyfloat(const Args& a, std::string* out);
  void expire(const Args& a, std::string* out);
  void pexpire(const Args& a, std::string* out);
  void ttl(const Args& a, std::string* out);
  void pttl(const Args& a, std::string* out);
  void persist(const Args& a, std::string* out);
  void setnx(const Args& a, std::string* out);
  void getset(const Args& a, std::string* out);
  void getdel(const Args& a, std::string* out);
  void getex(const Args& a, std::string* out);
  void append(const Args& a, std::string* out);
  void strlen(const Args& a, std::string* out);
  void incr(const Args& a, std::string* out);
  void decr(const Args& a, std::string* out);
  void incrby(const Args& a, std::string* out);
  void decrby(const Args& a, std::string* out);
  void scan(const Args& a, std::string* out);
  void keys(const Args& a, std::string* out);
  void dbsize(const Args& a, std::string* out);
  void flushdb(const Args& a, std::string* out);
  void save(const Args& a, std::string* out);
  void bgsave(const Args& a, std::string* out);
  void multi(const Args& a, std::string* out);
  void exec(const Args& a, std::string* out);
  void discard(const Args& a, std::string* out);
  void watch(const Args& a, std::string* out);
  void unwatch(const Args& a, std::string* out);
  void info(const Args& a, std::string* out);
  void command(const Args& a, std::string* out);
  void ping(const Args& a, std::string* out);
  void echo(const Args& a, std::string* out);
  void select(const Args& a, std::string* out);
  void quit(const Args& a, std::string* out);

  void set_with_ttl(std::string_view name, std::string_view key, std::string_view ttl_text, bool millis,
                    std::string_view value, std::string* out);
  void expire_generic(std::string_view name, const Args& a, bool millis, std::string* out);
  void ttl_generic(const Args& a, bool millis, std::string* out);
  void increment_by(std::string_view key, std::int64_t delta, std::string* out);

  // Key access, in one of two modes. Outside EXEC each call goes to the engine (a read of the
  // latest state, or one atomic conditional write). Inside EXEC (tx_ set) every read and write goes
  // through the EXEC's Transaction: reads see its snapshot plus the writes queued before them, and
  // nothing is applied until the commit. The definitions are in key_access.cpp.
  struct ExecContext;
  class InTransaction;
  // What a read-modify-write sees of its key.
  struct KeyState {
    const std::string* value;                      // nullptr: absent
    std::optional<std::chrono::milliseconds> ttl;  // the time left; only filled when asked for
  };
  Status read(std::string_view key, std::string* value);
  // NotFound if absent; *remaining is nullopt when the key has no TTL.
  Status read_ttl(std::string_view key, std::optional<std::chrono::milliseconds>* remaining);
  Status write(std::string_view key, std::string_view value, const WriteOptions& options);
  Status remove(std::string_view key, bool* removed);
  // What a read-modify-write decided: nothing, a put of *next with *options, or an erase.
  enum class Change { kNone, kPut, kErase };
  // Reads the key's value (into *current; with want_ttl, its TTL too), asks
  // decide(const KeyState&, std::string* next, WriteOptions* options) what to write, and writes it
  // atomically with the read: outside EXEC only if the key still holds the version read (again until
  // no write came in between), inside EXEC in the transaction. On return *exists and *current
  // describe the value the decision was taken on. REQUIRES: decide never erases an absent key.
  template <class Decide>
  Status modify(std::string_view key, std::string* current, bool* exists, bool want_ttl, Decide&& decide);
  // Runs body() atomically: inside EXEC as part of its transaction, otherwise in a transaction of
  // its own, again while it conflicts. body returns OK to commit.
  template <class Body>
  Status atomically(Body&& body);

  ServerState& state_;
  ClientState* client_ = nullptr;  // the connection whose request runs now
  ExecContext* tx_ = nullptr;      // set while EXEC runs its queue
  WorkerCounters& counters_;
  std::string reply_scratch_;
};

}  // namespace mantis::server
