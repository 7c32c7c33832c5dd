/* util.h — allocation (one wrapper, with a fault-injection hook), arenas and growable
 * string buffers shared by every stage. Nothing here prints or exits.
 * Ownership rule for the whole library: whoever calls X_alloc calls X_free; X_free(NULL)
 * is a no-op; memory taken from an arena lives until the arena is destroyed. */
#ifndef BAYES_UTIL_H
#define BAYES_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* All heap memory goes through these. They return NULL on failure (never abort).
 * bayes_fail_alloc_after(k) makes the k-th allocation from now fail (k = 0: off). */
void *bayes_malloc(size_t n);
void *bayes_calloc(size_t n, size_t size);
void *bayes_realloc(void *p, size_t n);
char *bayes_strdup(const char *s);
char *bayes_strndup(const char *s, size_t n);
void bayes_free(void *p);
void bayes_fail_alloc_after(long k);
long bayes_alloc_count(void);

/* Grow *arr (of element size sz, capacity *cap) so that it holds at least n elements.
 * Returns 0 or -1 on out-of-memory (then *arr is unchanged). */
int bayes_grow(void *arr, size_t *cap, size_t n, size_t sz);

/* Arena: bump allocation in chunks; everything is freed at once. */
typedef struct bayes_arena_chunk bayes_arena_chunk;
typedef struct bayes_arena {
  bayes_arena_chunk *head;
} bayes_arena;
void bayes_arena_init(bayes_arena *a);
void bayes_arena_destroy(bayes_arena *a);
void *bayes_arena_alloc(bayes_arena *a, size_t n); /* zeroed, 16-byte aligned */
char *bayes_arena_strdup(bayes_arena *a, const char *s);
char *bayes_arena_strndup(bayes_arena *a, const char *s, size_t n);

/* String buffer. On out-of-memory the buffer is marked failed and further appends are
 * ignored; check sb->oom before using the result. */
typedef struct bayes_sb {
  char *s;
  size_t len, cap;
  int oom;
} bayes_sb;
void bayes_sb_init(bayes_sb *sb);
void bayes_sb_destroy(bayes_sb *sb);
void bayes_sb_putc(bayes_sb *sb, char c);
void bayes_sb_puts(bayes_sb *sb, const char *s);
void bayes_sb_putn(bayes_sb *sb, const char *s, size_t n);
void bayes_sb_printf(bayes_sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bayes_sb_vprintf(bayes_sb *sb, const char *fmt, va_list ap);
/* A decimal form of x that reads back exactly: 15 significant digits when those do
 * (round values stay short: 0.1, 2.5), else 17. NaN and infinities as JSON-ish words. */
void bayes_sb_double(bayes_sb *sb, double x);
const char *bayes_sb_cstr(bayes_sb *sb); /* never NULL */
/* JSON values: a number (shortest exact form; NaN and infinities as null) and a string
 * (quoted, with '"', '\\' and control characters escaped). */
void bayes_sb_json_number(bayes_sb *sb, double x);
void bayes_sb_json_string(bayes_sb *sb, const char *s);

/* A file written whole or not at all (draws, summaries): it is written as PATH.tmp.PID in
 * the same folder, and bayes_afile_commit flushes, fsyncs, closes and renames it over PATH
 * (then fsyncs the folder), so a run killed at any point leaves either no PATH or a
 * complete one. commit and abort release everything; abort removes the temporary file. */
typedef struct {
  FILE *f;
  char *path, *tmp;
} bayes_afile;
int bayes_afile_open(bayes_afile *a, const char *path, char *err, size_t errlen);
int bayes_afile_commit(bayes_afile *a, char *err, size_t errlen);
void bayes_afile_abort(bayes_afile *a);

/* snprintf into an error buffer of errlen bytes (nothing if err is NULL). */
void bayes_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A random stream for (seed, stream): GSL's mt19937 seeded with splitmix64 (Steele, Lea &
 * Flood 2014) of both, so that chains, paths and particles never depend on the thread that
 * runs them. Allocated through bayes_malloc (gsl_rng_alloc would bypass its fault
 * injection); NULL on out of memory. Free with bayes_rng_free (NULL is fine). */
#include <gsl/gsl_rng.h>
#include <stdint.h>
gsl_rng *bayes_rng_alloc(uint64_t seed, uint64_t stream);
void bayes_rng_free(gsl_rng *r);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t bayes_edit_distance(const char *a, const char *b);

#endif
