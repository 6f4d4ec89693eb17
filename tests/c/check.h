/* A tiny test harness for the C API tests: CHECK counts passes and failures and prints each failure
 * with its line; finish() prints "N passed, M failed" and gives main's exit status. */
#ifndef MANTIS_TESTS_C_CHECK_H_
#define MANTIS_TESTS_C_CHECK_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mantis/mantis.h>

static int g_passed = 0;
static int g_failed = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      ++g_passed;                                                              \
    } else {                                                                   \
      ++g_failed;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Checks that *err holds a message starting with `code` (e.g. "Closed:"), then frees it. */
#define CHECK_ERR(err, code)                                                                               \
  do {                                                                                                     \
    CHECK((err) != NULL && strncmp((err), (code), strlen(code)) == 0);                                     \
    if ((err) != NULL && strncmp((err), (code), strlen(code)) != 0) fprintf(stderr, "  got: %s\n", (err)); \
    mantis_free(err);                                                                                      \
    (err) = NULL;                                                                                          \
  } while (0)

/* Checks that there is no error (printing it if there is one). */
#define CHECK_OK(err)                                                      \
  do {                                                                     \
    CHECK((err) == NULL);                                                  \
    if ((err) != NULL) fprintf(stderr, "  unexpected error: %s\n", (err)); \
    mantis_free(err);                                                      \
    (err) = NULL;                                                          \
  } while (0)

static int finish(void) {
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* MANTIS_TESTS_C_CHECK_H_ */
