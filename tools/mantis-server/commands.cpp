// The command table and the data commands. One file for all of them: each is a few lines over the
// key access (key_access.hpp), and they share the argument parsing and the error texts. MULTI, EXEC
// and WATCH are in transactions.cpp.
#include "commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <variant>

#include <mantis/engine.hpp>

#include "glob.hpp"
#include "key_access.hpp"
#include "resp_writer.hpp"

namespace mantis::server {

using std::chrono::milliseconds;

namespace {

// Longer TTLs are refused (Redis refuses those that overflow as well): the engine's limit.
constexpr std::int64_t kMaxTtlMs = mantis::WriteOptions::kMaxTtl.count();

bool equals_lowercase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

template <class Int>
std::optional<Int> parse_integer(std::string_view text) {
  Int value = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// A value as Redis reads a stored integer (string2ll): an optional '-', then digits without leading
// zeros ("0" itself is fine), no '+', no spaces, within int64_t.
std::optional<std::int64_t> parse_redis_integer(std::string_view text) {
  if (text == "0") return 0;
  const std::size_t first_digit = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() <= first_digit || text[first_digit] < '1' || text[first_digit] > '9') return std::nullopt;
  return parse_integer<std::int64_t>(text);
}

// Redis's longest float text (MAX_LONG_DOUBLE_CHARS).
constexpr std::size_t kMaxLongDoubleChars = 5 * 1024;

// A number as Redis's INCRBYFLOAT reads one (string2ld): strtold over the text up to its first NUL,
// which must consume all of it; no leading space, no NaN, no overflow to infinity or underflow to 0.
std::optional<long double> parse_long_double(std::string_view text) {
  if (text.empty() || text.size() >= kMaxLongDoubleChars) return std::nullopt;
  char buffer[kMaxLongDoubleChars];
  text.copy(buffer, text.size());
  buffer[text.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(buffer, &end);
  if (std::isspace(static_cast<unsigned char>(buffer[0])) || *end != '\0' || errno == EINVAL || std::isnan(value) ||
      (errno == ERANGE && (std::isinf(value) || std::fpclassify(value) == FP_ZERO))) {
    return std::nullopt;
  }
  return value;
}

// INCRBYFLOAT's result text (Redis's "human" long double form): 17 digits after the point, then the
// trailing zeros (and a bare point) trimmed; "-0" becomes "0". REQUIRES: value is finite.
std::string format_long_double(long double value) {
  char buffer[kMaxLongDoubleChars];
  int length = std::snprintf(buffer, sizeof(buffer), "%.17Lf", value);
  if (length < 0 || static_cast<std::size_t>(length) >= sizeof(buffer)) return std::string();
  std::string_view text(buffer, static_cast<std::size_t>(length));
  if (text.find('.') != std::string_view::npos) {
    while (text.back() == '0') text.remove_suffix(1);
    if (text.back() == '.') text.remove_suffix(1);
  }
  if (text == "-0") return "0";
  return std::string(text);
}

void reply_not_integer(std::string* out) { resp::append_error(out, "ERR value is not an integer or out of range"); }
void reply_syntax_error(std::string* out) { resp::append_error(out, "ERR syntax error"); }
void reply_invalid_expire(std::string_view command, std::string* out) {
  resp::append_error(out, "ERR invalid expire time in '" + std::string(command) + "' command");
}

// A TTL argument (seconds, or milliseconds with `millis`) in milliseconds. nullopt: not an integer.
// *in_range: false when its magnitude exceeds kMaxTtlMs.
std::optional<std::int64_t> parse_ttl_ms(std::string_view text, bool millis, bool* in_range) {
  const auto value = parse_integer<std::int64_t>(text);
  if (!value) return std::nullopt;
  const std::int64_t limit = millis ? kMaxTtlMs : kMaxTtlMs / 1000;
  *in_range = *value <= limit && *value >= -limit;
  if (!*in_range) return value;
  return millis ? *value : *value * 1000;
}

// Redis's TTL: seconds, rounded to the nearest.
std::int64_t ms_to_seconds_rounded(std::int64_t ms) { return (ms + 500) / 1000; }

}  // namespace

std::span<const Commands::Spec> Commands::table() {
  // The hot commands first: lookup is a linear scan.
  static const Spec kTable[] = {
      {"get", 2, "readonly fast", 1, 1, 1, &Commands::get},
      {"set", -3, "write", 1, 1, 1, &Commands::set},
      {"incr", 2, "write fast", 1, 1, 1, &Commands::incr},
      {"decr", 2, "write fast", 1, 1, 1, &Commands::decr},
      {"incrby", 3, "write fast", 1, 1, 1, &Commands::incrby},
      {"decrby", 3, "write fast", 1, 1, 1, &Commands::decrby},
      {"setnx", 3, "write fast", 1, 1, 1, &Commands::setnx},
      {"getset", 3, "write fast", 1, 1, 1, &Commands::getset},
      {"getdel", 2, "write fast", 1, 1, 1, &Commands::getdel},
      {"getex", -2, "write fast", 1, 1, 1, &Commands::getex},
      {"append", 3, "write", 1, 1, 1, &Commands::append},
      {"strlen", 2, "readonly fast", 1, 1, 1, &Commands::strlen},
      {"mget", -2, "readonly fast", 1, -1, 1, &Commands::mget},
      {"mset", -3, "write", 1, -1, 2, &Commands::mset},
      {"msetnx", -3, "write", 1, -1, 2, &Commands::msetnx},
      {"incrbyfloat", 3, "write fast", 1, 1, 1, &Commands::incrbyfloat},
      {"del", -2, "write", 1, -1, 1, &Commands::del},
      {"exists", -2, "readonly fast", 1, -1, 1, &Commands::exists},
      {"setex", 4, "write", 1, 1, 1, &Commands::setex},
      {"psetex", 4, "write", 1, 1, 1, &Commands::psetex},
      {"expire", -3, "write fast", 1, 1, 1, &Commands::expire},
      {"pexpire", -3, "write fast", 1, 1, 1, &Commands::pexpire},
      {"ttl", 2, "readonly fast", 1, 1, 1, &Commands::ttl},
      {"pttl", 2, "readonly fast", 1, 1, 1, &Commands::pttl},
      {"persist", 2, "write fast", 1, 1, 1, &Commands::persist},
      {"ping", -1, "fast", 0, 0, 0, &Commands::ping},
      {"echo", 2, "fast", 0, 0, 0, &Commands::echo},
      {"scan", -2, "readonly", 0, 0, 0, &Commands::scan},
      {"keys", 2, "readonly", 0, 0, 0, &Commands::keys},
      {"dbsize", 1, "readonly fast", 0, 0, 0, &Commands::dbsize},
      {"flushdb", -1, "write", 0, 0, 0, &Commands::flushdb},
      {"flushall", -1, "write", 0, 0, 0, &Commands::flushdb},
      {"save", 1, "admin no_multi", 0, 0, 0, &Commands::save},
      {"bgsave", -1, "admin", 0, 0, 0, &Commands::bgsave},
      {"multi", 1, "fast", 0, 0, 0, &Commands::multi},
      {"exec", 1, "", 0, 0, 0, &Commands::exec},
      {"discard", 1, "fast", 0, 0, 0, &Commands::discard},
      {"watch", -2, "fast", 1, -1, 1, &Commands::watch},
      {"unwatch", 1, "fast", 0, 0, 0, &Commands::unwatch},
      {"info", -1, "", 0, 0, 0, &Commands::info},
      {"command", -1, "", 0, 0, 0, &Commands::command},
      {"select", 2, "fast", 0, 0, 0, &Commands::select},
      {"quit", -1, "fast", 0, 0, 0, &Commands::quit},
  };
  return kTable;
}

std::vector<std::string_view> Commands::names() {
  std::vector<std::string_view> result;
  for (const Spec& spec : table()) result.push_back(spec.name);
  return result;
}

Commands::Commands(ServerState& state, std::size_t worker_index)
    : state_(state), counters_(*state.worker_counters.at(worker_index)) {}

bool Commands::execute(const Args& args, std::string* out, ClientState* client) {
  counters_.commands.store(counters_.commands.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  client_ = client;
  const std::string_view name = args[0];
  const auto specs = table();
  const auto spec = std::find_if(specs.begin(), specs.end(),
                                 [&](const Spec& candidate) { return equals_lowercase(name, candidate.name); });
  // As Redis: inside MULTI an unknown command, a wrong number of arguments or a command refused in
  // transactions is answered at once and makes EXEC fail; everything else but MULTI, EXEC, DISCARD,
  // WATCH and QUIT is queued.
  if (spec == specs.end()) {
    // Redis's text: the name and the first arguments, quoted and cut short.
    std::string message =
        "ERR unknown command '" + std::string(name.substr(0, 128)) + "', with args beginning with: ";
    for (std::size_t i = 1; i < args.size() && i <= 4; ++i) {
      message += '\'';
      message += args[i].substr(0, 64);
      message += "' ";
    }
    resp::append_error(out, message);
    client->queue_refused = client->in_multi;
    return true;
  }
  const auto argc = static_cast<int>(args.size());
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    resp::append_error(out, "ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
    client->queue_refused = client->in_multi;
    return true;
  }
  if (client->in_multi && spec->run != &Commands::multi && spec->run != &Commands::exec &&
      spec->run != &Commands::discard && spec->run != &Commands::watch && spec->run != &Commands::quit) {
    if (spec->flags.find("no_multi") != std::string_view::npos) {
      resp::append_error(out, "ERR Command not allowed inside a transaction");
      client->queue_refused = true;
      return true;
    }
    client->queue.emplace_back(static_cast<std::size_t>(spec - specs.begin()),
                               std::vector<std::string>(args.begin(), args.end()));
    resp::append_simple(out, "QUEUED");
    return true;
  }
  (this->*spec->run)(args, out);
  return spec->run != &Commands::quit;
}

// ---- strings -------------------------------------------------------------------------------------
//
// Outside EXEC, the common forms are one engine call each (SET, SETNX, GETSET, INCR...); the others,
// and every command inside EXEC, go through the key access (read, write, remove, modify).

void Commands::get(const Args& a, std::string* out) {
  if (tx_ != nullptr) {
    const Status s = read(a[1], &reply_scratch_);
    if (s.is_not_found()) return resp::append_null(out);
    if (!s.ok()) return reply_status(s, out);
    return resp::append_bulk(out, reply_scratch_);
  }
  ValueView view;
  const Status s = state_.engine.get(a[1], &view);
  if (s.ok()) {
    resp::append_bulk(out, view.data());
  } else if (s.is_not_found()) {
    resp::append_null(out);
  } else {
    reply_status(s, out);
  }
}

// SET key value [EX seconds | PX milliseconds | KEEPTTL] [NX | XX] [GET]
void Commands::set(const Args& a, std::string* out) {
  const std::string_view key = a[1];
  const std::string_view value = a[2];
  bool nx = false, xx = false, get_old = false, keep_ttl = false, has_ttl = false;
  std::int64_t ttl_ms = 0;
  for (std::size_t i = 3; i < a.size(); ++i) {
    const std::string_view option = a[i];
    if (equals_lowercase(option, "nx") && !xx) {
      nx = true;
    } else if (equals_lowercase(option, "xx") && !nx) {
      xx = true;
    } else if (equals_lowercase(option, "get")) {
      get_old = true;
    } else if (equals_lowercase(option, "keepttl") && !has_ttl) {
      keep_ttl = true;
    } else if ((equals_lowercase(option, "ex") || equals_lowercase(option, "px")) && !has_ttl && !keep_ttl &&
               i + 1 < a.size()) {
      bool in_range = true;
      const auto ms = parse_ttl_ms(a[++i], equals_lowercase(option, "px"), &in_range);
      if (!ms) return reply_not_integer(out);
      if (!in_range || *ms <= 0) return reply_invalid_expire("set", out);
      ttl_ms = *ms;
      has_ttl = true;
    } else {
      return reply_syntax_error(out);
    }
  }

  WriteOptions options;
  options.ttl = milliseconds(ttl_ms);
  options.keep_ttl = keep_ttl;
  Status s;
  if (tx_ == nullptr && !get_old) {
    // Each is one atomic engine operation, whoever else writes the key.
    s = nx   ? state_.engine.put_if_absent(key, value, options)
        : xx ? state_.engine.put_if_present(key, value, options)
             : state_.engine.put(key, value, options);
    if (s.is_condition_failed()) return resp::append_null(out);
    if (!s.ok()) return reply_status(s, out);
    return resp::append_ok(out);
  }
  if (tx_ == nullptr && !nx && !xx) {
    std::optional<std::string> old;
    s = state_.engine.get_and_put(key, value, &old, options);
    if (!s.ok()) return reply_status(s, out);
    return old ? resp::append_bulk(out, *old) : resp::append_null(out);
  }
  // A read-modify-write, so that GET's reply is the value the write replaced (or would have).
  bool exists = false, written = false;
  s = modify(key, &reply_scratch_, &exists, false,
             [&](const KeyState& current, std::string* next, WriteOptions* write_options) {
               if ((nx && current.value != nullptr) || (xx && current.value == nullptr)) return Change::kNone;
               next->assign(value);
               *write_options = options;
               written = true;
               return Change::kPut;
             });
  if (!s.ok()) return reply_status(s, out);
  if (!get_old) return written ? resp::append_ok(out) : resp::append_null(out);
  exists ? resp::append_bulk(out, reply_scratch_) : resp::append_null(out);
}

void Commands::set_with_ttl(std::string_view name, std::string_view key, std::string_view ttl_text, bool millis,
                            std::string_view value, std::string* out) {
  bool in_range = true;
  const auto ms = parse_ttl_ms(ttl_text, millis, &in_range);
  if (!ms) return reply_not_integer(out);
  if (!in_range || *ms <= 0) return reply_invalid_expire(name, out);
  WriteOptions options;
  options.ttl = milliseconds(*ms);
  const Status s = write(key, value, options);
  if (!s.ok()) return reply_status(s, out);
  resp::append_ok(out);
}

void Commands::setex(const Args& a, std::string* out) { set_with_ttl("setex", a[1], a[2], false, a[3], out); }
void Commands::psetex(const Args& a, std::string* out) { set_with_ttl("psetex", a[1], a[2], true, a[3], out); }

void Commands::setnx(const Args& a, std::string* out) {
  Status s;
  bool exists = false;
  if (tx_ == nullptr) {
    s = state_.engine.put_if_absent(a[1], a[2]);
    exists = s.is_condition_failed();
    if (exists) s = Status::ok_status();
  } else {
    s = modify(a[1], &reply_scratch_, &exists, false, [&](const KeyState& current, std::string* next, WriteOptions*) {
      if (current.value != nullptr) return Change::kNone;
      next->assign(a[2]);
      return Change::kPut;
    });
  }
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, exists ? 0 : 1);
}

void Commands::getset(const Args& a, std::string* out) {
  if (tx_ == nullptr) {
    std::optional<std::string> old;
    const Status s = state_.engine.get_and_put(a[1], a[2], &old);
    if (!s.ok()) return reply_status(s, out);
    return old ? resp::append_bulk(out, *old) : resp::append_null(out);
  }
  bool exists = false;
  const Status s = modify(a[1], &reply_scratch_, &exists, false, [&](const KeyState&, std::string* next, WriteOptions*) {
    next->assign(a[2]);
    return Change::kPut;
  });
  if (!s.ok()) return reply_status(s, out);
  exists ? resp::append_bulk(out, reply_scratch_) : resp::append_null(out);
}

void Commands::getdel(const Args& a, std::string* out) {
  bool exists = false;
  const Status s = modify(a[1], &reply_scratch_, &exists, false, [](const KeyState& current, std::string*, WriteOptions*) {
    return current.value != nullptr ? Change::kErase : Change::kNone;
  });
  if (!s.ok()) return reply_status(s, out);
  exists ? resp::append_bulk(out, reply_scratch_) : resp::append_null(out);
}

// GETEX key [EX s | PX ms | EXAT unix-s | PXAT unix-ms | PERSIST]: the value, and its new TTL set in
// the same atomic step (the value is rewritten with the new expiry only if it is still the one read).
void Commands::getex(const Args& a, std::string* out) {
  enum class Ttl { kKeep, kSet, kPersist } mode = Ttl::kKeep;
  std::int64_t ttl_ms = 0;
  if (a.size() == 3 && equals_lowercase(a[2], "persist")) {
    mode = Ttl::kPersist;
  } else if (a.size() == 4) {
    const std::string_view option = a[2];
    const bool relative = equals_lowercase(option, "ex") || equals_lowercase(option, "px");
    const bool absolute = equals_lowercase(option, "exat") || equals_lowercase(option, "pxat");
    if (!relative && !absolute) return reply_syntax_error(out);
    const bool millis = equals_lowercase(option, "px") || equals_lowercase(option, "pxat");
    const auto value = parse_integer<std::int64_t>(a[3]);
    if (!value) return reply_not_integer(out);
    const std::int64_t limit = millis ? kMaxTtlMs : kMaxTtlMs / 1000;
    if (*value <= 0 || *value > (absolute ? 2 * limit : limit)) return reply_invalid_expire("getex", out);
    ttl_ms = millis ? *value : *value * 1000;
    if (absolute) {
      ttl_ms -= wall_clock_ms();
      if (ttl_ms > kMaxTtlMs) return reply_invalid_expire("getex", out);
    }
    mode = Ttl::kSet;
  } else if (a.size() != 2) {
    return reply_syntax_error(out);
  }
  bool exists = false;
  const Status s = modify(a[1], &reply_scratch_, &exists, false,
                          [&](const KeyState& current, std::string* next, WriteOptions* options) {
                            if (current.value == nullptr || mode == Ttl::kKeep) return Change::kNone;
                            if (mode == Ttl::kSet && ttl_ms <= 0) return Change::kErase;  // a past EXAT
                            next->assign(*current.value);
                            options->ttl = milliseconds(mode == Ttl::kSet ? ttl_ms : 0);
                            return Change::kPut;
                          });
  if (!s.ok()) return reply_status(s, out);
  exists ? resp::append_bulk(out, reply_scratch_) : resp::append_null(out);
}

// APPEND key value: the new length; an absent key starts empty; the TTL is kept.
void Commands::append(const Args& a, std::string* out) {
  bool exists = false;
  std::size_t length = 0;
  const Status s = modify(a[1], &reply_scratch_, &exists, false,
                          [&](const KeyState& current, std::string* next, WriteOptions* options) {
                            next->assign(current.value != nullptr ? *current.value : std::string());
                            next->append(a[2]);
                            length = next->size();
                            options->keep_ttl = true;
                            return Change::kPut;
                          });
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, static_cast<std::int64_t>(length));
}

void Commands::strlen(const Args& a, std::string* out) {
  Status s;
  std::size_t length = 0;
  if (tx_ == nullptr) {
    ValueView view;
    s = state_.engine.get(a[1], &view);
    if (s.ok()) length = view.data().size();
  } else {
    s = read(a[1], &reply_scratch_);
    if (s.ok()) length = reply_scratch_.size();
  }
  if (s.is_not_found()) return resp::append_integer(out, 0);
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, static_cast<std::int64_t>(length));
}

// INCR, DECR, INCRBY, DECRBY: one engine increment each outside EXEC (the key keeps its TTL). A value
// that is not a decimal integer and a sum that overflows both answer Redis's "not an integer or out
// of range" (inside EXEC too, where the same rules are applied to the transaction's view).
void Commands::increment_by(std::string_view key, std::int64_t delta, std::string* out) {
  std::int64_t result = 0;
  Status s;
  if (tx_ == nullptr) {
    s = state_.engine.increment(key, delta, &result);
  } else {
    bool exists = false, valid = true;
    s = modify(key, &reply_scratch_, &exists, false,
               [&](const KeyState& current, std::string* next, WriteOptions* options) {
                 std::int64_t value = 0;
                 if (current.value != nullptr) {
                   const auto parsed = parse_redis_integer(*current.value);
                   valid = parsed.has_value();
                   if (!valid) return Change::kNone;
                   value = *parsed;
                 }
                 valid = !__builtin_add_overflow(value, delta, &result);
                 if (!valid) return Change::kNone;
                 next->assign(std::to_string(result));
                 options->keep_ttl = true;
                 return Change::kPut;
               });
    if (s.ok() && !valid) s = Status::invalid_argument();
  }
  if (s.is_invalid_argument()) return reply_not_integer(out);
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, result);
}

void Commands::incr(const Args& a, std::string* out) { increment_by(a[1], 1, out); }
void Commands::decr(const Args& a, std::string* out) { increment_by(a[1], -1, out); }

void Commands::incrby(const Args& a, std::string* out) {
  const auto delta = parse_integer<std::int64_t>(a[2]);
  if (!delta) return reply_not_integer(out);
  increment_by(a[1], *delta, out);
}

void Commands::decrby(const Args& a, std::string* out) {
  const auto delta = parse_integer<std::int64_t>(a[2]);
  // -INT64_MIN does not exist: Redis refuses it too.
  if (!delta || *delta == std::numeric_limits<std::int64_t>::min()) {
    return resp::append_error(out, "ERR decrement would overflow");
  }
  increment_by(a[1], -*delta, out);
}

// INCRBYFLOAT key increment: Redis's rules. Both numbers are read as long doubles by strtold (so
// "1e3", "0x10" and "inf" are numbers; leading spaces, trailing bytes and NaN are not); a result
// that is NaN or infinite is refused; the result is stored and returned as "%.17Lf" with the zeros
// after the point trimmed. The key keeps its TTL. A version-checked read-modify-write.
void Commands::incrbyfloat(const Args& a, std::string* out) {
  const auto increment = parse_long_double(a[2]);
  enum class Outcome { kDone, kNotFloat, kNotFinite } outcome = Outcome::kDone;
  std::string result;
  bool exists = false;
  const Status s = modify(a[1], &reply_scratch_, &exists, false,
                          [&](const KeyState& current, std::string* next, WriteOptions* options) {
                            long double value = 0;
                            if (current.value != nullptr) {
                              const auto parsed = parse_long_double(*current.value);
                              if (!parsed) {
                                outcome = Outcome::kNotFloat;
                                return Change::kNone;
                              }
                              value = *parsed;
                            }
                            if (!increment) {
                              outcome = Outcome::kNotFloat;
                              return Change::kNone;
                            }
                            value += *increment;
                            if (std::isnan(value) || std::isinf(value)) {
                              outcome = Outcome::kNotFinite;
                              return Change::kNone;
                            }
                            outcome = Outcome::kDone;
                            result = format_long_double(value);
                            next->assign(result);
                            options->keep_ttl = true;
                            return Change::kPut;
                          });
  if (!s.ok()) return reply_status(s, out);
  if (outcome == Outcome::kNotFloat) return resp::append_error(out, "ERR value is not a valid float");
  if (outcome == Outcome::kNotFinite) return resp::append_error(out, "ERR increment would produce NaN or Infinity");
  resp::append_bulk(out, result);
}

void Commands::mget(const Args& a, std::string* out) {
  resp::append_array_header(out, a.size() - 1);
  ValueView view;
  for (std::size_t i = 1; i < a.size(); ++i) {
    if (tx_ != nullptr) {
      read(a[i], &reply_scratch_).ok() ? resp::append_bulk(out, reply_scratch_) : resp::append_null(out);
      continue;
    }
    const Status s = state_.engine.get(a[i], &view);
    if (s.ok()) {
      resp::append_bulk(out, view.data());
      view.reset();
    } else {
      resp::append_null(out);  // Redis answers nil for anything it cannot return as a string
    }
  }
}

void Commands::mset(const Args& a, std::string* out) {
  if (a.size() % 2 == 0) {
    resp::append_error(out, "ERR wrong number of arguments for 'mset' command");
    return;
  }
  Status s;
  if (tx_ == nullptr) {
    WriteBatch batch;
    for (std::size_t i = 1; i < a.size(); i += 2) batch.put(a[i], a[i + 1]);
    s = state_.engine.write(batch);  // validated as a whole: a bad pair writes nothing
  } else {
    for (std::size_t i = 1; i < a.size() && s.ok(); i += 2) s = write(a[i], a[i + 1], WriteOptions());
  }
  if (!s.ok()) return reply_status(s, out);
  resp::append_ok(out);
}

// MSETNX k v [k v ...]: every pair, only if none of the keys exists; 1 if written, 0 if not. One
// transaction: the check and the writes commit together (or it starts over on a conflict).
void Commands::msetnx(const Args& a, std::string* out) {
  if (a.size() % 2 == 0) {
    resp::append_error(out, "ERR wrong number of arguments for 'msetnx' command");
    return;
  }
  bool written = false;
  const Status s = atomically([&] {
    written = false;
    for (std::size_t i = 1; i < a.size(); i += 2) {
      const Status found = read(a[i], &reply_scratch_);
      if (found.ok()) return Status::ok_status();
      if (!found.is_not_found()) return found;
    }
    for (std::size_t i = 1; i < a.size(); i += 2) {
      const Status put = write(a[i], a[i + 1], WriteOptions());
      if (!put.ok()) return put;
    }
    written = true;
    return Status::ok_status();
  });
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, written ? 1 : 0);
}

void Commands::del(const Args& a, std::string* out) {
  std::int64_t removed = 0;
  for (std::size_t i = 1; i < a.size(); ++i) {
    bool was_present = false;
    const Status s = remove(a[i], &was_present);
    if (!s.ok()) return reply_status(s, out);
    removed += was_present ? 1 : 0;
  }
  resp::append_integer(out, removed);
}

void Commands::exists(const Args& a, std::string* out) {
  std::int64_t found = 0;
  for (std::size_t i = 1; i < a.size(); ++i) {
    found += (tx_ != nullptr ? read(a[i], &reply_scratch_).ok() : state_.engine.contains(a[i])) ? 1 : 0;
  }
  resp::append_integer(out, found);
}

// ---- TTLs ----------------------------------------------------------------------------------------

// EXPIRE key seconds [NX | XX | GT | LT], PEXPIRE key ms [...]: Redis 7's options. NX: only if the key
// has no TTL; XX: only if it has one; GT: only if the new TTL is greater than the current one; LT:
// only if it is less; a key without a TTL counts as an infinite TTL (so GT never applies to it and
// LT always does). A TTL <= 0 deletes the key. With an option, the check and the write are one
// version-checked read-modify-write.
void Commands::expire_generic(std::string_view name, const Args& a, bool millis, std::string* out) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (equals_lowercase(a[i], "nx")) {
      nx = true;
    } else if (equals_lowercase(a[i], "xx")) {
      xx = true;
    } else if (equals_lowercase(a[i], "gt")) {
      gt = true;
    } else if (equals_lowercase(a[i], "lt")) {
      lt = true;
    } else {
      return resp::append_error(out, "ERR Unsupported option " + std::string(a[i]));
    }
  }
  if (nx && (xx || gt || lt)) {
    return resp::append_error(out, "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (gt && lt) return resp::append_error(out, "ERR GT and LT options at the same time are not compatible");
  bool in_range = true;
  const auto ms = parse_ttl_ms(a[2], millis, &in_range);
  if (!ms) return reply_not_integer(out);
  if (!in_range) return reply_invalid_expire(name, out);
  const std::string_view key = a[1];
  Status s;
  if (tx_ == nullptr && !nx && !xx && !gt && !lt) {
    if (*ms <= 0) {  // Redis deletes the key at once
      bool was_present = false;
      s = state_.engine.erase(key, &was_present);
      if (!s.ok()) return reply_status(s, out);
      return resp::append_integer(out, was_present ? 1 : 0);
    }
    s = state_.engine.expire(key, milliseconds(*ms));
    if (s.is_not_found()) return resp::append_integer(out, 0);
    if (!s.ok()) return reply_status(s, out);
    return resp::append_integer(out, 1);
  }
  bool exists = false, applied = false;
  s = modify(key, &reply_scratch_, &exists, true, [&](const KeyState& current, std::string* next, WriteOptions* options) {
    applied = false;
    if (current.value == nullptr) return Change::kNone;
    const bool has_ttl = current.ttl.has_value();
    if ((nx && has_ttl) || (xx && !has_ttl) || (gt && (!has_ttl || *ms <= current.ttl->count())) ||
        (lt && has_ttl && *ms >= current.ttl->count())) {
      return Change::kNone;
    }
    applied = true;
    if (*ms <= 0) return Change::kErase;
    next->assign(*current.value);
    options->ttl = milliseconds(*ms);
    return Change::kPut;
  });
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, applied ? 1 : 0);
}

void Commands::expire(const Args& a, std::string* out) { expire_generic("expire", a, false, out); }
void Commands::pexpire(const Args& a, std::string* out) { expire_generic("pexpire", a, true, out); }

void Commands::ttl_generic(const Args& a, bool millis, std::string* out) {
  std::optional<milliseconds> remaining;
  const Status s = read_ttl(a[1], &remaining);
  if (s.is_not_found()) return resp::append_integer(out, -2);
  if (!s.ok()) return reply_status(s, out);
  if (!remaining) return resp::append_integer(out, -1);
  const std::int64_t ms = remaining->count();
  resp::append_integer(out, millis ? ms : ms_to_seconds_rounded(ms));
}

void Commands::ttl(const Args& a, std::string* out) { ttl_generic(a, false, out); }
void Commands::pttl(const Args& a, std::string* out) { ttl_generic(a, true, out); }

// PERSIST key: 1 if the key had a TTL and now has none. A version-checked read-modify-write, so a TTL
// set by another writer after the read is never removed unseen.
void Commands::persist(const Args& a, std::string* out) {
  bool exists = false, removed_ttl = false;
  const Status s = modify(a[1], &reply_scratch_, &exists, true,
                          [&](const KeyState& current, std::string* next, WriteOptions* options) {
                            removed_ttl = current.value != nullptr && current.ttl.has_value();
                            if (!removed_ttl) return Change::kNone;
                            next->assign(*current.value);
                            options->ttl = milliseconds(0);
                            return Change::kPut;
                          });
  if (!s.ok()) return reply_status(s, out);
  resp::append_integer(out, removed_ttl ? 1 : 0);
}

// ---- keyspace ------------------------------------------------------------------------------------

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. COUNT is how many keys one call visits (10
// by default, like Redis); with a pattern whose literal prefix is P only keys starting with P are
// visited. The reply's cursor resumes at the first key not yet visited (ScanCursors); 0 means done.
// A scan returns every key present for its whole duration once, and never loops: each call
// resumes strictly after the keys it returned.
void Commands::scan(const Args& a, std::string* out) {
  const auto cursor = parse_integer<std::uint64_t>(a[1]);
  if (!cursor) return resp::append_error(out, "ERR invalid cursor");
  std::string_view pattern;
  bool has_pattern = false;
  std::uint64_t count = 10;
  bool other_type = false;
  for (std::size_t i = 2; i < a.size(); i += 2) {
    if (i + 1 >= a.size()) return reply_syntax_error(out);
    if (equals_lowercase(a[i], "match")) {
      pattern = a[i + 1];
      has_pattern = !(pattern.size() == 1 && pattern[0] == '*');
    } else if (equals_lowercase(a[i], "count")) {
      const auto n = parse_integer<std::int64_t>(a[i + 1]);
      if (!n) return reply_not_integer(out);
      if (*n < 1) return reply_syntax_error(out);
      count = static_cast<std::uint64_t>(*n);
    } else if (equals_lowercase(a[i], "type")) {
      other_type = !equals_lowercase(a[i + 1], "string");  // every mantis value is a string
    } else {
      return reply_syntax_error(out);
    }
  }
  std::string begin;
  if (*cursor != 0) {
    auto resume = state_.cursors.find(*cursor);
    if (!resume) return resp::append_error(out, "ERR invalid cursor");
    begin = std::move(*resume);
  }
  const std::string prefix = has_pattern ? glob_literal_prefix(pattern) : std::string();
  const bool filter = has_pattern && !glob_is_prefix_only(pattern);
  if (begin < prefix) begin = prefix;

  reply_scratch_.clear();
  std::size_t matched = 0;
  std::uint64_t visited = 0;
  std::string next;
  bool more = false;
  Status s;
  if (!other_type) {
    // From the cursor to the end of the prefix's keys: the first key without the prefix ends the page.
    auto visit = [&](std::string_view key, std::string_view) {
      if (!key.starts_with(prefix)) return false;
      if (visited == count) {
        next.assign(key);
        more = true;
        return false;
      }
      ++visited;
      if (!filter || glob_match(pattern, key)) {
        resp::append_bulk(&reply_scratch_, key);
        ++matched;
      }
      return true;
    };
    s = tx_ != nullptr ? tx_->txn.scan(begin, {}, visit) : state_.engine.scan(begin, {}, visit);
  }
  if (!s.ok()) return reply_status(s, out);
  resp::append_array_header(out, 2);
  const std::uint64_t next_cursor = more ? state_.cursors.save(next) : 0;
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), next_cursor);
  resp::append_bulk(out, std::string_view(digits, static_cast<std::size_t>(result.ptr - digits)));
  resp::append_array_header(out, matched);
  out->append(reply_scratch_);
}

void Commands::keys(const Args& a, std::string* out) {
  const std::string_view pattern = a[1];
  const std::string prefix = glob_literal_prefix(pattern);
  const bool filter = !glob_is_prefix_only(pattern);
  reply_scratch_.clear();
  std::size_t matched = 0;
  auto visit = [&](std::string_view key, std::string_view) {
    if (tx_ != nullptr && !key.starts_with(prefix)) return false;  // the transaction scans a range
    if (!filter || glob_match(pattern, key)) {
      resp::append_bulk(&reply_scratch_, key);
      ++matched;
    }
    return true;
  };
  const Status s =
      tx_ != nullptr ? tx_->txn.scan(prefix, {}, visit) : state_.engine.scan_prefix(prefix, visit);
  if (!s.ok()) return reply_status(s, out);
  resp::append_array_header(out, matched);
  out->append(reply_scratch_);
}

void Commands::dbsize(const Args&, std::string* out) {
  resp::append_integer(out, static_cast<std::int64_t>(state_.engine.size()));
}

// FLUSHDB [ASYNC | SYNC], FLUSHALL [ASYNC | SYNC]: both remove every key (there is one database).
void Commands::flushdb(const Args& a, std::string* out) {
  if (a.size() > 2 || (a.size() == 2 && !equals_lowercase(a[1], "async") && !equals_lowercase(a[1], "sync"))) {
    return reply_syntax_error(out);
  }
  Status s;
  if (tx_ == nullptr) {
    s = state_.engine.clear();
  } else {
    // Inside EXEC: every key the transaction sees is erased in it (the whole key range is read, so
    // a key written meanwhile by anyone makes the commit conflict and EXEC start over).
    std::vector<std::string> keys;
    s = tx_->txn.scan({}, {}, [&](std::string_view key, std::string_view) {
      keys.emplace_back(key);
      return true;
    });
    for (std::size_t i = 0; i < keys.size() && s.ok(); ++i) {
      bool removed = false;
      s = remove(keys[i], &removed);
    }
  }
  if (!s.ok()) return reply_status(s, out);
  resp::append_ok(out);
}

// ---- server --------------------------------------------------------------------------------------

// SAVE: a checkpoint (a snapshot of the store, written while other workers go on serving). A memory-only
// server answers with the engine's NotSupported.
void Commands::save(const Args&, std::string* out) {
  const Status s = state_.engine.checkpoint();
  if (!s.ok()) return reply_status(s, out);
  resp::append_ok(out);
}

// BGSAVE [SCHEDULE]: the same checkpoint on a thread of its own (ServerState::background_save); the
// reply comes at once. INFO persistence tells when it is done and how it went. One at a time, as in
// Redis (which also answers SCHEDULE with "already in progress" while a save runs). A memory-only
// server has nothing to save: its engine's checkpoint() answers NotSupported at once, and so does BGSAVE.
void Commands::bgsave(const Args& a, std::string* out) {
  if (a.size() > 2 || (a.size() == 2 && !equals_lowercase(a[1], "schedule"))) return reply_syntax_error(out);
  if (state_.data_dir.empty()) return reply_status(state_.engine.checkpoint(), out);
  if (!state_.background_save.start(state_.engine)) {
    return resp::append_error(out, "ERR Background save already in progress");
  }
  resp::append_simple(out, "Background saving started");
}

// INFO [section ...]: server, clients, stats, engine (the engine's Stats), persistence (BGSAVE),
// keyspace; "all", "default" and "everything" give them all. An unknown section gives nothing, as in
// Redis.
void Commands::info(const Args& a, std::string* out) {
  auto wanted = [&](std::string_view section) {
    if (a.size() == 1) return true;
    for (std::size_t i = 1; i < a.size(); ++i) {
      if (equals_lowercase(a[i], section) || equals_lowercase(a[i], "all") || equals_lowercase(a[i], "default") ||
          equals_lowercase(a[i], "everything")) {
        return true;
      }
    }
    return false;
  };
  const Stats stats = state_.engine.stats();
  std::string text;
  auto field = [&text](std::string_view name, auto value) {
    text += name;
    text += ':';
    if constexpr (std::is_convertible_v<decltype(value), std::string_view>) {
      text += value;
    } else {
      text += std::to_string(value);
    }
    text += "\r\n";
  };
  auto section = [&text](std::string_view title) {
    if (!text.empty()) text += "\r\n";
    text += "# ";
    text += title;
    text += "\r\n";
  };
  if (wanted("server")) {
    section("Server");
    field("mantis_version", MANTIS_SERVER_VERSION);
    field("process_id", static_cast<long long>(::getpid()));
    field("tcp_port", static_cast<unsigned>(state_.resp_port));
    field("http_port", static_cast<unsigned>(state_.http_port));
    field("io_threads", state_.worker_counters.size());
    field("uptime_in_seconds", static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                          std::chrono::steady_clock::now() - state_.started)
                                                          .count()));
    field("data_dir", state_.data_dir.empty() ? std::string_view("(memory only)") : std::string_view(state_.data_dir));
    field("durability", std::string_view(state_.durability));
  }
  if (wanted("clients")) {
    section("Clients");
    field("connected_clients", state_.connected_clients.load(std::memory_order_relaxed));
    field("maxclients", state_.max_clients);
  }
  if (wanted("stats")) {
    section("Stats");
    field("total_connections_received", state_.total_connections.load(std::memory_order_relaxed));
    field("total_commands_processed", state_.commands_processed());
    field("rejected_connections", state_.rejected_connections.load(std::memory_order_relaxed));
    field("protocol_errors", state_.protocol_errors.load(std::memory_order_relaxed));
    field("idle_timeouts", state_.idle_timeouts.load(std::memory_order_relaxed));
    field("expired_keys", stats.expired);
    field("keyspace_hits", stats.hits);
    field("keyspace_misses", stats.misses);
  }
  if (wanted("engine")) {
    // The engine's metrics table (Stats::metrics()), named by their JSON paths: "keys", "cache_hits"...
    section("Engine");
    for (const Metric& metric : stats.metrics()) {
      std::string name(metric.json_path);
      std::replace(name.begin(), name.end(), '.', '_');
      std::visit([&](auto value) { field(name, value); }, metric.value);
    }
  }
  if (wanted("persistence")) {
    section("Persistence");
    const BackgroundSave::State saving = state_.background_save.state();
    field("rdb_bgsave_in_progress", saving.running ? 1 : 0);
    field("rdb_last_bgsave_status", std::string_view(saving.last_ok ? "ok" : "err"));
    field("rdb_saves", saving.completed);
  }
  if (wanted("keyspace")) {
    section("Keyspace");
    if (stats.keys > 0) field("db0", "keys=" + std::to_string(stats.keys));
  }
  resp::append_bulk(out, text);
}

// COMMAND, COMMAND COUNT, COMMAND LIST, COMMAND INFO name...: the table in Redis's classic
// six-field form (name, arity, flags, first key, last key, step). COMMAND DOCS is an error, which
// makes redis-cli fall back on its built-in help.
void Commands::command(const Args& a, std::string* out) {
  auto append_spec = [out](const Spec& spec) {
    resp::append_array_header(out, 6);
    resp::append_bulk(out, spec.name);
    resp::append_integer(out, spec.arity);
    std::size_t flags = 0;
    for (std::size_t from = 0; from < spec.flags.size();) {
      const std::size_t space = std::min(spec.flags.find(' ', from), spec.flags.size());
      ++flags;
      from = space + 1;
    }
    resp::append_array_header(out, flags);
    for (std::size_t from = 0; from < spec.flags.size();) {
      const std::size_t space = std::min(spec.flags.find(' ', from), spec.flags.size());
      resp::append_simple(out, spec.flags.substr(from, space - from));
      from = space + 1;
    }
    resp::append_integer(out, spec.first_key);
    resp::append_integer(out, spec.last_key);
    resp::append_integer(out, spec.step);
  };
  const auto specs = table();
  if (a.size() == 1) {
    resp::append_array_header(out, specs.size());
    for (const Spec& spec : specs) append_spec(spec);
  } else if (equals_lowercase(a[1], "count") && a.size() == 2) {
    resp::append_integer(out, static_cast<std::int64_t>(specs.size()));
  } else if (equals_lowercase(a[1], "list") && a.size() == 2) {
    resp::append_array_header(out, specs.size());
    for (const Spec& spec : specs) resp::append_bulk(out, spec.name);
  } else if (equals_lowercase(a[1], "info")) {
    resp::append_array_header(out, a.size() - 2);
    for (std::size_t i = 2; i < a.size(); ++i) {
      const std::string name = lowercase(a[i]);
      const auto it = std::find_if(specs.begin(), specs.end(), [&](const Spec& spec) { return spec.name == name; });
      if (it == specs.end()) {
        resp::append_null(out);
      } else {
        append_spec(*it);
      }
    }
  } else {
    resp::append_error(out, "ERR unknown subcommand '" + std::string(a[1].substr(0, 64)) +
                                "'. Try COMMAND, COMMAND COUNT, COMMAND LIST or COMMAND INFO name...");
  }
}

void Commands::ping(const Args& a, std::string* out) {
  if (a.size() == 1) return resp::append_simple(out, "PONG");
  if (a.size() == 2) return resp::append_bulk(out, a[1]);
  resp::append_error(out, "ERR wrong number of arguments for 'ping' command");
}

void Commands::echo(const Args& a, std::string* out) { resp::append_bulk(out, a[1]); }

// There is one database; SELECT 0 is accepted so that clients configured with db 0 work.
void Commands::select(const Args& a, std::string* out) {
  const auto index = parse_integer<std::int64_t>(a[1]);
  if (!index) return reply_not_integer(out);
  if (*index != 0) return resp::append_error(out, "ERR DB index is out of range");
  resp::append_ok(out);
}

void Commands::quit(const Args&, std::string* out) { resp::append_ok(out); }

}  // namespace mantis::server
