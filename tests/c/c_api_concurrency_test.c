/* mantis_close racing with calls from other threads: every call either succeeds or reports Closed,
 * nothing crashes, and iterators and pinned values created before the close stay safe to use. Run
 * under TSan and ASan by scripts/test.sh. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
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

int main(void) {
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
