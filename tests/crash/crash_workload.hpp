// The crash loop's workload: keys, self-checking values, the operations writer threads run, the
// messages they send about them, and what each operation does to the state of its keys.
//
// Every key is owned by exactly one writer thread (key i by thread i % kThreads), for the whole run,
// so the operations on a key form one sequence, in the order its owner ran them. A version is
// (cycle << 32) | (number of the operation in its thread's cycle): versions of a key only grow, across
// cycles too. A batch writes all of its puts with the batch's version (its "batch id"). One put and one
// erase in three run as conditional writes (a versioned read, then put_if_version / erase_if_version or
// erase(key, &removed)), so the logged path of conditional writes is killed at random moments too.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <mantis/engine.hpp>

namespace mantis::crash {

constexpr unsigned kThreads = 4;
constexpr unsigned kKeys = 2000;  // a multiple of kThreads
constexpr unsigned kMaxBatch = 6;
constexpr std::int64_t kLongPutTtlMs = 3'600'000;     // put with a long TTL: 1 h
constexpr std::int64_t kLongExpireTtlMs = 7'200'000;  // expire(): 2 h
static_assert(kKeys % kThreads == 0);

// Short-TTL keys (20..400 ms) see only puts and erases, so that whether they expired never decides
// what another operation does.
inline bool is_short_ttl_key(unsigned key) { return key % 10 == 9; }
inline unsigned owner_of(unsigned key) { return key % kThreads; }

inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string key_name(unsigned key) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%06u", key);
  return buf;
}
// The key index of a name made by key_name, or nullopt for anything else.
inline std::optional<unsigned> parse_key_name(std::string_view name) {
  if (name.size() != 7 || name[0] != 'k') return std::nullopt;
  unsigned key = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    key = key * 10 + static_cast<unsigned>(c - '0');
  }
  if (key >= kKeys || key_name(key) != name) return std::nullopt;
  return key;
}

inline std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}
inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

// "k000123|<16 hex version>|<filler>|<16 hex FNV-1a of everything before>". The filler's length and
// bytes (NULs included) follow from key and version; one value in 64 is 8-40 KiB, so records cross
// log blocks. A value is legal only if it equals encode_value(key, version) byte for byte.
inline std::string encode_value(unsigned key, std::uint64_t version) {
  char head[32];
  std::snprintf(head, sizeof head, "%s|%016llx|", key_name(key).c_str(), static_cast<unsigned long long>(version));
  std::string value = head;
  const std::uint64_t h = mix(version * 1315423911u + key);
  const std::size_t filler = h % 64 == 0 ? 8192 + (h >> 8) % 32768 : (h >> 8) % 200;
  for (std::size_t i = 0; i < filler; ++i) value += static_cast<char>((h >> (i % 56)) + i * 7);
  char tail[24];
  std::snprintf(tail, sizeof tail, "|%016llx", static_cast<unsigned long long>(fnv1a(value)));
  return value + tail;
}
// The version a value of `key` encodes, or nullopt if the value is torn, foreign or unknown.
inline std::optional<std::uint64_t> parse_value(unsigned key, std::string_view value) {
  const std::string name = key_name(key);
  if (value.size() < name.size() + 1 + 16 + 1 + 17 || value.substr(0, name.size()) != name ||
      value[name.size()] != '|') {
    return std::nullopt;
  }
  std::uint64_t version = 0;
  for (char c : value.substr(name.size() + 1, 16)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
    if (digit < 0) return std::nullopt;
    version = version * 16 + static_cast<unsigned>(digit);
  }
  if (value != encode_value(key, version)) return std::nullopt;
  return version;
}

enum class OpKind : std::uint8_t { kPut = 1, kPutLongTtl, kPutShortTtl, kErase, kBatch, kExpire, kPersist };
enum EntryFlag : std::uint8_t { kEntryErase = 1, kEntryLongTtl = 2 };
enum class MsgKind : std::uint8_t { kReady = 1, kIntent, kAck };
enum class AckResult : std::uint8_t { kOk = 0, kNotFound = 1 };

// One report from a writer, sent with one write() to the pipe (atomic: smaller than PIPE_BUF).
// An intent goes out before the call, an ack after it returned. Plain bytes, same build both ends.
struct Msg {
  MsgKind kind;
  OpKind op;
  AckResult result;
  std::uint8_t count;  // batch entries (1 for single operations)
  std::uint16_t thread;
  std::uint16_t padding;
  std::uint32_t ttl_ms;  // kPutShortTtl
  std::uint32_t keys[kMaxBatch];
  std::uint8_t flags[kMaxBatch];  // EntryFlag per batch entry
  std::uint16_t padding2;
  std::uint64_t version;
  std::int64_t time_ms;  // wall clock when sent
};
static_assert(sizeof(Msg) <= 512, "a message must be written atomically to a pipe");

inline const char* op_name(OpKind op) {
  switch (op) {
    case OpKind::kPut:
      return "put";
    case OpKind::kPutLongTtl:
      return "put(ttl 1h)";
    case OpKind::kPutShortTtl:
      return "put(short ttl)";
    case OpKind::kErase:
      return "erase";
    case OpKind::kBatch:
      return "batch";
    case OpKind::kExpire:
      return "expire(2h)";
    case OpKind::kPersist:
      return "persist";
  }
  return "?";
}

// Draws the next operation of `thread` (without version or time): which keys, which kind.
// force_batch: the self-test wants an in-flight batch.
inline Msg draw_op(std::mt19937_64& rng, unsigned thread, bool force_batch = false) {
  Msg msg{};
  msg.kind = MsgKind::kIntent;
  msg.thread = static_cast<std::uint16_t>(thread);
  msg.count = 1;
  auto any_key = [&] { return thread + kThreads * static_cast<unsigned>(rng() % (kKeys / kThreads)); };
  auto plain_key = [&] {
    unsigned key;
    do key = any_key();
    while (is_short_ttl_key(key));
    return key;
  };
  const unsigned first = any_key();
  const unsigned roll = static_cast<unsigned>(rng() % 100);
  if (!force_batch && is_short_ttl_key(first)) {
    msg.keys[0] = first;
    msg.op = roll < 60 ? OpKind::kPutShortTtl : (roll < 85 ? OpKind::kPut : OpKind::kErase);
    msg.ttl_ms = 20 + static_cast<std::uint32_t>(rng() % 381);
    return msg;
  }
  if (force_batch || (roll >= 67 && roll < 85)) {
    msg.op = OpKind::kBatch;
    const unsigned puts = 2 + static_cast<unsigned>(rng() % 4);
    const unsigned total = puts + (rng() % 5 == 0 ? 1 : 0);
    unsigned count = 0;
    while (count < total) {
      const unsigned key = plain_key();
      bool duplicate = false;
      for (unsigned i = 0; i < count; ++i) duplicate = duplicate || msg.keys[i] == key;
      if (duplicate) continue;
      msg.keys[count] = key;
      msg.flags[count] = count >= puts ? kEntryErase : (rng() % 4 == 0 ? kEntryLongTtl : 0);
      ++count;
    }
    msg.count = static_cast<std::uint8_t>(count);
    return msg;
  }
  msg.keys[0] = plain_key();
  msg.op = roll < 45   ? OpKind::kPut
           : roll < 55 ? OpKind::kPutLongTtl
           : roll < 67 ? OpKind::kErase
           : roll < 93 ? OpKind::kExpire
                       : OpKind::kPersist;
  return msg;
}

// A put as a compare-and-set on the version just read (0: absent). The thread owns its keys, so only
// expiry can move the version between the read and the write (a short-TTL key): then it reads again.
inline Status compare_and_set(Engine& engine, const std::string& key, const std::string& value) {
  std::string current;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Version version = 0;
    Status s = engine.get(key, &current, &version);
    if (!s.ok() && !s.is_not_found()) return s;
    s = engine.put_if_version(key, s.ok() ? version : 0, value);
    if (!s.is_condition_failed()) return s;
  }
  return Status::corruption("crash loop: " + key + "'s version kept moving with no other writer");
}

// An erase through erase_if_version when the key is present, erase(key, &removed) when it is not
// (retried, as above, when expiry moves the version in between).
inline Status erase_reporting(Engine& engine, const std::string& key) {
  std::string current;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Version version = 0;
    Status s = engine.get(key, &current, &version);
    if (s.is_not_found()) {
      bool removed = false;
      return engine.erase(key, &removed);  // absent at the read; removed only if expiry lagged (lazy)
    }
    if (!s.ok()) return s;
    s = engine.erase_if_version(key, version);
    if (!s.is_condition_failed()) return s;
  }
  return Status::corruption("crash loop: " + key + "'s version kept moving with no other writer");
}

// Runs the operation an intent describes. NotFound is a legal outcome of expire and persist only.
inline Status execute(Engine& engine, const Msg& msg) {
  const std::string key = key_name(msg.keys[0]);
  switch (msg.op) {
    case OpKind::kPut:
      // One put in three goes through the conditional path (a versioned read, then compare-and-set):
      // the thread owns its keys, so the condition holds, and what the log and recovery see is a put.
      if (msg.version % 3 == 0) return compare_and_set(engine, key, encode_value(msg.keys[0], msg.version));
      return engine.put(key, encode_value(msg.keys[0], msg.version));
    case OpKind::kPutLongTtl:
      return engine.put(key, encode_value(msg.keys[0], msg.version),
                        WriteOptions{.ttl = std::chrono::milliseconds(kLongPutTtlMs)});
    case OpKind::kPutShortTtl:
      return engine.put(key, encode_value(msg.keys[0], msg.version),
                        WriteOptions{.ttl = std::chrono::milliseconds(msg.ttl_ms)});
    case OpKind::kErase:
      if (msg.version % 3 == 0) return erase_reporting(engine, key);
      return engine.erase(key);
    case OpKind::kExpire:
      return engine.expire(key, std::chrono::milliseconds(kLongExpireTtlMs));
    case OpKind::kPersist:
      return engine.persist(key);
    case OpKind::kBatch: {
      WriteBatch batch;
      for (unsigned i = 0; i < msg.count; ++i) {
        if (msg.flags[i] & kEntryErase) {
          batch.erase(key_name(msg.keys[i]));
        } else {
          batch.put(key_name(msg.keys[i]), encode_value(msg.keys[i], msg.version),
                    std::chrono::milliseconds(msg.flags[i] & kEntryLongTtl ? kLongPutTtlMs : 0));
        }
      }
      return engine.write(batch);
    }
  }
  return Status::invalid_argument("unknown crash-loop operation");
}

// What the checker knows about one key: absent, or present at a version, with no TTL or with a
// deadline known to lie in [expires_lo, expires_hi] (wall-clock ms: the engine read its clock
// somewhere between the intent and the ack, or the kill, of the operation that set it).
struct KeyState {
  bool present = false;
  std::uint64_t version = 0;
  bool has_ttl = false;
  std::int64_t expires_lo = 0;
  std::int64_t expires_hi = 0;

  bool operator==(const KeyState&) const = default;
};

inline std::string describe(const KeyState& s) {
  if (!s.present) return "absent";
  char buf[128];
  if (!s.has_ttl) {
    std::snprintf(buf, sizeof buf, "version %016llx, no ttl", static_cast<unsigned long long>(s.version));
  } else {
    std::snprintf(buf, sizeof buf, "version %016llx, expires in [%lld, %lld] ms wall clock",
                  static_cast<unsigned long long>(s.version), static_cast<long long>(s.expires_lo),
                  static_cast<long long>(s.expires_hi));
  }
  return buf;
}

}  // namespace mantis::crash
