/* A C program that uses mantis through its C API only, built two ways by tests/consumer/run.sh:
 * with `cc $(pkg-config --cflags --libs mantis_c)` against an installed prefix, and by the
 * find_package consumer through mantis::c. Exits non-zero on failure. */
#include <stdio.h>
#include <string.h>

#include <mantis/mantis.h>

int main(void) {
  char* err = NULL;
  mantis_t* db = mantis_open(NULL, &err);
  if (db == NULL) {
    fprintf(stderr, "mantis_open: %s\n", err);
    mantis_free(err);
    return 1;
  }
  mantis_put(db, NULL, "consumer", 8, "works", 5, &err);
  size_t len = 0;
  char* value = err == NULL ? mantis_get(db, "consumer", 8, &len, &err) : NULL;
  int ok = err == NULL && value != NULL && len == 5 && memcmp(value, "works", 5) == 0;
  if (!ok) fprintf(stderr, "put/get failed: %s\n", err != NULL ? err : "wrong value");
  mantis_free(value);
  mantis_free(err);
  mantis_destroy(db);
  if (ok) printf("mantis %s C consumer: got %zu bytes back\n", mantis_version(), len);
  return ok ? 0 : 1;
}
