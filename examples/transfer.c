/* A money transfer in a mantis transaction through the C API, retried when the commit reports
 * MANTIS_CONFLICT, and a snapshot read that later writes do not disturb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mantis/mantis.h>

static long get_balance(mantis_txn_t* txn, const char* account, char** err) {
  size_t len = 0;
  char* value = mantis_txn_get(txn, account, strlen(account), &len, err);
  if (value == NULL) return 0; /* absent (or an error, in *err) */
  char text[32] = {0};
  memcpy(text, value, len < sizeof text - 1 ? len : sizeof text - 1);
  mantis_free(value);
  return strtol(text, NULL, 10);
}

static void set_balance(mantis_txn_t* txn, const char* account, long balance, char** err) {
  char text[32];
  int n = snprintf(text, sizeof text, "%ld", balance);
  mantis_txn_put(txn, NULL, account, strlen(account), text, (size_t)n, err);
}

/* Moves amount from one account to another; 0 on success, 1 on an error other than a conflict. */
static int transfer(mantis_t* db, const char* from, const char* to, long amount) {
  for (int attempt = 1; attempt <= 10; ++attempt) {
    char* err = NULL;
    mantis_txn_t* txn = mantis_txn_begin(db, &err);
    long a = get_balance(txn, from, &err);
    long b = get_balance(txn, to, &err);
    if (err == NULL && a < amount) {
      fprintf(stderr, "transfer: %s has only %ld\n", from, a);
      mantis_txn_destroy(txn); /* rolls back */
      return 1;
    }
    set_balance(txn, from, a - amount, &err);
    set_balance(txn, to, b + amount, &err);
    if (err == NULL) mantis_txn_commit(txn, NULL, &err);
    mantis_txn_destroy(txn);
    if (err == NULL) return 0;
    const int conflict = mantis_error_code(err) == MANTIS_CONFLICT;
    fprintf(stderr, "transfer (attempt %d): %s\n", attempt, err);
    mantis_free(err);
    if (!conflict) return 1; /* otherwise: someone changed an account we read; run it again */
  }
  return 1;
}

static int add_balance(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  char text[32] = {0};
  memcpy(text, value, vallen < sizeof text - 1 ? vallen : sizeof text - 1);
  *(long*)ctx += strtol(text, NULL, 10);
  printf("  %.*s = %s\n", (int)keylen, key, text);
  return 1;
}

int main(void) {
  char* err = NULL;
  mantis_t* db = mantis_open(NULL, &err); /* memory only */
  if (db == NULL) {
    fprintf(stderr, "open: %s\n", err);
    mantis_free(err);
    return 1;
  }
  mantis_put(db, NULL, "acct:alice", 10, "100", 3, &err);
  mantis_put(db, NULL, "acct:bob", 8, "20", 2, &err);
  int status = err != NULL || transfer(db, "acct:alice", "acct:bob", 30);

  mantis_snapshot_t* snap = mantis_snapshot_create(db, &err);
  mantis_put(db, NULL, "acct:bob", 8, "0", 1, &err); /* after the snapshot: not seen through it */
  long total = 0;
  printf("at snapshot %llu:\n", (unsigned long long)mantis_snapshot_version(snap));
  mantis_scan_prefix_at(db, snap, "acct:", 5, add_balance, &total, &err);
  printf("total %ld\n", total);
  mantis_snapshot_destroy(snap);
  if (err != NULL) {
    fprintf(stderr, "error: %s\n", err);
    mantis_free(err);
    status = 1;
  }
  mantis_destroy(db);
  return status != 0 || total != 120;
}
