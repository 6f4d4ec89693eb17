// RegisterChecker: an exact linearizability check of per-key register histories (put, get, erase, and
// the conditional writes: compare-and-set, swap, erase reporting whether it removed),
// in the manner of Lowe's just-in-time linearization (the search Porcupine and Knossos also do, made
// linear in the history's length by the bounded number of operations in flight).
//
// What it checks. Each operation is one client's call on one key, with the real-time interval
// [invoked_ns, returned_ns] in which it ran and what it saw: a put wrote a unique value, a get returned
// a value or "absent", an erase removed the key; a compare-and-set wrote its value (kAbsent: erased)
// if and only if the key held `expected` (put if absent: expected kAbsent; put_if_version and
// erase_if_version: the value the version belonged to, values being unique); a swap (get_and_put)
// found `expected` and wrote its value; an erase that reports found the key present if and only if
// `succeeded`. The history of a key is linearizable when its
// operations can be put in one sequential order, consistent with real time (an operation that returned
// before another was invoked comes first), in which every get returns the value of the last put before
// it, or absent when an erase (or nothing) came last. Linearizability is local, so checking each key
// alone checks the whole history.
//
// How. Events are swept in time order (an invocation before a response at the same nanosecond, which
// only ever lets more histories pass). The checker keeps every configuration the key can be in: the
// register's value and which of the operations in flight are already linearized. When an operation
// returns, every configuration is extended by linearizing operations in flight, in any order that keeps
// each legal, until the returning one is linearized; configurations in which it cannot be are dropped.
// No configuration left means no order exists: a violation. The set stays small because at most one
// operation per thread is in flight.
//
// Sound and complete: a violation is reported exactly when the history is not linearizable (given
// timestamps that bound each call). An operation with no linearization is reported; a read (a get, or a
// conditional write whose condition failed) is then left out, a write is taken as if its condition had
// held, and the check goes on, so each bad operation counts once.
//
// Not thread-safe: one checker per thread. Rounds may be fed one after another with check(): the
// possible states at the end of a round carry into the next (every operation of a round must have
// returned before the next round's first invocation).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mantis::test {

// The value of an absent key (written values are never 0).
inline constexpr std::uint64_t kAbsent = 0;

struct RegisterOp {
  enum class Kind : std::uint8_t { kPut, kGet, kErase, kCompareAndSet, kSwap, kEraseReporting };
  Kind kind = Kind::kGet;
  std::uint16_t thread = 0;  // < RegisterChecker::kMaxThreads; at most one op per thread in flight
  std::uint32_t key = 0;
  std::uint64_t value = kAbsent;     // kPut, kCompareAndSet, kSwap: the value written (unique; kAbsent for an
                                     // erasing compare-and-set); kGet: what it returned
  std::uint64_t expected = kAbsent;  // kCompareAndSet: the condition's value; kSwap: the old value returned
  bool succeeded = true;             // kCompareAndSet: the write happened; kEraseReporting: the key was present
  std::uint64_t invoked_ns = 0;
  std::uint64_t returned_ns = 0;
};

std::string describe(const RegisterOp& op);

class RegisterChecker {
 public:
  static constexpr std::size_t kMaxThreads = 64;
  // Violations described beyond this many are only counted.
  static constexpr std::size_t kMaxDescribed = 20;

  // Checks one round of operations (any order; all returned). Returns the number of violations found.
  std::size_t check(const std::vector<RegisterOp>& ops);

  std::uint64_t operations() const noexcept { return operations_; }
  std::uint64_t violations() const noexcept { return violations_; }
  // The first kMaxDescribed violations, one line each.
  const std::vector<std::string>& reports() const noexcept { return reports_; }

 private:
  struct Config {
    std::uint64_t value;
    std::uint64_t linearized;  // bit t: thread t's op in flight is already linearized
    bool operator==(const Config&) const = default;
  };
  struct KeyState {
    std::vector<Config> configs{Config{kAbsent, 0}};
  };

  // Applies `op` to a register holding *value; false when `op`'s result is impossible from *value.
  static bool apply(const RegisterOp& op, std::uint64_t* value);
  // Whether `op`, as it returned, wrote.
  static bool changes_state(const RegisterOp& op);
  void check_key(const std::vector<const RegisterOp*>& ops, KeyState& state);
  void report(const RegisterOp& op, const std::vector<Config>& before);

  std::unordered_map<std::uint32_t, KeyState> keys_;
  std::uint64_t operations_ = 0;
  std::uint64_t violations_ = 0;
  std::vector<std::string> reports_;
};

// ---- implementation ----

inline std::string describe(const RegisterOp& op) {
  std::string text = "thread " + std::to_string(op.thread) + " ";
  switch (op.kind) {
    case RegisterOp::Kind::kPut:
      text += "put(" + std::to_string(op.value) + ")";
      break;
    case RegisterOp::Kind::kGet:
      text += "get() -> " + (op.value == kAbsent ? std::string("absent") : std::to_string(op.value));
      break;
    case RegisterOp::Kind::kErase:
      text += "erase()";
      break;
    case RegisterOp::Kind::kCompareAndSet:
      text += "compare_and_set(" + std::to_string(op.expected) + " -> " + std::to_string(op.value) + ") " +
              (op.succeeded ? "wrote" : "failed");
      break;
    case RegisterOp::Kind::kSwap:
      text += "swap(" + std::to_string(op.value) + ") -> " + std::to_string(op.expected);
      break;
    case RegisterOp::Kind::kEraseReporting:
      text += std::string("erase() -> ") + (op.succeeded ? "removed" : "was absent");
      break;
  }
  return text + " in [" + std::to_string(op.invoked_ns) + ", " + std::to_string(op.returned_ns) + "] ns";
}

inline bool RegisterChecker::apply(const RegisterOp& op, std::uint64_t* value) {
  switch (op.kind) {
    case RegisterOp::Kind::kPut:
      *value = op.value;
      return true;
    case RegisterOp::Kind::kErase:
      *value = kAbsent;
      return true;
    case RegisterOp::Kind::kGet:
      return op.value == *value;
    case RegisterOp::Kind::kCompareAndSet:
      if ((*value == op.expected) != op.succeeded) return false;
      if (op.succeeded) *value = op.value;
      return true;
    case RegisterOp::Kind::kSwap:
      if (*value != op.expected) return false;
      *value = op.value;
      return true;
    case RegisterOp::Kind::kEraseReporting:
      if ((*value != kAbsent) != op.succeeded) return false;
      *value = kAbsent;
      return true;
  }
  return false;
}

inline bool RegisterChecker::changes_state(const RegisterOp& op) {
  switch (op.kind) {
    case RegisterOp::Kind::kGet:
      return false;
    case RegisterOp::Kind::kCompareAndSet:
    case RegisterOp::Kind::kEraseReporting:
      return op.succeeded;
    default:
      return true;
  }
}

inline std::size_t RegisterChecker::check(const std::vector<RegisterOp>& ops) {
  const std::uint64_t before = violations_;
  std::unordered_map<std::uint32_t, std::vector<const RegisterOp*>> by_key;
  for (const RegisterOp& op : ops) by_key[op.key].push_back(&op);
  for (const auto& [key, key_ops] : by_key) check_key(key_ops, keys_[key]);
  operations_ += ops.size();
  return static_cast<std::size_t>(violations_ - before);
}

inline void RegisterChecker::check_key(const std::vector<const RegisterOp*>& ops, KeyState& state) {
  struct Event {
    std::uint64_t time;
    bool is_return;  // invocations sort first at equal times
    const RegisterOp* op;
  };
  std::vector<Event> events;
  events.reserve(ops.size() * 2);
  for (const RegisterOp* op : ops) {
    events.push_back({op->invoked_ns, false, op});
    events.push_back({op->returned_ns, true, op});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.time != b.time ? a.time < b.time : (!a.is_return && b.is_return);
  });

  const RegisterOp* in_flight[kMaxThreads] = {};
  std::vector<Config>& configs = state.configs;
  std::vector<Config> stack;
  std::vector<Config> seen;
  std::vector<Config> next;
  for (const Event& event : events) {
    const RegisterOp& op = *event.op;
    const std::uint64_t bit = std::uint64_t{1} << op.thread;
    if (!event.is_return) {
      in_flight[op.thread] = &op;
      continue;
    }
    // Every way to linearize in-flight operations, ending with this one.
    stack.assign(configs.begin(), configs.end());
    seen = stack;
    next.clear();
    while (!stack.empty()) {
      const Config config = stack.back();
      stack.pop_back();
      if (config.linearized & bit) {
        const Config done{config.value, config.linearized & ~bit};
        if (std::find(next.begin(), next.end(), done) == next.end()) next.push_back(done);
        continue;
      }
      for (std::size_t t = 0; t < kMaxThreads; ++t) {
        const RegisterOp* candidate = in_flight[t];
        if (candidate == nullptr || (config.linearized >> t) & 1) continue;
        Config after{config.value, config.linearized | (std::uint64_t{1} << t)};
        if (!apply(*candidate, &after.value)) continue;  // illegal here
        if (std::find(seen.begin(), seen.end(), after) != seen.end()) continue;
        seen.push_back(after);
        stack.push_back(after);
      }
    }
    in_flight[op.thread] = nullptr;
    if (next.empty()) {
      // No order makes this operation legal. Reported once; then a read is left out (it changes
      // nothing) and a write is applied unconditionally at the end of every configuration's order, so
      // the check goes on with the state the engine most likely has.
      report(op, configs);
      if (changes_state(op)) {
        for (Config& config : configs) {
          config.value = op.kind == RegisterOp::Kind::kEraseReporting ? kAbsent : op.value;
          config.linearized &= ~bit;
        }
        configs.erase(std::unique(configs.begin(), configs.end()), configs.end());
      }
      continue;
    }
    configs.swap(next);
  }
}

inline void RegisterChecker::report(const RegisterOp& op, const std::vector<Config>& before) {
  ++violations_;
  if (reports_.size() >= kMaxDescribed) return;
  std::string text =
      "key " + std::to_string(op.key) + ": " + describe(op) + " has no linearization; values the key could hold:";
  std::vector<std::uint64_t> values;
  for (const Config& config : before) {
    if (std::find(values.begin(), values.end(), config.value) != values.end()) continue;
    values.push_back(config.value);
    text += " " + (config.value == kAbsent ? std::string("absent") : std::to_string(config.value));
  }
  reports_.push_back(std::move(text));
}

}  // namespace mantis::test
