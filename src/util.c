/* util.c — the single allocation wrapper (with a fault-injection counter used by the
 * out-of-memory tests), arenas and string buffers. Must not print or exit. */
#include "config.h"

#include "util.h"
#include "bayes.h"

#include <float.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long fail_after; /* 0: never fail */
static long n_allocs;

void bayes_fail_alloc_after(long k) { fail_after = k; }
long bayes_alloc_count(void) { return n_allocs; }

static int should_fail(void)
{
  n_allocs++;
  if (fail_after > 0 && --fail_after == 0) return 1;
  return 0;
}

void *bayes_malloc(size_t n)
{
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *bayes_calloc(size_t n, size_t size)
{
  if (should_fail()) return NULL;
  if (n == 0 || size == 0) return calloc(1, 1);
  return calloc(n, size);
}

void *bayes_realloc(void *p, size_t n)
{
  if (should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

char *bayes_strndup(const char *s, size_t n)
{
  char *d = bayes_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *bayes_strdup(const char *s) { return bayes_strndup(s, strlen(s)); }

void bayes_free(void *p) { free(p); }

int bayes_grow(void *arr, size_t *cap, size_t n, size_t sz)
{
  void **pa = arr;
  if (n <= *cap) return 0;
  if (sz == 0) return -1;
  size_t nc = *cap ? *cap : 8;
  while (nc < n) {
    if (nc > SIZE_MAX / 2 / sz) return -1;
    nc *= 2;
  }
  void *p = bayes_realloc(*pa, nc * sz);
  if (!p) return -1;
  *pa = p;
  *cap = nc;
  return 0;
}

/* ---- arena ---- */

struct bayes_arena_chunk {
  bayes_arena_chunk *next;
  size_t used, cap;
  _Alignas(16) unsigned char mem[];
};

void bayes_arena_init(bayes_arena *a) { a->head = NULL; }

void bayes_arena_destroy(bayes_arena *a)
{
  bayes_arena_chunk *c = a->head;
  while (c) {
    bayes_arena_chunk *n = c->next;
    bayes_free(c);
    c = n;
  }
  a->head = NULL;
}

void *bayes_arena_alloc(bayes_arena *a, size_t n)
{
  if (n > SIZE_MAX / 2) return NULL; /* rounding up and the chunk header must not wrap */
  n = (n + 15) & ~(size_t)15;
  if (n == 0) n = 16;
  bayes_arena_chunk *c = a->head;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    c = bayes_malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->used = 0;
    /* keep the partially used head in front when the new chunk is a big one-off */
    if (a->head && n > 65536) {
      c->next = a->head->next;
      a->head->next = c;
    } else {
      c->next = a->head;
      a->head = c;
    }
  }
  void *p = c->mem + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

char *bayes_arena_strndup(bayes_arena *a, const char *s, size_t n)
{
  char *d = bayes_arena_alloc(a, n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *bayes_arena_strdup(bayes_arena *a, const char *s)
{
  return bayes_arena_strndup(a, s, strlen(s));
}

/* ---- string buffer ---- */

void bayes_sb_init(bayes_sb *sb)
{
  sb->s = NULL;
  sb->len = sb->cap = 0;
  sb->oom = 0;
}

void bayes_sb_destroy(bayes_sb *sb)
{
  bayes_free(sb->s);
  bayes_sb_init(sb);
}

static int sb_reserve(bayes_sb *sb, size_t extra)
{
  if (sb->oom) return -1;
  if (bayes_grow(&sb->s, &sb->cap, sb->len + extra + 1, 1) != 0) {
    sb->oom = 1;
    return -1;
  }
  return 0;
}

void bayes_sb_putn(bayes_sb *sb, const char *s, size_t n)
{
  if (sb_reserve(sb, n) != 0) return;
  memcpy(sb->s + sb->len, s, n);
  sb->len += n;
  sb->s[sb->len] = '\0';
}

void bayes_sb_puts(bayes_sb *sb, const char *s) { bayes_sb_putn(sb, s, strlen(s)); }
void bayes_sb_putc(bayes_sb *sb, char c) { bayes_sb_putn(sb, &c, 1); }

void bayes_sb_vprintf(bayes_sb *sb, const char *fmt, va_list ap)
{
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || sb_reserve(sb, (size_t)n) != 0) return;
  vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
  sb->len += (size_t)n;
}

void bayes_sb_printf(bayes_sb *sb, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bayes_sb_vprintf(sb, fmt, ap);
  va_end(ap);
}

void bayes_sb_double(bayes_sb *sb, double x)
{
  char buf[40];
  if (isnan(x)) {
    bayes_sb_puts(sb, "NaN");
    return;
  }
  if (isinf(x)) {
    bayes_sb_puts(sb, x > 0 ? "Infinity" : "-Infinity");
    return;
  }
  /* Exact, and short for round values: 15 significant digits when they read back exactly
   * (0.1, 2.5, data values), else 17, which always do. (The 16-digit try is skipped: for
   * the draws of a sampler, written by the million, it rarely helps and costs a third.)
   * Subnormals carry fewer significant digits: search from 1. */
  if (fabs(x) < DBL_MIN && x != 0) {
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(buf, sizeof buf, "%.*g", prec, x);
      if (strtod(buf, NULL) == x) break;
    }
  } else {
    snprintf(buf, sizeof buf, "%.15g", x);
    if (strtod(buf, NULL) != x) snprintf(buf, sizeof buf, "%.17g", x);
  }
  bayes_sb_puts(sb, buf);
}

const char *bayes_sb_cstr(bayes_sb *sb) { return sb->s ? sb->s : ""; }

size_t bayes_edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return (size_t)-1;
  size_t row[65];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t cur = row[j];
      size_t sub = prev + (a[i - 1] != b[j - 1]);
      size_t del = row[j] + 1, ins = row[j - 1] + 1;
      row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      prev = cur;
    }
  }
  return row[lb];
}

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
void openblas_set_num_threads(int n);
#endif

void bayes_blas_threads(int n)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
  openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

void bayes_errf(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static void afile_release(bayes_afile *a)
{
  bayes_free(a->path);
  bayes_free(a->tmp);
  a->path = a->tmp = NULL;
  a->f = NULL;
}

int bayes_afile_open(bayes_afile *a, const char *path, char *err, size_t errlen)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_printf(&sb, "%s.tmp.%ld", path, (long)getpid());
  a->f = NULL;
  a->path = bayes_strdup(path);
  a->tmp = sb.oom ? NULL : sb.s;
  if (!a->path || !a->tmp) {
    bayes_errf(err, errlen, "out of memory");
    afile_release(a);
    return -1;
  }
  a->f = fopen(a->tmp, "w");
  if (!a->f) {
    bayes_errf(err, errlen, "cannot create %s: %s", a->tmp, strerror(errno));
    afile_release(a);
    return -1;
  }
  return 0;
}

void bayes_afile_abort(bayes_afile *a)
{
  if (a->f) fclose(a->f);
  if (a->tmp) unlink(a->tmp);
  afile_release(a);
}

int bayes_afile_commit(bayes_afile *a, char *err, size_t errlen)
{
  int rc = 0;
  if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0) rc = -1;
  if (rc != 0) {
    bayes_errf(err, errlen, "cannot write %s: %s", a->tmp, strerror(errno ? errno : EIO));
    bayes_afile_abort(a);
    return -1;
  }
  FILE *f = a->f;
  a->f = NULL;
  if (fclose(f) != 0) {
    bayes_errf(err, errlen, "cannot write %s: %s", a->tmp, strerror(errno));
    bayes_afile_abort(a);
    return -1;
  }
  if (rename(a->tmp, a->path) != 0) {
    bayes_errf(err, errlen, "cannot rename %s to %s: %s", a->tmp, a->path, strerror(errno));
    bayes_afile_abort(a);
    return -1;
  }
  /* make the rename itself durable */
  const char *slash = strrchr(a->path, '/');
  char *dir = slash ? bayes_strndup(a->path, slash == a->path ? 1 : (size_t)(slash - a->path))
                    : bayes_strdup(".");
  if (dir) {
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
      (void)fsync(fd);
      close(fd);
    }
    bayes_free(dir);
  }
  afile_release(a);
  return 0;
}

static uint64_t splitmix64(uint64_t x)
{
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

gsl_rng *bayes_rng_alloc(uint64_t seed, uint64_t stream)
{
  /* gsl_rng is a public struct of a type and its state */
  gsl_rng *r = bayes_calloc(1, sizeof *r);
  if (!r) return NULL;
  r->type = gsl_rng_mt19937;
  r->state = bayes_calloc(1, gsl_rng_mt19937->size);
  if (!r->state) {
    bayes_free(r);
    return NULL;
  }
  /* GSL's mt19937 takes a 32-bit seed, so mix both into it */
  uint64_t mix = splitmix64(seed ^ splitmix64(stream * 0x9E3779B97F4A7C15ULL));
  unsigned long seed32 = (unsigned long)((mix ^ (mix >> 32)) & 0xffffffffUL);
  gsl_rng_set(r, seed32 ? seed32 : 1);
  return r;
}

void bayes_rng_free(gsl_rng *r)
{
  if (!r) return;
  bayes_free(r->state);
  bayes_free(r);
}

void bayes_sb_json_number(bayes_sb *sb, double x)
{
  if (isfinite(x))
    bayes_sb_double(sb, x);
  else
    bayes_sb_puts(sb, "null");
}

void bayes_sb_json_string(bayes_sb *sb, const char *s)
{
  bayes_sb_putc(sb, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      bayes_sb_printf(sb, "\\%c", c);
    else if (c == '\n')
      bayes_sb_puts(sb, "\\n");
    else if (c < 0x20)
      bayes_sb_printf(sb, "\\u%04x", c);
    else
      bayes_sb_putc(sb, (char)c);
  }
  bayes_sb_putc(sb, '"');
}
