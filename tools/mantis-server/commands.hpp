// Commands: the RESP command table and what each command does to the Engine.
//
// One Commands object per RESP worker thread (it owns scratch buffers reused by every request, so
// the hot path allocates nothing); all of them share one ServerState. Replies follow Redis 7.0's
// for the same command, error texts included, so clients written for Redis behave the same. SET's
// NX/XX/GET/KEEPTTL, SETNX, GETSET, GETDEL, GETEX, APPEND, DEL's count and INCR's family are the
// engine's conditional writes (one call, or a version-checked read-modify-write), atomic with respect
// to every other writer of the engine, through the server or not.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server_state.hpp"

namespace mantis::server {

class Commands {
 public:
  Commands(ServerState& state, std::size_t worker_index);
  Commands(const Commands&) = delete;
  Commands& operator=(const Commands&) = delete;

  // Runs one request (args[0] is the command name, in any case) and appends its reply to *out.
  // Returns false when the connection must close once the reply is written (QUIT).
  // REQUIRES: !args.empty().
  bool execute(const std::vector<std::string_view>& args, std::string* out);

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

  ServerState& state_;
  WorkerCounters& counters_;
  std::string reply_scratch_;
};

}  // namespace mantis::server
