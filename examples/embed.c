/* Embedding mantis in a C program through its C API (<mantis/mantis.h>, target mantis::c, or
 * pkg-config mantis_c): open, write with a TTL, read, iterate, scan, and shut down. */
#include <stdio.h>
#include <string.h>

#include <mantis/mantis.h>

/* Prints an error and frees it; returns 1 if there was one. */
static int failed(const char* what, char** err) {
  if (*err == NULL) return 0;
  fprintf(stderr, "%s: %s\n", what, *err);
  mantis_free(*err);
  *err = NULL;
  return 1;
}

static int print_entry(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  (void)ctx;
  printf("  %.*s -> %.*s\n", (int)keylen, key, (int)vallen, value);
  return 1; /* continue */
}

int main(void) {
  char* err = NULL;
  mantis_options_t* options = mantis_options_create();
  mantis_options_set_cache_capacity(options, 8 << 20);
  mantis_t* db = mantis_open(options, &err); /* no dir: memory only */
  mantis_options_destroy(options);
  if (failed("open", &err)) return 1;

  mantis_put(db, NULL, "user:1", 6, "ada", 3, &err);
  if (!failed("put", &err)) mantis_put(db, NULL, "user:2", 6, "grace", 5, &err);
  if (!failed("put", &err)) mantis_put_ttl(db, "session:7", 9, "token", 5, 30000, &err);
  if (failed("put", &err)) return 1;

  size_t len = 0;
  char* value = mantis_get(db, "user:1", 6, &len, &err); /* a malloc'd copy, or NULL if absent */
  if (failed("get", &err) || value == NULL) return 1;
  printf("user:1 = %.*s\n", (int)len, value);
  mantis_free(value);

  int64_t left = 0;
  if (mantis_ttl(db, "session:7", 9, &left, &err) == 1) printf("session:7 expires in %lld ms\n", (long long)left);

  mantis_iterator_t* it = mantis_iter_create(db, &err);
  if (failed("iterator", &err)) return 1;
  for (mantis_iter_seek_to_first(it); mantis_iter_valid(it); mantis_iter_next(it)) {
    size_t klen = 0;
    const char* key = mantis_iter_key(it, &klen);
    printf("key %.*s\n", (int)klen, key);
  }
  mantis_iter_destroy(it);

  mantis_scan_prefix(db, "user:", 5, print_entry, NULL, &err);
  if (failed("scan", &err)) return 1;

  char* stats = mantis_stats_json(db, &err);
  if (failed("stats", &err)) return 1;
  printf("stats: %s\n", stats);
  mantis_free(stats);

  mantis_close(db, &err); /* later calls on db report "Closed: ..." */
  mantis_put(db, NULL, "k", 1, "v", 1, &err);
  printf("after close: %s\n", err != NULL ? err : "(no error?)");
  int ok = err != NULL && strncmp(err, "Closed:", 7) == 0;
  mantis_free(err);
  mantis_destroy(db);
  return ok ? 0 : 1;
}
