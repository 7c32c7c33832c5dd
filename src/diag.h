/* diag.h — located diagnostics. Messages are collected (several per run, like SQLite's
 * nErr) and formatted as
 *     FILE:LINE:COL: error: MESSAGE
 *     <the source line>
 *     <spaces>^~~~ under the offending text
 * The library never prints: the CLI formats and writes them. */
#ifndef BAYES_DIAG_H
#define BAYES_DIAG_H

#include <stddef.h>

#include "util.h"

#define BAYES_MAX_ERRORS 20

/* A source file kept in memory so that caret lines can be shown. */
typedef struct bayes_src {
  char *path;
  char *text;       /* NUL-terminated */
  size_t len;
} bayes_src;

/* Reads a whole file. Returns 0, -1 if it cannot be opened/read (errno set), -2 on OOM. */
int bayes_src_read(bayes_src *s, const char *path);
int bayes_src_from_string(bayes_src *s, const char *path, const char *text);
void bayes_src_destroy(bayes_src *s);

typedef enum { BAYES_DIAG_ERROR, BAYES_DIAG_WARNING, BAYES_DIAG_NOTE } bayes_diag_level;

typedef struct {
  bayes_diag_level level;
  const bayes_src *src;  /* may be NULL: message without location */
  int line, col, len;    /* 1-based; len = characters to underline (>= 1) */
  char *msg;
} bayes_diag_msg;

typedef struct bayes_diag {
  bayes_diag_msg *m;
  size_t n, cap;
  int nerr;            /* errors (not warnings/notes) */
  int oom;
  int limit_hit;       /* more than BAYES_MAX_ERRORS errors: the rest were dropped */
} bayes_diag;

void bayes_diag_init(bayes_diag *d);
void bayes_diag_destroy(bayes_diag *d);
void bayes_diag_add(bayes_diag *d, bayes_diag_level lv, const bayes_src *src, int line,
                    int col, int len, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void bayes_diag_vadd(bayes_diag *d, bayes_diag_level lv, const bayes_src *src, int line,
                     int col, int len, const char *fmt, va_list ap);
#define bayes_error(d, src, line, col, len, ...) \
  bayes_diag_add((d), BAYES_DIAG_ERROR, (src), (line), (col), (len), __VA_ARGS__)
/* Formats every message (in the order added) into sb. */
void bayes_diag_format(const bayes_diag *d, bayes_sb *sb);

/* "did you mean" helper: the candidate closest to `name` (edit distance <= max(1, len/3)),
 * or NULL. `cands` is NULL-terminated. */
const char *bayes_suggest(const char *name, const char *const *cands);

#endif
