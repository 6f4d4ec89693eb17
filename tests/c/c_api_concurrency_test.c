/* mantis_close racing with calls from other threads: every call either succeeds or reports Closed,
 * nothing crashes, and iterators and pinned values created before the close stay safe to use. Then a
 * bank: threads move money between accounts in transactions (retrying on MANTIS_CONFLICT) while
 * readers sum every account at snapshots: the total never changes. Run under TSan and ASan by
 * scripts/test.sh. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"

enum { kThreads = 4, kRounds = 20 };

typedef struct {
  mantis_t* db;
  mantis_cache_t* cache;
  int id;
  atomic_int* started;
  int unexpected; /* errors other than Closed */
  int closed_seen;
} Worker;

/* Counts an error: Closed is expected once the handle is closed, anything else is a failure. */
static void note(Worker* w, char** err) {
  if (*err == NULL) return;
  if (strncmp(*err, "Closed:", 7) == 0) {
    ++w->closed_seen;
  } else {
    ++w->unexpected;
    fprintf(stderr, "unexpected error: %s\n", *err);
  }
  mantis_free(*err);
  *err = NULL;
}

static void* work(void* arg) {
  Worker* w = (Worker*)arg;
  char key[32];
  char* err = NULL;
  atomic_fetch_add(w->started, 1);
  for (int i = 0; w->closed_seen < 3 && i < 1000000; ++i) {
    int n = snprintf(key, sizeof key, "k%d-%d", w->id, i % 64);
    mantis_put(w->db, NULL, key, (size_t)n, "value", 5, &err);
    note(w, &err);
    size_t len = 0;
    mantis_free(mantis_get(w->db, key, (size_t)n, &len, &err));
    note(w, &err);
    mantis_value_t* pinned = mantis_get_pinned(w->db, key, (size_t)n, &err);
    note(w, &err);
    mantis_iterator_t* it = mantis_iter_create(w->db, &err);
    note(w, &err);
    for (mantis_iter_seek_to_first(it); mantis_iter_valid(it); mantis_iter_next(it)) {
      size_t klen = 0;
      if (mantis_iter_key(it, &klen) == NULL) ++w->unexpected;
    }
    mantis_iter_get_error(it, &err);
    if (it != NULL) note(w, &err);
    mantis_free(err);
    err = NULL;
    mantis_iter_destroy(it);
    if (pinned != NULL && (mantis_value_size(pinned) != 5 || memcmp(mantis_value_data(pinned), "value", 5) != 0)) {
      ++w->unexpected;
    }
    mantis_value_destroy(pinned);
    mantis_cache_put(w->cache, key, (size_t)n, "v", 1, 0, &err);
    note(w, &err);
    mantis_free(mantis_cache_get(w->cache, key, (size_t)n, &len, &err));
    note(w, &err);
  }
  return NULL;
}

/* ---- The bank ---- */
enum { kAccounts = 5, kInitial = 100, kTransfersPerThread = 300, kBankThreads = 3 };

typedef struct {
  mantis_t* db;
  unsigned seed;
  int committed;
  int conflicts;
  int unexpected;
} Teller;

typedef struct {
  mantis_t* db;
  atomic_int* done;
  int sums;
  int bad_sums;
  int unexpected;
} Auditor;

static int account_key(char* buf, size_t size, int account) { return snprintf(buf, size, "acct/%02d", account); }

/* Reads an account in the transaction: its balance, or -1 on error (*err set). */
static long txn_balance(mantis_txn_t* txn, int account, char** err) {
  char key[16];
  int n = account_key(key, sizeof key, account);
  size_t len = 0;
  char* value = mantis_txn_get(txn, key, (size_t)n, &len, err);
  if (value == NULL) return -1;
  char text[32] = {0};
  memcpy(text, value, len < sizeof text - 1 ? len : sizeof text - 1);
  mantis_free(value);
  return strtol(text, NULL, 10);
}

static void txn_set_balance(mantis_txn_t* txn, int account, long balance, char** err) {
  char key[16], value[32];
  int n = account_key(key, sizeof key, account);
  int m = snprintf(value, sizeof value, "%ld", balance);
  mantis_txn_put(txn, NULL, key, (size_t)n, value, (size_t)m, err);
}

static void* transfer(void* arg) {
  Teller* t = (Teller*)arg;
  for (int i = 0; i < kTransfersPerThread; ++i) {
    int from = (int)(rand_r(&t->seed) % kAccounts);
    int to = (int)((unsigned)(from + 1 + (int)(rand_r(&t->seed) % (kAccounts - 1))) % kAccounts);
    long amount = 1 + (long)(rand_r(&t->seed) % 20);
    for (;;) { /* retry until the transfer commits (or is skipped for lack of funds) */
      char* err = NULL;
      mantis_txn_t* txn = mantis_txn_begin(t->db, &err);
      long a = txn_balance(txn, from, &err);
      long b = txn_balance(txn, to, &err);
      sched_yield(); /* widen the window between read and commit: conflicts must happen */
      if (err == NULL && a >= amount) {
        txn_set_balance(txn, from, a - amount, &err);
        txn_set_balance(txn, to, b + amount, &err);
      }
      if (err == NULL) mantis_txn_commit(txn, NULL, &err);
      mantis_txn_destroy(txn);
      if (err == NULL) {
        ++t->committed;
        break;
      }
      const mantis_code_t code = mantis_error_code(err);
      if (code != MANTIS_CONFLICT) {
        ++t->unexpected;
        fprintf(stderr, "transfer: unexpected error: %s\n", err);
      }
      mantis_free(err);
      if (code != MANTIS_CONFLICT) break;
      ++t->conflicts;
    }
  }
  return NULL;
}

static int sum_balance(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  long* sum = (long*)ctx;
  char text[32] = {0};
  (void)key;
  (void)keylen;
  memcpy(text, value, vallen < sizeof text - 1 ? vallen : sizeof text - 1);
  long balance = strtol(text, NULL, 10);
  if (balance < 0) *sum = -1000000; /* a negative balance fails the total */
  *sum += balance;
  return 1;
}

static void* audit(void* arg) {
  Auditor* a = (Auditor*)arg;
  while (!atomic_load(a->done)) {
    char* err = NULL;
    mantis_snapshot_t* snap = mantis_snapshot_create(a->db, &err);
    long by_scan = 0, by_get = 0, by_iter = 0;
    mantis_scan_prefix_at(a->db, snap, "acct/", 5, sum_balance, &by_scan, &err);
    for (int i = 0; i < kAccounts && err == NULL; ++i) {
      char key[16];
      int n = account_key(key, sizeof key, i);
      size_t len = 0;
      char* value = mantis_get_at(a->db, snap, key, (size_t)n, &len, NULL, &err);
      if (value != NULL) sum_balance(&by_get, key, (size_t)n, value, len);
      mantis_free(value);
    }
    mantis_iterator_t* it = err == NULL ? mantis_iter_create_at(a->db, snap, &err) : NULL;
    for (mantis_iter_seek_to_first(it); mantis_iter_valid(it); mantis_iter_next(it)) {
      size_t klen = 0, vlen = 0;
      const char* k = mantis_iter_key(it, &klen);
      const char* v = mantis_iter_value(it, &vlen);
      sum_balance(&by_iter, k, klen, v, vlen);
    }
    mantis_iter_destroy(it);
    mantis_snapshot_destroy(snap);
    if (err != NULL) {
      ++a->unexpected;
      fprintf(stderr, "audit: unexpected error: %s\n", err);
      mantis_free(err);
      continue;
    }
    ++a->sums;
    const long total = (long)kAccounts * kInitial;
    if (by_scan != total || by_get != total || by_iter != total) {
      ++a->bad_sums;
      fprintf(stderr, "audit: totals %ld / %ld / %ld, want %ld\n", by_scan, by_get, by_iter, total);
    }
  }
  return NULL;
}

static void test_bank(void) {
  char* err = NULL;
  mantis_t* db = mantis_open(NULL, &err);
  CHECK_OK(err);
  for (int i = 0; i < kAccounts; ++i) {
    char key[16], value[16];
    int n = account_key(key, sizeof key, i);
    int m = snprintf(value, sizeof value, "%d", kInitial);
    mantis_put(db, NULL, key, (size_t)n, value, (size_t)m, &err);
    CHECK_OK(err);
  }
  atomic_int done = 0;
  Auditor auditor = {db, &done, 0, 0, 0};
  pthread_t audit_thread;
  CHECK(pthread_create(&audit_thread, NULL, audit, &auditor) == 0);
  pthread_t threads[kBankThreads];
  Teller tellers[kBankThreads];
  for (int t = 0; t < kBankThreads; ++t) {
    tellers[t] = (Teller){db, 1234u + (unsigned)t, 0, 0, 0};
    CHECK(pthread_create(&threads[t], NULL, transfer, &tellers[t]) == 0);
  }
  int conflicts = 0;
  for (int t = 0; t < kBankThreads; ++t) {
    CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(tellers[t].unexpected == 0);
    CHECK(tellers[t].committed == kTransfersPerThread);
    conflicts += tellers[t].conflicts;
  }
  CHECK(conflicts > 0); /* else the test did not exercise the retry */
  atomic_store(&done, 1);
  CHECK(pthread_join(audit_thread, NULL) == 0);
  CHECK(auditor.unexpected == 0);
  CHECK(auditor.bad_sums == 0);
  CHECK(auditor.sums > 0);
  /* The final state sums up too. */
  long total = 0;
  mantis_scan_prefix(db, "acct/", 5, sum_balance, &total, &err);
  CHECK_OK(err);
  CHECK(total == (long)kAccounts * kInitial);
  printf("bank: %d transfers, %d conflicts retried, %d audits\n", kBankThreads * kTransfersPerThread, conflicts,
         auditor.sums);
  mantis_destroy(db);
}

int main(void) {
  test_bank();
  for (int round = 0; round < kRounds; ++round) {
    char* err = NULL;
    mantis_t* db = mantis_open(NULL, &err);
    CHECK_OK(err);
    mantis_cache_t* cache = mantis_cache_create(NULL, &err);
    CHECK_OK(err);
    atomic_int started = 0;
    pthread_t threads[kThreads];
    Worker workers[kThreads];
    for (int t = 0; t < kThreads; ++t) {
      workers[t] = (Worker){db, cache, t, &started, 0, 0};
      CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    while (atomic_load(&started) < kThreads) {
    }
    struct timespec pause = {0, 1000000L * (round % 5)};
    nanosleep(&pause, NULL);
    /* Close both from this thread while the workers run; a second close races too. */
    mantis_close(db, &err);
    CHECK_OK(err);
    mantis_cache_close(cache, &err);
    CHECK_OK(err);
    for (int t = 0; t < kThreads; ++t) {
      CHECK(pthread_join(threads[t], NULL) == 0);
      CHECK(workers[t].unexpected == 0);
      CHECK(workers[t].closed_seen >= 3);
    }
    mantis_destroy(db);
    mantis_cache_destroy(cache);
  }
  return finish();
}
