// The crash loop's bank workload (--workload bank): accounts, transfers in transactions, the messages
// tellers send about them, the audit the writer process runs through snapshots while they commit, and
// the rules a recovered bank must satisfy.
//
// kAccounts accounts, "a/000".."a/031", open with kOpening each when the database is created. A
// teller's transfer moves 1..kMaxAmount between two accounts in one transaction: it reads both
// balances, is declined (writes nothing) when the source holds less than the amount, and otherwise
// writes both balances and its record, "t/<id as 16 hex digits>" = "<from> <to> <amount>", and commits;
// a commit refused with Conflict starts the transfer over. Ids are (cycle << 32) | (teller << 24) |
// number, unique in a run. Each transfer is reported before its first attempt (intent) and after its
// commit returned OK or it was declined (ack); a teller has at most one transfer in flight.
//
// After a cycle the parent checks the recovered bank, then erases every record (one batch) and keeps
// the balances as the next cycle's *base*. Rules, for one cycle:
//   B1 The database holds exactly kAccounts well-formed balances and well-formed records.
//   B2 The balances add up to kAccounts * kOpening, and none is negative.
//   B3 Every record is a transfer of this cycle that was started (an intent with the same accounts and
//      amount) and not acknowledged as declined: nothing invented, nothing resurrected.
//   B4 With kAsync and kSync (kill -9 loses nothing acknowledged), every transfer acknowledged as
//      committed has its record. Without that guarantee (kPeriodic), the records present are a prefix
//      of log order: if a transfer acknowledged as committed is missing, so is every transfer started
//      after that acknowledgement.
//   B5 Each balance is its base plus the amounts of the records present into the account, minus those
//      out of it: every transfer present is applied whole, and no money moved otherwise.
// With B3-B5 the check is exact: the recovered bank is its base after exactly the transfers whose
// records are present, which include every acknowledged one. In flight at the kill, a transfer may be
// present or not (but whole, B5).
// The audit (writer process): every snapshot, and every read-only transaction, satisfies B1, B2 and B5
// against the base the writer process found at its start, and holds the record of every transfer
// whose commit returned before it was taken (each teller's last one).
// One file: the workload and the rules that check it belong side by side.
#pragma once

#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mantis/engine.hpp>

#include "crash_workload.hpp"
#include "printable.hpp"

namespace mantis::crash {

constexpr unsigned kTellers = 4;
constexpr unsigned kAccounts = 32;
constexpr std::int64_t kOpening = 1000;
constexpr std::int64_t kMaxAmount = 1200;  // often more than the source holds: declines are common
constexpr std::int64_t kBankTotal = kAccounts * kOpening;

inline std::string account_key(unsigned account) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "a/%03u", account);
  return buf;
}
inline std::string record_key(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "t/%016llx", static_cast<unsigned long long>(id));
  return buf;
}

// A transfer's accounts and amount: what its record holds.
struct Movement {
  unsigned from = 0;
  unsigned to = 0;
  std::int64_t amount = 0;
  bool operator==(const Movement&) const = default;
};
inline std::string encode_movement(const Movement& m) {
  return std::to_string(m.from) + " " + std::to_string(m.to) + " " + std::to_string(m.amount);
}

// A decimal integer, the whole of `text`, or nullopt.
inline std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}
inline std::optional<Movement> parse_movement(std::string_view text) {
  const auto first = text.find(' ');
  const auto second = first == std::string_view::npos ? first : text.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto from = parse_int(text.substr(0, first));
  const auto to = parse_int(text.substr(first + 1, second - first - 1));
  const auto amount = parse_int(text.substr(second + 1));
  if (!from || !to || !amount || *from < 0 || *from >= kAccounts || *to < 0 || *to >= kAccounts || *from == *to ||
      *amount < 1 || *amount > kMaxAmount) {
    return std::nullopt;
  }
  return Movement{static_cast<unsigned>(*from), static_cast<unsigned>(*to), *amount};
}

// Creates the accounts of a new database, in one batch.
inline Status open_accounts(Engine& engine) {
  WriteBatch batch;
  for (unsigned a = 0; a < kAccounts; ++a) batch.put(account_key(a), std::to_string(kOpening));
  return engine.write(batch);
}

// ---- transfers and their reports ----

enum class TransferResult : std::uint8_t { kCommitted = 1, kDeclined = 2 };

// One report from a teller, sent with one write() to the pipe (atomic: smaller than PIPE_BUF).
// Plain bytes, same build both ends.
struct TransferMsg {
  MsgKind kind;
  TransferResult result;  // ack
  std::uint16_t thread;
  std::uint16_t from;
  std::uint16_t to;
  std::uint32_t amount;
  std::uint32_t conflicts;  // ack: attempts refused with Conflict before the last one
  std::uint64_t id;
  std::int64_t time_ms;  // wall clock when sent
};
static_assert(sizeof(TransferMsg) <= 512, "a message must be written atomically to a pipe");

inline Movement movement_of(const TransferMsg& m) { return Movement{m.from, m.to, m.amount}; }

// The intent of teller `thread`'s transfer number `number` of `cycle` (id, accounts, amount).
inline TransferMsg draw_transfer(std::mt19937_64& rng, unsigned thread, std::uint32_t cycle, std::uint32_t number) {
  TransferMsg msg{};
  msg.kind = MsgKind::kIntent;
  msg.thread = static_cast<std::uint16_t>(thread);
  msg.from = static_cast<std::uint16_t>(rng() % kAccounts);
  msg.to = static_cast<std::uint16_t>((msg.from + 1 + rng() % (kAccounts - 1)) % kAccounts);
  msg.amount = static_cast<std::uint32_t>(1 + rng() % kMaxAmount);
  msg.id = (std::uint64_t{cycle} << 32) | (std::uint64_t{thread} << 24) | number;
  return msg;
}

// Runs the transfer an intent describes, starting over after each Conflict (counted in *conflicts).
// OK with *result; any other Status is an engine failure.
inline Status run_transfer(Engine& engine, const TransferMsg& intent, TransferResult* result,
                           std::uint32_t* conflicts) {
  const std::string from = account_key(intent.from);
  const std::string to = account_key(intent.to);
  for (;;) {
    const std::unique_ptr<Transaction> txn = engine.begin();
    if (txn == nullptr) return Status::resource_exhausted("begin() returned no transaction");
    std::string from_value;
    std::string to_value;
    Status s = txn->get(from, &from_value);
    if (s.ok()) s = txn->get(to, &to_value);
    if (!s.ok()) return s;  // the accounts always exist
    const auto from_balance = parse_int(from_value);
    const auto to_balance = parse_int(to_value);
    if (!from_balance || !to_balance) {
      return Status::corruption("a balance is not a number: '" + mantis::test::printable(from_value) + "', '" +
                                mantis::test::printable(to_value) + "'");
    }
    if (*from_balance < intent.amount) {
      txn->rollback();
      *result = TransferResult::kDeclined;
      return Status::ok_status();
    }
    s = txn->put(from, std::to_string(*from_balance - intent.amount));
    if (s.ok()) s = txn->put(to, std::to_string(*to_balance + intent.amount));
    if (s.ok()) s = txn->put(record_key(intent.id), encode_movement(movement_of(intent)));
    if (s.ok()) s = txn->commit();
    if (s.ok()) {
      *result = TransferResult::kCommitted;
      return s;
    }
    if (!s.is_conflict()) return s;
    ++*conflicts;
  }
}

// ---- reading a bank ----

// What one read of the whole database (a scan at a snapshot, in a transaction, or of the latest
// state) found.
struct BankView {
  std::vector<std::int64_t> balances = std::vector<std::int64_t>(kAccounts, 0);
  std::map<std::uint64_t, Movement> records;  // by id
  std::vector<std::string> problems;          // B1
};

// Reads everything through scan(fn), a scan of the whole key range calling fn(key, value).
template <class Scan>
BankView read_bank(Scan&& scan) {
  BankView view;
  std::vector<bool> seen(kAccounts, false);
  const Status s = scan([&](std::string_view key, std::string_view value) {
    if (key.starts_with("a/")) {
      const auto account = parse_int(key.substr(2));
      const auto balance = parse_int(value);
      if (account && *account >= 0 && *account < kAccounts && key == account_key(static_cast<unsigned>(*account)) &&
          balance) {
        seen[static_cast<std::size_t>(*account)] = true;
        view.balances[static_cast<std::size_t>(*account)] = *balance;
        return true;
      }
    } else if (key.starts_with("t/") && key.size() == 18) {
      std::uint64_t id = 0;
      const auto [end, error] = std::from_chars(key.data() + 2, key.data() + key.size(), id, 16);
      const auto movement = parse_movement(value);
      if (error == std::errc() && end == key.data() + key.size() && key == record_key(id) && movement) {
        view.records.emplace(id, *movement);
        return true;
      }
    }
    view.problems.push_back("unknown key or malformed value: '" + mantis::test::printable(key) + "' = '" +
                            mantis::test::printable(value) + "'");
    return true;
  });
  if (!s.ok()) view.problems.push_back("the scan failed: " + s.to_string());
  for (unsigned a = 0; a < kAccounts; ++a) {
    if (!seen[a]) view.problems.push_back("account " + account_key(a) + " is missing");
  }
  return view;
}

// The balances a view's records were applied to: its balances minus the records' effects.
inline std::vector<std::int64_t> base_of(const BankView& view) {
  std::vector<std::int64_t> base = view.balances;
  for (const auto& [id, m] : view.records) {
    base[m.from] += m.amount;
    base[m.to] -= m.amount;
  }
  return base;
}

// Why `view` breaks B1, B2 or B5 against `base`, or nullopt.
inline std::optional<std::string> inconsistency(const BankView& view, const std::vector<std::int64_t>& base) {
  if (!view.problems.empty()) return "B1: " + view.problems.front();
  std::int64_t total = 0;
  for (unsigned a = 0; a < kAccounts; ++a) {
    if (view.balances[a] < 0) {
      return "B2: " + account_key(a) + " holds " + std::to_string(view.balances[a]) + ", a negative balance";
    }
    total += view.balances[a];
  }
  if (total != kBankTotal) {
    return "B2: the balances add up to " + std::to_string(total) + ", not " + std::to_string(kBankTotal);
  }
  const std::vector<std::int64_t> expected_base = base_of(view);
  for (unsigned a = 0; a < kAccounts; ++a) {
    if (expected_base[a] != base[a]) {
      return "B5: " + account_key(a) + " holds " + std::to_string(view.balances[a]) + ", but its base " +
             std::to_string(base[a]) + " and the " + std::to_string(view.records.size()) + " records present make " +
             std::to_string(view.balances[a] - expected_base[a] + base[a]);
    }
  }
  return std::nullopt;
}

// ---- the journal of one cycle, and its check ----

struct BankJournal {
  using Message = TransferMsg;
  struct Transfer {
    TransferMsg intent{};
    std::uint64_t intent_seq = 0;  // order of arrival over all tellers (the pipe serializes writes)
    bool acked = false;
    TransferResult result = TransferResult::kCommitted;
    std::uint32_t conflicts = 0;
    std::uint64_t ack_seq = 0;
  };
  std::array<std::vector<Transfer>, kTellers> transfers;
  bool ready = false;
  std::uint64_t next_seq = 0;
  std::string error;  // the tellers broke the reporting protocol (a harness bug, not the engine's)

  void add(const TransferMsg& msg) {
    const std::uint64_t seq = next_seq++;
    if (msg.kind == MsgKind::kReady) {
      ready = true;
      return;
    }
    if (msg.thread >= kTellers) {
      error = "message from unknown teller " + std::to_string(msg.thread);
      return;
    }
    auto& mine = transfers[msg.thread];
    if (msg.kind == MsgKind::kIntent) {
      if (!mine.empty() && !mine.back().acked) {
        error = "teller " + std::to_string(msg.thread) + " started a transfer before its previous one was acked";
        return;
      }
      mine.push_back(Transfer{msg, seq});
    } else if (msg.kind == MsgKind::kAck) {
      if (mine.empty() || mine.back().acked || mine.back().intent.id != msg.id) {
        error = "teller " + std::to_string(msg.thread) + " acked a transfer it had not started";
        return;
      }
      Transfer& t = mine.back();
      t.acked = true;
      t.result = msg.result;
      t.conflicts = msg.conflicts;
      t.ack_seq = seq;
    } else {
      error = "message of unknown kind";
    }
  }
};

struct BankOutcome {
  bool ok = true;
  std::string report;         // the violation, when !ok
  std::size_t committed = 0;  // acknowledged as committed
  std::size_t declined = 0;   // acknowledged as declined
  std::size_t conflicts = 0;  // Conflicts retried by acknowledged transfers
  std::size_t in_flight = 0;
  std::size_t in_flight_applied = 0;  // in flight, and present
  std::size_t acked_lost = 0;         // acknowledged as committed, and missing (only legal without B4's guarantee)
  std::size_t records = 0;
};

// Checks one cycle's recovered bank, `view`, against the journal and `base` (B1-B5).
inline BankOutcome check_bank(const std::vector<std::int64_t>& base, const BankJournal& journal, const BankView& view,
                              bool acked_must_survive) {
  BankOutcome out;
  out.records = view.records.size();
  auto fail = [&](std::string report) {
    out.ok = false;
    out.report = std::move(report);
    return out;
  };
  if (!journal.error.empty()) return fail("harness: " + journal.error);
  if (const auto why = inconsistency(view, base)) return fail("the recovered bank is inconsistent: " + *why);
  std::unordered_map<std::uint64_t, const BankJournal::Transfer*> by_id;
  for (const auto& mine : journal.transfers) {
    for (const auto& t : mine) {
      by_id.emplace(t.intent.id, &t);
      if (!t.acked) {
        ++out.in_flight;
        out.in_flight_applied += view.records.contains(t.intent.id);
      } else if (t.result == TransferResult::kDeclined) {
        ++out.declined;
      } else {
        ++out.committed;
        out.acked_lost += !view.records.contains(t.intent.id);
      }
      if (t.acked) out.conflicts += t.conflicts;
    }
  }
  for (const auto& [id, m] : view.records) {  // B3
    const auto it = by_id.find(id);
    const std::string name = record_key(id) + " (" + encode_movement(m) + ")";
    if (it == by_id.end()) return fail("B3: record " + name + " belongs to no transfer started this cycle");
    const BankJournal::Transfer& t = *it->second;
    if (movement_of(t.intent) != m) {
      return fail("B3: record " + name + " differs from its transfer (" + encode_movement(movement_of(t.intent)) + ")");
    }
    if (t.acked && t.result == TransferResult::kDeclined) {
      return fail("B3: record " + name + " belongs to a transfer acknowledged as declined");
    }
  }
  // B4: a lost acknowledged transfer, and a present one started after that acknowledgement.
  const BankJournal::Transfer* first_lost = nullptr;
  const BankJournal::Transfer* last_present = nullptr;
  for (const auto& mine : journal.transfers) {
    for (const auto& t : mine) {
      const bool present = view.records.contains(t.intent.id);
      if (t.acked && t.result == TransferResult::kCommitted && !present &&
          (first_lost == nullptr || t.ack_seq < first_lost->ack_seq)) {
        first_lost = &t;
      }
      if (present && (last_present == nullptr || t.intent_seq > last_present->intent_seq)) last_present = &t;
    }
  }
  if (first_lost != nullptr) {
    const std::string lost = "transfer " + record_key(first_lost->intent.id) + " (" +
                             encode_movement(movement_of(first_lost->intent)) + ") of teller " +
                             std::to_string(first_lost->intent.thread) + " was acknowledged as committed";
    if (acked_must_survive) return fail("B4: " + lost + ", but its record is missing");
    if (last_present != nullptr && last_present->intent_seq > first_lost->ack_seq) {
      return fail("B4: not a prefix of log order: " + lost + " and is missing, but " +
                  record_key(last_present->intent.id) + " of teller " + std::to_string(last_present->intent.thread) +
                  ", started after that acknowledgement, is present");
    }
  }
  return out;
}

// Erases every record of `view` (one batch): the next cycle's base is the view's balances.
inline Status erase_records(Engine& engine, const BankView& view) {
  WriteBatch batch;
  for (const auto& [id, m] : view.records) batch.erase(record_key(id));
  return engine.write(batch);
}

// ---- the audit ----

// Why the bank read at `snapshot` breaks the audit's rules (above) against `base`, or nullopt.
// last_committed[t] is teller t's last transfer whose commit returned before the snapshot was taken
// (read before taking it; 0: none yet).
inline std::optional<std::string> audit(const Engine& engine, const Snapshot& snapshot,
                                        const std::vector<std::int64_t>& base,
                                        const std::array<std::uint64_t, kTellers>& last_committed) {
  ReadOptions read;
  read.snapshot = &snapshot;
  const BankView view = read_bank([&](auto&& fn) { return engine.scan(read, "", "", fn); });
  if (auto why = inconsistency(view, base)) return "at snapshot " + std::to_string(snapshot.version()) + ": " + *why;
  for (unsigned t = 0; t < kTellers; ++t) {
    if (last_committed[t] != 0 && !view.records.contains(last_committed[t])) {
      return "at snapshot " + std::to_string(snapshot.version()) + ": transfer " + record_key(last_committed[t]) +
             ", committed before the snapshot was taken, is missing";
    }
  }
  return std::nullopt;
}

// The same rules (B1, B2, B5) through a read-only transaction's scan; its commit must succeed.
inline std::optional<std::string> audit_in_transaction(Engine& engine, const std::vector<std::int64_t>& base) {
  const std::unique_ptr<Transaction> txn = engine.begin();
  if (txn == nullptr) return "begin() returned no transaction";
  const BankView view = read_bank([&](auto&& fn) { return txn->scan("", "", fn); });
  if (auto why = inconsistency(view, base)) {
    return "in a transaction at snapshot " + std::to_string(txn->snapshot_version()) + ": " + *why;
  }
  const Status s = txn->commit();
  if (!s.ok()) return "a read-only transaction's commit failed: " + s.to_string();
  return std::nullopt;
}

}  // namespace mantis::crash
