/*
 * A tiny test helper for the C API tests: checks that report file:line and
 * keep going, sentinel-filled outputs, reading files and the `key value...`
 * lines of the .expect / .probe files that gen_data.cmake writes.
 */
#ifndef INR_TEST_UTIL_H
#define INR_TEST_UTIL_H

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inr.h"

static int t_checks;
static int t_failures;

static void t_fail(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s:%d: FAILED: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  t_failures++;
}

/* CHECK(cond), or CHECKF(cond, fmt, ...) with a message of your own. */
#define CHECK(cond)                                                         \
  do {                                                                      \
    t_checks++;                                                             \
    if (!(cond)) t_fail(__FILE__, __LINE__, "%s", #cond);                   \
  } while (0)
#define CHECKF(cond, ...)                                                   \
  do {                                                                      \
    t_checks++;                                                             \
    if (!(cond)) t_fail(__FILE__, __LINE__, __VA_ARGS__);                   \
  } while (0)

/* A fatal check: the rest of the test makes no sense without it. */
#define REQUIRE(cond)                                                       \
  do {                                                                      \
    t_checks++;                                                             \
    if (!(cond)) {                                                          \
      t_fail(__FILE__, __LINE__, "required: %s", #cond);                    \
      exit(1);                                                              \
    }                                                                       \
  } while (0)

#define CHECK_EQ_U64(a, b)                                                  \
  do {                                                                      \
    uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                        \
    CHECKF(a_ == b_, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, a_, b_);  \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                  \
  do {                                                                      \
    const char *a_ = (a), *b_ = (b);                                        \
    CHECKF(a_ && b_ && strcmp(a_, b_) == 0, "%s == %s: \"%s\" != \"%s\"",   \
           #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
  } while (0)

/* Exact equality of doubles, bit for bit (so -0.0 != 0.0, NaN == NaN). */
#define CHECK_SAME_F64(a, b)                                                \
  do {                                                                      \
    double a_ = (a), b_ = (b);                                              \
    CHECKF(memcmp(&a_, &b_, sizeof a_) == 0, "%s == %s: %.17g != %.17g",    \
           #a, #b, a_, b_);                                                 \
  } while (0)

static const char *t_status_name(inr_status s) { return inr_status_name((int32_t)s); }

/* The call returns INR_OK. */
#define CHECK_OK(call)                                                      \
  do {                                                                      \
    inr_status s_ = (call);                                                 \
    t_checks++;                                                             \
    if (s_ != INR_OK)                                                       \
      t_fail(__FILE__, __LINE__, "%s returned %s: %s", #call,               \
             t_status_name(s_), inr_last_error_message());                  \
  } while (0)
#define REQUIRE_OK(call)                                                    \
  do {                                                                      \
    int before_ = t_failures;                                               \
    CHECK_OK(call);                                                         \
    if (t_failures != before_) exit(1);                                     \
  } while (0)

/*
 * A call that must fail with `expected`. Also checks the error message
 * contract: inr_last_error_message() is non-empty after the failure, and
 * the same pointer and text are returned until the next failing call, even
 * across successful calls (t_succeed runs one; set it up with
 * t_set_succeed).
 */
static void (*t_succeed_fn)(void);
static void t_set_succeed(void (*f)(void)) { t_succeed_fn = f; }

static void t_check_fails(inr_status got, inr_status expected, const char *call,
                          const char *file, int line)
{
  t_checks++;
  if (got != expected) {
    t_fail(file, line, "%s returned %s, expected %s (message: \"%s\")", call,
           t_status_name(got), t_status_name(expected), inr_last_error_message());
    return;
  }
  const char *m1 = inr_last_error_message();
  if (m1 == NULL || m1[0] == '\0') {
    t_fail(file, line, "%s failed (%s) with an empty last error message", call,
           t_status_name(got));
    return;
  }
  char *copy = strdup(m1);
  if (t_succeed_fn) t_succeed_fn();
  const char *m2 = inr_last_error_message();
  if (m2 != m1 || strcmp(m2, copy) != 0)
    t_fail(file, line,
           "%s: the last error message changed without a failure: \"%s\" -> \"%s\"",
           call, copy, m2 ? m2 : "(null)");
  free(copy);
}
#define CHECK_FAILS(call, expected)                                         \
  t_check_fails((call), (expected), #call, __FILE__, __LINE__)

/* Sentinels: outputs are pre-filled with 0xA5 bytes and must keep them when
 * a call fails. */
#define SENTINEL_BYTE 0xA5
#define FILL(x) memset(&(x), SENTINEL_BYTE, sizeof(x))
#define FILL_N(p, n) memset((p), SENTINEL_BYTE, (n) * sizeof *(p))
static bool t_untouched(const void *p, size_t bytes)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < bytes; i++)
    if (b[i] != SENTINEL_BYTE) return false;
  return true;
}
#define CHECK_UNTOUCHED(x)                                                  \
  CHECKF(t_untouched(&(x), sizeof(x)), "%s was written by a failed call", #x)
#define CHECK_UNTOUCHED_N(p, n)                                             \
  CHECKF(t_untouched((p), (n) * sizeof *(p)),                               \
         "%s was written by a failed call", #p)

static void *t_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory (%zu bytes)\n", n);
    exit(1);
  }
  return p;
}

static bool t_same_floats(const float *a, const float *b, size_t n)
{
  return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* Reads a whole file; NULL if it cannot. */
static unsigned char *t_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long n = ftell(f);
  rewind(f);
  unsigned char *buf = t_xmalloc((size_t)(n > 0 ? n : 1));
  if (n < 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    return NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static bool t_write_file(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

/* The lines of an .expect / .probe file, split into whitespace-separated
 * tokens. */
#define T_MAX_TOKENS 64
typedef struct {
  int n;
  char *tok[T_MAX_TOKENS];
} t_line;
typedef struct {
  int n;
  t_line *lines;
  char *text;
} t_facts;

static t_facts t_load_facts(const char *path)
{
  t_facts f = {0, NULL, NULL};
  size_t len = 0;
  unsigned char *raw = t_read_file(path, &len);
  if (!raw) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  f.text = t_xmalloc(len + 1);
  memcpy(f.text, raw, len);
  f.text[len] = '\0';
  free(raw);
  int cap = 16;
  f.lines = t_xmalloc(sizeof(t_line) * (size_t)cap);
  char *save_line = NULL;
  for (char *l = strtok_r(f.text, "\n", &save_line); l; l = strtok_r(NULL, "\n", &save_line)) {
    if (f.n == cap) {
      cap *= 2;
      t_line *grown = realloc(f.lines, sizeof(t_line) * (size_t)cap);
      if (!grown) exit(1);
      f.lines = grown;
    }
    t_line *line = &f.lines[f.n];
    line->n = 0;
    char *save_tok = NULL;
    for (char *t = strtok_r(l, " \t\r", &save_tok); t && line->n < T_MAX_TOKENS;
         t = strtok_r(NULL, " \t\r", &save_tok))
      line->tok[line->n++] = t;
    if (line->n > 0) f.n++;
  }
  return f;
}

static void t_free_facts(t_facts *f)
{
  free(f->lines);
  free(f->text);
  f->lines = NULL;
  f->text = NULL;
  f->n = 0;
}

/* The `index`-th line whose first token is `key` (NULL if none). */
static const t_line *t_fact(const t_facts *f, const char *key, int index)
{
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->lines[i].tok[0], key) == 0 && index-- == 0) return &f->lines[i];
  return NULL;
}

static const t_line *t_require_fact(const t_facts *f, const char *key, int index)
{
  const t_line *l = t_fact(f, key, index);
  if (!l) {
    fprintf(stderr, "the expectations have no line %d for \"%s\"\n", index, key);
    exit(1);
  }
  return l;
}

static double t_num(const t_line *l, int i)
{
  if (i >= l->n) {
    fprintf(stderr, "line \"%s\" has no token %d\n", l->tok[0], i);
    exit(1);
  }
  char *end = NULL;
  double v = strtod(l->tok[i], &end);
  if (end == l->tok[i] || *end != '\0') {
    fprintf(stderr, "\"%s\" is not a number\n", l->tok[i]);
    exit(1);
  }
  return v;
}

static int t_report(const char *name)
{
  printf("%s: %d checks, %d failed\n", name, t_checks, t_failures);
  return t_failures == 0 ? 0 : 1;
}

#endif /* INR_TEST_UTIL_H */
