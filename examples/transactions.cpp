// Transfers between accounts with optimistic transactions, audited through snapshots while they run.
// Four threads move money at random and retry on Conflict; an auditor sums every account through a
// snapshot many times meanwhile: the total never changes.
#include <mantis/engine.hpp>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kAccounts = 10;
constexpr long kOpening = 100;

std::string account(int i) { return "acct:" + std::to_string(i); }

// Moves `amount` from one account to another; retries until the commit succeeds.
// Returns the number of conflicts it met, or -1 on an unexpected error.
long transfer(mantis::Engine& db, int from, int to, long amount) {
  for (long conflicts = 0;; ++conflicts) {
    auto txn = db.begin();
    if (txn == nullptr) return -1;
    std::string a;
    std::string b;
    if (!txn->get(account(from), &a).ok() || !txn->get(account(to), &b).ok()) return -1;
    if (!txn->put(account(from), std::to_string(std::stol(a) - amount)).ok() ||
        !txn->put(account(to), std::to_string(std::stol(b) + amount)).ok()) {
      return -1;
    }
    const mantis::Status s = txn->commit();
    if (s.ok()) return conflicts;
    if (!s.is_conflict()) return -1;  // another transfer touched an account since our snapshot: again
  }
}

}  // namespace

int main() {
  std::unique_ptr<mantis::Engine> db;
  if (!mantis::Engine::open(mantis::Options{}, &db).ok()) return 1;
  for (int i = 0; i < kAccounts; ++i) {
    if (!db->put(account(i), std::to_string(kOpening)).ok()) return 1;
  }

  std::atomic<long> conflicts{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> tellers;
  for (int t = 0; t < 4; ++t) {
    tellers.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t));
      for (int n = 0; n < 2000; ++n) {
        const int from = static_cast<int>(random() % kAccounts);
        const int to = static_cast<int>((from + 1 + random() % (kAccounts - 1)) % kAccounts);
        const long met = transfer(*db, from, to, static_cast<long>(random() % 20));
        if (met < 0) failed = true;
        conflicts += met < 0 ? 0 : met;
      }
    });
  }

  // The auditor: one snapshot per audit; every account is read at the same instant.
  constexpr int kAudits = 200;
  bool balanced = true;
  for (int audit = 0; audit < kAudits; ++audit) {
    mantis::Snapshot snapshot = db->snapshot();
    long total = 0;
    const mantis::Status s = db->scan_prefix(mantis::ReadOptions{.snapshot = &snapshot}, "acct:",
                                             [&](std::string_view, std::string_view value) {
                                               total += std::stol(std::string(value));
                                               return true;
                                             });
    if (!s.ok() || total != kAccounts * kOpening) balanced = false;
  }
  for (std::thread& teller : tellers) teller.join();

  mantis::Snapshot last = db->snapshot();
  long total = 0;
  static_cast<void>(db->scan_prefix(mantis::ReadOptions{.snapshot = &last}, "acct:",
                                    [&](std::string_view, std::string_view value) {
                                      total += std::stol(std::string(value));
                                      return true;
                                    }));
  std::printf("8000 transfers committed (%ld conflicts retried)\n", conflicts.load());
  std::printf("%d audits through snapshots while they ran: %s\n", kAudits,
              balanced ? "every total was 1000" : "A TOTAL WAS WRONG");
  std::printf("final total: %ld\n", total);
  std::printf("stats: commits %llu, conflicts %llu\n", static_cast<unsigned long long>(db->stats().commits),
              static_cast<unsigned long long>(db->stats().conflicts));
  return balanced && !failed && total == kAccounts * kOpening ? 0 : 1;
}
