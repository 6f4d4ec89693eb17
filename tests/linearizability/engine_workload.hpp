// A concurrent put/get/erase (and conditional write) workload on a few keys of a mantis::Engine that records each
// call's real-time interval and result, for RegisterChecker (register_checker.hpp), and the engine configurations the
// checks run in.
//
// Values are unique: a put writes value_size bytes, the first 8 the value's id ((thread + 1) << 40 |
// counter) and the rest a pattern derived from the id, so a get also proves that what it read is whole.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <mantis/engine.hpp>

#include "register_checker.hpp"

namespace mantis::test {

struct RegisterWorkload {
  std::size_t threads = 4;
  std::size_t keys = 4;
  std::size_t ops_per_thread = 200'000;  // per round
  std::size_t value_size = 64;
  unsigned put_percent = 40;
  unsigned erase_percent = 10;
  // Conditional writes, in equal shares: put_if_absent, a compare-and-set (a get with the version,
  // then put_if_version), erase_if_version after such a get, get_and_put, erase reporting whether it
  // removed. The rest are gets.
  unsigned conditional_percent = 0;
  // Gets walk the keys in order (key i, then i + 1, ...), the pattern the store's finger serves
  // without a hash probe; otherwise each get picks a random key.
  bool sequential_gets = false;
  // Snapshots and transactions (the engine's versioned mode, versioning.hpp). With `versioned`, a
  // background thread keeps a snapshot alive throughout the round (retaking one every few hundred
  // microseconds), so every write takes the versioned path; half the gets then read through a
  // snapshot taken inside the get's interval (a linearizable read at the snapshot's instant), and
  // `transaction_percent` of the operations are compare-and-sets done as transactions (begin, get,
  // put or erase, commit): a commit is a CAS from the value read; a Conflict changed nothing and is
  // left out of the history.
  bool versioned = false;
  unsigned transaction_percent = 0;
  // Faults injected by thread 0, to prove that the checker catches them (0: none). Every n-th of its
  // operations becomes, on a random key: a stale read (put a, put b, then a get reported as returning
  // a), or a lost write (a put reported but never sent to the engine, then a get).
  // A double win: a put, then a put_if_absent of the same key reported as having written (for one
  // thread: with others, an erase in between could make the win real).
  std::size_t inject_stale_every = 0;
  std::size_t inject_lost_every = 0;
  std::size_t inject_double_win_every = 0;
};

// The engine configurations the checks cover.
struct EngineConfig {
  const char* name;
  std::size_t cache_capacity;
  bool durable;
};
inline const EngineConfig kTierOff{"tier off", 0, false};
inline const EngineConfig kTierOn{"tier 64 MiB", std::size_t{64} << 20, false};
inline const EngineConfig kTierTiny{"tier tiny (4 KiB)", 4096, false};
inline const EngineConfig kDurableAsync{"durable kAsync, tier 64 MiB", std::size_t{64} << 20, true};

inline Options options_for(const EngineConfig& config, const std::filesystem::path& dir) {
  Options options;
  options.cache_capacity = config.cache_capacity;
  if (config.durable) {
    options.dir = dir;
    options.durability = Durability::kAsync;
  }
  return options;
}

inline std::string register_key(std::size_t index) {
  char key[16];
  std::snprintf(key, sizeof key, "key/%04zu", index);
  return key;
}

// The value put for `id`, and the id a stored value carries (kAbsent, and *torn set, when the bytes
// are not exactly what a put of that id wrote).
inline std::string register_value(std::uint64_t id, std::size_t size) {
  std::string value(std::max<std::size_t>(size, 8), '\0');
  std::memcpy(value.data(), &id, 8);
  for (std::size_t i = 8; i < value.size(); ++i) value[i] = static_cast<char>((id * 31 + i) & 0x7f);
  return value;
}
inline std::uint64_t register_id(std::string_view value, std::size_t size, bool* torn) {
  std::uint64_t id = kAbsent;
  if (value.size() >= 8) std::memcpy(&id, value.data(), 8);
  if (id == kAbsent || value != register_value(id, size)) {
    *torn = true;
    return kAbsent;
  }
  return id;
}

inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

struct RoundResult {
  std::vector<RegisterOp> ops;
  std::uint64_t torn = 0;    // gets whose bytes were not a whole put's
  std::uint64_t errors = 0;  // calls that returned an unexpected Status
};

// Runs one round of the workload (threads start together) and returns every call. `round` keeps the
// values of successive rounds distinct.
inline RoundResult run_register_round(Engine& engine, const RegisterWorkload& workload, std::uint64_t round) {
  std::vector<std::vector<RegisterOp>> logs(workload.threads);
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> round_over{false};
  std::thread snapshot_holder;
  if (workload.versioned) {
    snapshot_holder = std::thread([&] {
      while (!round_over.load()) {
        const Snapshot held = engine.snapshot();
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
    });
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < workload.threads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<RegisterOp>& log = logs[t];
      log.reserve(workload.ops_per_thread);
      std::uint64_t random = 0x9e3779b97f4a7c15ull * (t + 1) + round;
      auto next_random = [&random] {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        return random;
      };
      std::uint64_t counter = (round << 28);
      std::size_t walk = t;
      std::string read;
      ValueView view;
      ready.fetch_add(1);
      while (ready.load() < workload.threads) {
      }
      auto put = [&](std::uint32_t key, bool send) {
        RegisterOp op;
        op.thread = static_cast<std::uint16_t>(t);
        op.key = key;
        op.kind = RegisterOp::Kind::kPut;
        op.value = ((t + 1) << 40) | ++counter;
        const std::string value = register_value(op.value, workload.value_size);
        op.invoked_ns = now_ns();
        if (send && !engine.put(register_key(key), value).ok()) errors.fetch_add(1);
        op.returned_ns = now_ns();
        log.push_back(op);
        return op.value;
      };
      // Records a conditional write's outcome: written, condition failed, or an error.
      auto outcome = [&](const Status& s) {
        if (!s.ok() && !s.is_condition_failed()) errors.fetch_add(1);
        return s.ok();
      };
      // A get that also returns the version, recorded as a get; returns the id read (kAbsent if none).
      auto versioned_get = [&](std::uint32_t key, Version* version) {
        RegisterOp get;
        get.thread = static_cast<std::uint16_t>(t);
        get.key = key;
        get.invoked_ns = now_ns();
        const Status s = engine.get(register_key(key), &read, version);
        get.returned_ns = now_ns();
        if (s.ok()) {
          bool bad = false;
          get.value = register_id(read, workload.value_size, &bad);
          if (bad) torn.fetch_add(1);
        } else if (!s.is_not_found()) {
          errors.fetch_add(1);
        }
        log.push_back(get);
        return get.value;
      };
      // One conditional write on op.key, chosen by `choice`; fills op.
      auto conditional = [&](RegisterOp& op, std::uint64_t choice) {
        const std::string key = register_key(op.key);
        const std::uint64_t id = ((t + 1) << 40) | ++counter;
        const std::string value = register_value(id, workload.value_size);
        switch (choice % 5) {
          case 0: {
            op.kind = RegisterOp::Kind::kCompareAndSet;
            op.value = id;
            op.expected = kAbsent;
            op.invoked_ns = now_ns();
            op.succeeded = outcome(engine.put_if_absent(key, value));
            op.returned_ns = now_ns();
            break;
          }
          case 1:
          case 2: {
            Version version = 0;
            op.expected = versioned_get(op.key, &version);
            op.kind = RegisterOp::Kind::kCompareAndSet;
            const bool erase = choice % 5 == 2 && op.expected != kAbsent;
            op.value = erase ? kAbsent : id;
            op.invoked_ns = now_ns();
            op.succeeded = outcome(erase ? engine.erase_if_version(key, version)
                                         : engine.put_if_version(key, op.expected == kAbsent ? 0 : version, value));
            op.returned_ns = now_ns();
            break;
          }
          case 3: {
            std::optional<std::string> old;
            op.kind = RegisterOp::Kind::kSwap;
            op.value = id;
            op.invoked_ns = now_ns();
            if (!engine.get_and_put(key, value, &old).ok()) errors.fetch_add(1);
            op.returned_ns = now_ns();
            bool bad = false;
            op.expected = old ? register_id(*old, workload.value_size, &bad) : kAbsent;
            if (bad) torn.fetch_add(1);
            break;
          }
          default: {
            op.kind = RegisterOp::Kind::kEraseReporting;
            op.invoked_ns = now_ns();
            if (!engine.erase(key, &op.succeeded).ok()) errors.fetch_add(1);
            op.returned_ns = now_ns();
            break;
          }
        }
      };
      // A compare-and-set as a transaction on op.key: reads the value (recorded as part of the
      // transaction, not as a get), then puts a new value or (by `choice`) erases, and commits. Fills
      // op and returns true when the commit succeeded; false after a Conflict (no effect: not recorded).
      auto transactional = [&](RegisterOp& op, std::uint64_t choice) {
        const std::string key = register_key(op.key);
        const std::uint64_t id = ((t + 1) << 40) | ++counter;
        op.kind = RegisterOp::Kind::kCompareAndSet;
        op.invoked_ns = now_ns();
        auto txn = engine.begin();
        if (txn == nullptr) {
          errors.fetch_add(1);
          return false;
        }
        const Status got = txn->get(key, &read);
        bool bad = false;
        op.expected = got.ok() ? register_id(read, workload.value_size, &bad) : kAbsent;
        if (bad) torn.fetch_add(1);
        if (!got.ok() && !got.is_not_found()) errors.fetch_add(1);
        const bool erase = choice % 3 == 0 && op.expected != kAbsent;
        op.value = erase ? kAbsent : id;
        const Status wrote = erase ? txn->erase(key) : txn->put(key, register_value(id, workload.value_size));
        if (!wrote.ok()) errors.fetch_add(1);
        const Status committed = txn->commit();
        op.returned_ns = now_ns();
        if (committed.is_conflict()) return false;
        if (!committed.ok()) errors.fetch_add(1);
        op.succeeded = true;
        return true;
      };
      auto injects = [&](std::size_t every, std::size_t i) { return t == 0 && every != 0 && i % every == every - 1; };
      for (std::size_t i = 0; i < workload.ops_per_thread; ++i) {
        const std::uint64_t r = next_random();
        const unsigned dice = static_cast<unsigned>(r % 100);
        RegisterOp op;
        op.thread = static_cast<std::uint16_t>(t);
        op.key = static_cast<std::uint32_t>((r >> 8) % workload.keys);
        if (injects(workload.inject_stale_every, i)) {
          const std::uint64_t older = put(op.key, true);
          put(op.key, true);
          op.kind = RegisterOp::Kind::kGet;
          op.invoked_ns = now_ns();
          (void)engine.get(register_key(op.key), &read);
          op.returned_ns = now_ns();
          op.value = older;  // the injected fault: a value overwritten before the get began
        } else if (injects(workload.inject_lost_every, i)) {
          put(op.key, false);  // the injected fault: acknowledged, never applied
          op.kind = RegisterOp::Kind::kGet;
          op.invoked_ns = now_ns();
          const Status s = engine.get(register_key(op.key), &read);
          op.returned_ns = now_ns();
          bool bad = false;
          op.value = s.ok() ? register_id(read, workload.value_size, &bad) : kAbsent;
        } else if (injects(workload.inject_double_win_every, i)) {
          put(op.key, true);
          op.kind = RegisterOp::Kind::kCompareAndSet;
          op.value = ((t + 1) << 40) | ++counter;
          op.invoked_ns = now_ns();
          const Status s = engine.put_if_absent(register_key(op.key), register_value(op.value, workload.value_size));
          op.returned_ns = now_ns();
          if (!s.is_condition_failed()) errors.fetch_add(1);  // alone on the key, the put came first
          op.succeeded = true;                                // the injected fault: reported as a win
        } else if (dice < workload.put_percent) {
          put(op.key, true);
          continue;
        } else if (dice < workload.put_percent + workload.erase_percent) {
          op.kind = RegisterOp::Kind::kErase;
          const std::string key = register_key(op.key);
          op.invoked_ns = now_ns();
          const Status s = engine.erase(key);
          op.returned_ns = now_ns();
          if (!s.ok()) errors.fetch_add(1);
        } else if (dice < workload.put_percent + workload.erase_percent + workload.conditional_percent) {
          conditional(op, r >> 20);
        } else if (dice < workload.put_percent + workload.erase_percent + workload.conditional_percent +
                              workload.transaction_percent) {
          if (!transactional(op, r >> 20)) continue;
        } else if (workload.versioned && ((r >> 41) & 1)) {
          op.kind = RegisterOp::Kind::kGet;
          const std::string key = register_key(op.key);
          op.invoked_ns = now_ns();
          const Snapshot snapshot = engine.snapshot();
          ReadOptions at;
          at.snapshot = &snapshot;
          const Status s = engine.get(at, key, &read);
          op.returned_ns = now_ns();
          if (s.ok()) {
            bool bad = false;
            op.value = register_id(read, workload.value_size, &bad);
            if (bad) torn.fetch_add(1);
          } else if (!s.is_not_found()) {
            errors.fetch_add(1);
          }
        } else {
          op.kind = RegisterOp::Kind::kGet;
          if (workload.sequential_gets) op.key = static_cast<std::uint32_t>(walk++ % workload.keys);
          const std::string key = register_key(op.key);
          const bool use_view = (r >> 40) & 1;
          op.invoked_ns = now_ns();
          const Status s = use_view ? engine.get(key, &view) : engine.get(key, &read);
          op.returned_ns = now_ns();
          if (s.ok()) {
            bool bad = false;
            op.value = register_id(use_view ? view.data() : std::string_view(read), workload.value_size, &bad);
            if (bad) torn.fetch_add(1);
          } else if (!s.is_not_found()) {
            errors.fetch_add(1);
          }
          view.reset();
        }
        log.push_back(op);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  round_over = true;
  if (snapshot_holder.joinable()) snapshot_holder.join();
  RoundResult result;
  result.torn = torn.load();
  result.errors = errors.load();
  for (auto& log : logs) result.ops.insert(result.ops.end(), log.begin(), log.end());
  return result;
}

}  // namespace mantis::test
