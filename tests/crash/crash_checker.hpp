// The crash loop's checker: what the writers reported (the journal), what the recovered engine holds
// (the observation), and the rules that decide whether the second may follow from the first.
//
// Legality rules, for one cycle (a writer process killed with SIGKILL at a random moment):
//   R1 Every value read back equals encode_value(key, version) for its key, byte for byte (no torn,
//      foreign or unknown value), and every key read back is one of the workload's keys.
//   R2 Scan and point reads agree (a short-TTL key may expire between the two).
//   R3 Per writer thread, the recovered state of all of that thread's keys together equals the state
//      after some prefix (a "cut" k) of the operations the thread started, applied in order to the
//      state recovered in the previous cycle. A thread has at most one operation in flight (started,
//      not acknowledged), so with kAsync and kSync, where kill -9 loses nothing acknowledged, k is
//      "all acknowledged operations" or "those plus the in-flight one". Without that guarantee
//      (kPeriodic by default), k may be any prefix. Consequences: an acknowledged put is there at its
//      version or a newer one of the same thread; an erased key is absent unless a later put was
//      acknowledged or in flight; a batch (all its puts share one version, its batch id) is there
//      entirely or not at all; a TTL is there with a deadline within the bounds the operation's
//      start and acknowledgement (or the kill) allow; a key whose deadline passed is invisible.
//   R4 Across threads, the cuts form a prefix of log order: an operation acknowledged before another
//      one was started has the smaller log sequence number, so if the later one survived, the
//      earlier one survived too.
// Live checks, while applying operations: expire/persist answered NotFound only for absent keys.
// Any violation stops the loop; the report names the key, what was acknowledged (and what the
// in-flight operation would have made of it), what was found, and the key's operations in the cycle.
// One file: the rules and the code that applies them belong side by side.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "crash_workload.hpp"
#include "printable.hpp"

namespace mantis::crash {

// One operation of one thread, as reported: the intent, and the ack if it came.
struct JournalOp {
  Msg intent{};
  std::uint64_t intent_seq = 0;  // order of arrival over all threads (the pipe serializes writes)
  bool acked = false;
  AckResult result = AckResult::kOk;
  std::int64_t ack_ms = 0;
  std::uint64_t ack_seq = 0;
};

struct Journal {
  using Message = Msg;  // what the writers send
  std::array<std::vector<JournalOp>, kThreads> ops;
  bool ready = false;
  std::int64_t end_ms = 0;  // set once the writers are dead or stopped: no operation ran later
  std::uint64_t next_seq = 0;
  std::string error;  // the writers broke the reporting protocol (a harness bug, not the engine's)

  void add(const Msg& msg) {
    const std::uint64_t seq = next_seq++;
    if (msg.kind == MsgKind::kReady) {
      ready = true;
      return;
    }
    if (msg.thread >= kThreads) {
      error = "message from unknown thread " + std::to_string(msg.thread);
      return;
    }
    auto& thread_ops = ops[msg.thread];
    if (msg.kind == MsgKind::kIntent) {
      if (!thread_ops.empty() && !thread_ops.back().acked) {
        error = "thread " + std::to_string(msg.thread) + " started an operation before its previous one was acked";
        return;
      }
      thread_ops.push_back(JournalOp{msg, seq});
    } else if (msg.kind == MsgKind::kAck) {
      if (thread_ops.empty() || thread_ops.back().acked || thread_ops.back().intent.version != msg.version) {
        error = "thread " + std::to_string(msg.thread) + " acked an operation it had not started";
        return;
      }
      JournalOp& op = thread_ops.back();
      op.acked = true;
      op.result = msg.result;
      op.ack_ms = msg.time_ms;
      op.ack_seq = seq;
    } else {
      error = "message of unknown kind";
    }
  }
  std::size_t acked_count() const {
    std::size_t n = 0;
    for (const auto& thread_ops : ops)
      n += static_cast<std::size_t>(
          std::count_if(thread_ops.begin(), thread_ops.end(), [](const JournalOp& op) { return op.acked; }));
    return n;
  }
};

// What one point read (get, then ttl) of a key returned.
struct Observed {
  bool present = false;
  std::uint64_t version = 0;
  std::optional<std::int64_t> ttl_ms;  // remaining, when ttl() reported one
  bool ttl_not_found = false;          // ttl() said NotFound right after get() found the key
};

struct Observation {
  std::vector<Observed> keys = std::vector<Observed>(kKeys);
  std::int64_t start_ms = 0;          // wall clock before the first read
  std::int64_t end_ms = 0;            // after the last
  std::vector<std::string> problems;  // R1 and R2 violations, read errors
};

using mantis::test::printable;

inline std::string hex_version(std::uint64_t version) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(version));
  return buf;
}

// Reads every key of the engine (one full scan, then get and ttl per workload key). Nothing else
// may write meanwhile.
inline Observation observe(const Engine& engine) {
  Observation obs;
  obs.start_ms = wall_ms();
  std::vector<std::optional<std::uint64_t>> scanned(kKeys);
  {
    auto it = engine.new_iterator();
    std::string previous;
    bool first = true;
    for (it->seek_to_first(); it->valid(); it->next()) {
      const std::string_view name = it->key();
      if (!first && !(previous < name)) obs.problems.push_back("scan out of order at key '" + printable(name) + "'");
      first = false;
      previous = std::string(name);
      const auto key = parse_key_name(name);
      if (!key) {
        obs.problems.push_back("unknown key '" + printable(name) + "' (value '" + printable(it->value()) + "')");
        continue;
      }
      const auto version = parse_value(*key, it->value());
      if (!version) {
        obs.problems.push_back("torn or unknown value under " + key_name(*key) + " (scan): '" + printable(it->value()) +
                               "'");
        continue;
      }
      scanned[*key] = version;
    }
    if (!it->status().ok()) obs.problems.push_back("iterator failed: " + it->status().to_string());
  }
  std::string value;
  for (unsigned key = 0; key < kKeys; ++key) {
    const std::string name = key_name(key);
    Observed& o = obs.keys[key];
    const Status s = engine.get(name, &value);
    if (s.ok()) {
      const auto version = parse_value(key, value);
      if (!version) {
        obs.problems.push_back("torn or unknown value under " + name + " (get): '" + printable(value) + "'");
        continue;
      }
      o.present = true;
      o.version = *version;
      std::optional<std::chrono::milliseconds> remaining;
      const Status t = engine.ttl(name, &remaining);
      if (t.ok()) {
        if (remaining) o.ttl_ms = remaining->count();
      } else if (t.is_not_found()) {
        o.ttl_not_found = true;
      } else {
        obs.problems.push_back("ttl(" + name + ") failed: " + t.to_string());
      }
    } else if (!s.is_not_found()) {
      obs.problems.push_back("get(" + name + ") failed: " + s.to_string());
    }
    const bool may_have_expired = is_short_ttl_key(key) && !o.present;
    if (scanned[key].has_value() != o.present && !may_have_expired) {
      obs.problems.push_back(
          "scan and get disagree on " + name + ": scan " +
          (scanned[key] ? "found version " + hex_version(*scanned[key]) : std::string("found nothing")) + ", get " +
          (o.present ? "found version " + hex_version(o.version) : std::string("found nothing")));
    } else if (scanned[key] && o.present && *scanned[key] != o.version) {
      obs.problems.push_back("scan and get disagree on " + name + ": versions " + hex_version(*scanned[key]) + " and " +
                             hex_version(o.version));
    }
  }
  obs.end_ms = wall_ms();
  return obs;
}

inline std::string describe(const Observed& o) {
  if (!o.present) return "absent";
  std::string out = "version " + hex_version(o.version);
  if (o.ttl_ms)
    out += ", ttl " + std::to_string(*o.ttl_ms) + " ms left";
  else if (o.ttl_not_found)
    out += ", expired before ttl() could read it";
  else
    out += ", no ttl";
  return out;
}

// Why observing `o` is illegal for a key in state `s`, or nullopt if it is legal.
inline std::optional<std::string> mismatch(const KeyState& s, const Observed& o, const Observation& obs) {
  constexpr std::int64_t kSlackMs = 5;  // clock reads on either side round to whole milliseconds
  if (!s.present) {
    if (o.present) return std::string("present, but it should be absent");
    return std::nullopt;
  }
  if (!s.has_ttl) {
    if (!o.present) return std::string("absent, but it should be present");
    if (o.version != s.version) return std::string("wrong version");
    if (o.ttl_ms || o.ttl_not_found) return std::string("has a ttl it should not have");
    return std::nullopt;
  }
  const bool surely_expired = obs.start_ms >= s.expires_hi + kSlackMs;
  const bool surely_alive = obs.end_ms + kSlackMs < s.expires_lo;
  if (!o.present) {
    if (surely_alive) return std::string("absent, but it should be present (its ttl has not run out)");
    return std::nullopt;
  }
  if (surely_expired) return std::string("visible after its ttl ran out");
  if (o.version != s.version) return std::string("wrong version");
  if (o.ttl_not_found)
    return surely_alive ? std::optional<std::string>("ttl() said NotFound before the deadline") : std::nullopt;
  if (!o.ttl_ms) return std::string("lost its ttl");
  if (*o.ttl_ms > s.expires_hi - obs.start_ms + kSlackMs || *o.ttl_ms < s.expires_lo - obs.end_ms - kSlackMs) {
    return std::string("ttl outside the bounds the write allows");
  }
  return std::nullopt;
}

// Applies one journal operation to the key states. `end_ms` bounds when an unacknowledged operation
// could have run. A live-check failure is appended to *live_error.
inline void apply(std::vector<KeyState>& states, const JournalOp& op, std::int64_t end_ms, std::string* live_error) {
  const Msg& m = op.intent;
  const std::int64_t lo = m.time_ms;
  const std::int64_t hi = op.acked ? op.ack_ms : end_ms;
  auto put = [&](unsigned key, std::int64_t ttl_ms) {
    KeyState& s = states[key];
    s = KeyState{true, m.version, ttl_ms > 0, ttl_ms > 0 ? lo + ttl_ms : 0, ttl_ms > 0 ? hi + ttl_ms : 0};
  };
  KeyState& first = states[m.keys[0]];
  switch (m.op) {
    case OpKind::kPut:
      put(m.keys[0], 0);
      break;
    case OpKind::kPutLongTtl:
      put(m.keys[0], kLongPutTtlMs);
      break;
    case OpKind::kPutShortTtl:
      put(m.keys[0], m.ttl_ms);
      break;
    case OpKind::kErase:
      first = KeyState{};
      break;
    case OpKind::kBatch:
      for (unsigned i = 0; i < m.count; ++i) {
        if (m.flags[i] & kEntryErase) {
          states[m.keys[i]] = KeyState{};
        } else {
          put(m.keys[i], m.flags[i] & kEntryLongTtl ? kLongPutTtlMs : 0);
        }
      }
      break;
    case OpKind::kExpire:
    case OpKind::kPersist: {
      const bool not_found = op.acked && op.result == AckResult::kNotFound;
      if (not_found != !first.present && op.acked && live_error != nullptr) {
        *live_error += std::string(op_name(m.op)) + " of " + key_name(m.keys[0]) + " answered " +
                       (not_found ? "NotFound" : "OK") + " while the key was " + describe(first) + "\n";
      }
      if (first.present && !not_found) {
        first.has_ttl = m.op == OpKind::kExpire;
        first.expires_lo = first.has_ttl ? lo + kLongExpireTtlMs : 0;
        first.expires_hi = first.has_ttl ? hi + kLongExpireTtlMs : 0;
      }
      break;
    }
  }
}

inline bool touches(const Msg& m, unsigned key) {
  for (unsigned i = 0; i < m.count; ++i) {
    if (m.keys[i] == key) return true;
  }
  return false;
}

struct CheckOutcome {
  bool ok = true;
  std::string report;     // the violation, when !ok
  std::size_t acked = 0;  // acknowledged operations in the cycle
  std::size_t in_flight = 0;
  std::size_t in_flight_applied = 0;  // in-flight operations that must have been applied
  std::size_t in_flight_lost = 0;     // ... that must have been lost
  std::size_t acked_lost = 0;         // acknowledged operations lost (only legal without the kill -9 guarantee)
  std::size_t keys_present = 0;
};

// Checks one cycle: `model` is the state recovered in the previous cycle; on success it becomes the
// state this cycle recovered.
inline CheckOutcome check_cycle(std::vector<KeyState>& model, const Journal& journal, const Observation& obs,
                                bool acked_must_survive) {
  CheckOutcome out;
  out.acked = journal.acked_count();
  auto fail = [&](std::string report) {
    out.ok = false;
    out.report = std::move(report);
    return out;
  };
  if (!journal.error.empty()) return fail("harness: " + journal.error);
  if (!obs.problems.empty()) {
    std::string report = "the recovered engine returned data no write produced:\n";
    for (std::size_t i = 0; i < obs.problems.size() && i < 10; ++i) report += "  " + obs.problems[i] + "\n";
    return fail(report);
  }
  std::string live_errors;
  std::array<std::size_t, kThreads> kmin{}, kmax{}, acked_prefix{};
  for (unsigned t = 0; t < kThreads; ++t) {
    const auto& ops = journal.ops[t];
    const std::size_t m = ops.size();
    std::size_t a = 0;
    while (a < m && ops[a].acked) ++a;
    acked_prefix[t] = a;
    std::vector<KeyState> states = model;
    std::vector<char> bad(kKeys, 0);
    std::size_t bad_count = 0;
    for (unsigned key = t; key < kKeys; key += kThreads) {
      bad[key] = mismatch(states[key], obs.keys[key], obs).has_value();
      bad_count += bad[key];
    }
    const std::size_t lowest = acked_must_survive ? a : 0;
    std::vector<std::size_t> legal;
    if (bad_count == 0 && lowest == 0) legal.push_back(0);
    for (std::size_t k = 1; k <= m; ++k) {
      apply(states, ops[k - 1], journal.end_ms, &live_errors);
      const Msg& msg = ops[k - 1].intent;
      for (unsigned i = 0; i < msg.count; ++i) {
        const unsigned key = msg.keys[i];
        const char now_bad = mismatch(states[key], obs.keys[key], obs).has_value();
        bad_count = bad_count - static_cast<std::size_t>(bad[key]) + static_cast<std::size_t>(now_bad);
        bad[key] = now_bad;
      }
      if (bad_count == 0 && k >= lowest) legal.push_back(k);
    }
    if (!live_errors.empty()) return fail("the engine answered wrongly while the writers ran:\n" + live_errors);
    if (legal.empty()) {
      // Explain against the cut the guarantee names: all acknowledged operations.
      std::vector<KeyState> acked_states = model;
      for (std::size_t k = 0; k < a; ++k) apply(acked_states, ops[k], journal.end_ms, nullptr);
      std::vector<KeyState> all_states = acked_states;
      if (a < m) apply(all_states, ops[a], journal.end_ms, nullptr);
      std::string report = "thread " + std::to_string(t) + ": the recovered keys are not the state after " +
                           (acked_must_survive ? "its " + std::to_string(a) + " acknowledged operations" +
                                                     (a < m ? " (nor after its in-flight one)" : "")
                                               : std::string("any prefix of its operations")) +
                           "\n";
      // First the keys no cut explains; if every key alone is explained by one of the two cuts, the
      // keys of the in-flight operation that disagree on which one (a partly applied batch).
      auto explain_key = [&](unsigned key, const std::string& why) {
        report += "  key " + key_name(key) + ": " + why + "\n";
        report += "    acknowledged:   " + describe(acked_states[key]) + "\n";
        if (a < m && touches(ops[a].intent, key)) {
          report += "    with in-flight " + std::string(op_name(ops[a].intent.op)) + " " +
                    hex_version(ops[a].intent.version) + ": " + describe(all_states[key]) + "\n";
        }
        report += "    found:          " + describe(obs.keys[key]) + "\n";
        report += "    at cycle start: " + describe(model[key]) + "\n";
        std::vector<std::string> history;
        for (std::size_t k = 0; k < m; ++k) {
          if (!touches(ops[k].intent, key)) continue;
          history.push_back(
              "#" + std::to_string(k + 1) + " " + op_name(ops[k].intent.op) + " " + hex_version(ops[k].intent.version) +
              (ops[k].acked ? (ops[k].result == AckResult::kOk ? " acked" : " acked NotFound") : " in flight"));
        }
        report += "    operations this cycle (" + std::to_string(history.size()) + ", last 6):";
        for (std::size_t i = history.size() > 6 ? history.size() - 6 : 0; i < history.size(); ++i) {
          report += " " + history[i] + ";";
        }
        report += "\n";
      };
      int shown = 0;
      for (unsigned key = t; key < kKeys && shown < 5; key += kThreads) {
        const auto why = mismatch(acked_states[key], obs.keys[key], obs);
        if (!why || (a < m && !mismatch(all_states[key], obs.keys[key], obs))) continue;
        ++shown;
        explain_key(key, *why);
      }
      if (shown == 0 && a < m) {
        report += "  every key alone matches one of the two cuts, but no cut matches all of them: the in-flight " +
                  std::string(op_name(ops[a].intent.op)) + " is partly applied\n";
        for (unsigned key = t; key < kKeys && shown < 6; key += kThreads) {
          if (!touches(ops[a].intent, key)) continue;
          ++shown;
          const bool applied = !mismatch(all_states[key], obs.keys[key], obs);
          explain_key(key, applied ? "applied" : "not applied");
        }
      }
      return fail(report);
    }
    kmin[t] = legal.front();
    kmax[t] = legal.back();
    if (a < m) {
      ++out.in_flight;
      out.in_flight_applied += kmin[t] > a;
      out.in_flight_lost += kmax[t] <= a;
    }
    if (kmax[t] < a) out.acked_lost += a - kmax[t];
  }
  // R4: the cuts together are a prefix of log order.
  for (unsigned u = 0; u < kThreads; ++u) {
    const auto& lost_ops = journal.ops[u];
    if (kmax[u] >= lost_ops.size() || !lost_ops[kmax[u]].acked) continue;
    const JournalOp& lost = lost_ops[kmax[u]];
    for (unsigned t = 0; t < kThreads; ++t) {
      if (t == u || kmin[t] == 0) continue;
      const JournalOp& survived = journal.ops[t][kmin[t] - 1];
      if (lost.ack_seq < survived.intent_seq) {
        return fail("not a prefix of log order: thread " + std::to_string(u) + "'s " + op_name(lost.intent.op) + " " +
                    hex_version(lost.intent.version) + " (operation #" + std::to_string(kmax[u] + 1) +
                    ", acknowledged) is lost, but thread " + std::to_string(t) + "'s " + op_name(survived.intent.op) +
                    " " + hex_version(survived.intent.version) + " (operation #" + std::to_string(kmin[t]) +
                    "), started after that acknowledgement, survived\n");
      }
    }
  }
  for (unsigned t = 0; t < kThreads; ++t) {
    for (std::size_t k = 0; k < kmax[t]; ++k) apply(model, journal.ops[t][k], journal.end_ms, nullptr);
  }
  for (const Observed& o : obs.keys) out.keys_present += o.present;
  return out;
}

}  // namespace mantis::crash
