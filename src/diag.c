/* diag.c — collects located diagnostics and formats them with the source line and a
 * caret underline. Never prints, exits or aborts: on out-of-memory it sets d->oom and
 * keeps going, so that a failing allocation can never hide the original error. */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bayes_src_read(bayes_src *s, const char *path)
{
  FILE *f = NULL;
  char *text = NULL;
  size_t len = 0, cap = 0;
  int ret = -1;

  s->path = s->text = NULL;
  s->len = 0;
  f = fopen(path, "rb");
  if (!f) return -1;
  for (;;) {
    if (cap - len < 4096 + 1) {
      if (bayes_grow(&text, &cap, len + 4096 + 1, 1) != 0) {
        ret = -2;
        goto fail;
      }
    }
    errno = 0;
    size_t got = fread(text + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    /* keep fread's reason (EISDIR for a directory); EIO only if it gave none */
    if (errno == 0) errno = EIO;
    goto fail;
  }
  fclose(f);
  f = NULL;
  if (!text && !(text = bayes_malloc(1))) return -2;
  text[len] = '\0';
  s->path = bayes_strdup(path);
  if (!s->path) {
    ret = -2;
    goto fail;
  }
  s->text = text;
  s->len = len;
  return 0;

fail:
  if (f) {
    int e = errno;
    fclose(f);
    errno = e;
  }
  bayes_free(text);
  return ret;
}

int bayes_src_from_string(bayes_src *s, const char *path, const char *text)
{
  s->path = bayes_strdup(path ? path : "<string>");
  s->text = bayes_strdup(text);
  s->len = strlen(text);
  if (!s->path || !s->text) {
    bayes_src_destroy(s);
    return -2;
  }
  return 0;
}

void bayes_src_destroy(bayes_src *s)
{
  if (!s) return;
  bayes_free(s->path);
  bayes_free(s->text);
  s->path = s->text = NULL;
  s->len = 0;
}

void bayes_diag_init(bayes_diag *d) { memset(d, 0, sizeof *d); }

void bayes_diag_destroy(bayes_diag *d)
{
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) bayes_free(d->m[i].msg);
  bayes_free(d->m);
  memset(d, 0, sizeof *d);
}

void bayes_diag_vadd(bayes_diag *d, bayes_diag_level lv, const bayes_src *src, int line,
                     int col, int len, const char *fmt, va_list ap)
{
  bayes_sb sb;

  if (lv == BAYES_DIAG_ERROR) {
    if (d->nerr >= BAYES_MAX_ERRORS) {
      d->limit_hit = 1;
      return;
    }
    /* counted even if storing fails below: the caller must still stop */
    d->nerr++;
  } else if (d->limit_hit) {
    return; /* notes after a dropped error would be attached to nothing */
  }
  bayes_sb_init(&sb);
  bayes_sb_vprintf(&sb, fmt, ap);
  if (!sb.s) bayes_sb_puts(&sb, ""); /* a format error leaves nothing: store "" */
  if (sb.oom) goto fail;
  if (bayes_grow(&d->m, &d->cap, d->n + 1, sizeof *d->m) != 0) goto fail;
  bayes_diag_msg *m = &d->m[d->n++];
  m->level = lv;
  m->src = src;
  m->line = line < 0 ? 0 : line;
  m->col = col < 1 ? 1 : col;
  m->len = len < 1 ? 1 : len;
  m->msg = sb.s;
  return;

fail:
  bayes_sb_destroy(&sb);
  d->oom = 1;
}

void bayes_diag_add(bayes_diag *d, bayes_diag_level lv, const bayes_src *src, int line,
                    int col, int len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bayes_diag_vadd(d, lv, src, line, col, len, fmt, ap);
  va_end(ap);
}

static const char *level_word(bayes_diag_level lv)
{
  switch (lv) {
  case BAYES_DIAG_WARNING: return "warning";
  case BAYES_DIAG_NOTE: return "note";
  default: return "error";
  }
}

/* Columns count characters (as libyaml's marks do), so a UTF-8 continuation byte does
 * not advance the column. */
static int is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Finds line `line` (1-based) of src: start and length in bytes (to '\n', NUL or end,
 * without a trailing '\r'). Returns 0 if the file has no such line. */
static int find_line(const bayes_src *src, int line, const char **start, size_t *blen)
{
  const char *p = src->text, *end = src->text + src->len;
  if (!p) return 0;
  for (int l = 1; l < line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return 0;
    p = nl + 1;
  }
  const char *q = p;
  while (q < end && *q != '\n' && *q != '\0') q++;
  if (q > p && q[-1] == '\r') q--;
  *start = p;
  *blen = (size_t)(q - p);
  return 1;
}

/* Byte offset of character `ch` (1-based) in a line of blen bytes. */
static size_t char_offset(const char *ls, size_t blen, int ch)
{
  size_t i = 0;
  for (int c = 1; i < blen; i++) {
    if (is_cont((unsigned char)ls[i])) continue;
    if (c == ch) break;
    c++;
  }
  return i;
}

/* A long source line (one-line JSON data, say) is shown as a window of
 * BAYES_DIAG_LINE_WINDOW characters around the column, with "..." where it was cut. */
#define BAYES_DIAG_LINE_WINDOW 100

static void format_caret(const bayes_diag_msg *m, bayes_sb *sb)
{
  const char *ls;
  size_t blen;
  if (!find_line(m->src, m->line, &ls, &blen)) return;
  int nchars = 0;
  for (size_t i = 0; i < blen; i++) nchars += !is_cont((unsigned char)ls[i]);
  /* a position just past the end is legitimate (an unexpected end of line) */
  int col = m->col > nchars + 1 ? nchars + 1 : m->col;
  int len = m->len;
  if (col + len - 1 > nchars) len = nchars - col + 1;
  if (len < 1) len = 1;

  int first = 1, last = nchars; /* characters shown */
  if (nchars > BAYES_DIAG_LINE_WINDOW) {
    first = col - BAYES_DIAG_LINE_WINDOW / 3;
    if (first < 1) first = 1;
    last = first + BAYES_DIAG_LINE_WINDOW - 1;
    if (last > nchars) {
      last = nchars;
      first = last - BAYES_DIAG_LINE_WINDOW + 1;
    }
    if (col + len - 1 > last) len = last - col + 1;
    if (len < 1) len = 1;
  }
  size_t b0 = char_offset(ls, blen, first), b1 = char_offset(ls, blen, last + 1);
  int lead = first > 1 ? 3 : 0;
  if (lead) bayes_sb_puts(sb, "...");
  bayes_sb_putn(sb, ls + b0, b1 - b0);
  if (last < nchars) bayes_sb_puts(sb, "...");
  bayes_sb_putc(sb, '\n');

  for (int i = 0; i < lead; i++) bayes_sb_putc(sb, ' ');
  int c = first;
  for (size_t i = b0; i < blen && c < col; i++) {
    unsigned char ch = (unsigned char)ls[i];
    if (is_cont(ch)) continue;
    bayes_sb_putc(sb, ch == '\t' ? '\t' : ' ');
    c++;
  }
  bayes_sb_putc(sb, '^');
  for (int i = 1; i < len; i++) bayes_sb_putc(sb, '~');
  bayes_sb_putc(sb, '\n');
}

static void format_one(const bayes_diag_msg *m, bayes_sb *sb)
{
  const char *lw = level_word(m->level);
  if (!m->src) {
    bayes_sb_printf(sb, "bayesrun: %s: %s\n", lw, m->msg);
  } else if (m->line == 0) {
    bayes_sb_printf(sb, "%s: %s: %s\n", m->src->path, lw, m->msg);
  } else {
    bayes_sb_printf(sb, "%s:%d:%d: %s: %s\n", m->src->path, m->line, m->col, lw, m->msg);
    format_caret(m, sb);
  }
}

/* Messages are found stage by stage (structure, then names and shapes), but are shown
 * in file order, as a compiler's are: each error or warning with the notes that follow
 * it, sorted stably by (file in order of first mention, line, column). */
typedef struct {
  size_t first, n;   /* the message and its notes */
  size_t file;       /* rank of its source */
  int line, col;
} msg_group;

static int group_before(const msg_group *a, const msg_group *b)
{
  if (a->file != b->file) return a->file < b->file;
  if (a->line != b->line) return a->line < b->line;
  return a->col < b->col;
}

void bayes_diag_format(const bayes_diag *d, bayes_sb *sb)
{
  msg_group *g = d->n ? bayes_calloc(d->n, sizeof *g) : NULL;
  const bayes_src **files = d->n ? bayes_calloc(d->n, sizeof *files) : NULL;
  if (!g || !files) {
    /* no room to sort: file order is a nicety, the messages are not */
    for (size_t i = 0; i < d->n; i++) format_one(&d->m[i], sb);
  } else {
    size_t ng = 0, nf = 0;
    for (size_t i = 0; i < d->n; i++) {
      const bayes_diag_msg *m = &d->m[i];
      if (m->level == BAYES_DIAG_NOTE && ng > 0) {
        g[ng - 1].n++;
        continue;
      }
      size_t f = 0;
      while (f < nf && files[f] != m->src) f++;
      if (f == nf) files[nf++] = m->src;
      g[ng++] = (msg_group){i, 1, f, m->line, m->col};
    }
    for (size_t i = 1; i < ng; i++) { /* insertion sort: stable, and n <= ~40 */
      msg_group t = g[i];
      size_t j = i;
      while (j > 0 && group_before(&t, &g[j - 1])) {
        g[j] = g[j - 1];
        j--;
      }
      g[j] = t;
    }
    for (size_t i = 0; i < ng; i++)
      for (size_t k = 0; k < g[i].n; k++) format_one(&d->m[g[i].first + k], sb);
  }
  bayes_free(g);
  bayes_free(files);
  if (d->oom) bayes_sb_puts(sb, "bayesrun: error: out of memory (some messages may be missing)\n");
  if (d->limit_hit)
    bayes_sb_printf(sb, "bayesrun: note: too many errors; stopping after %d\n",
                    BAYES_MAX_ERRORS);
}

/* Edit distance counting a swap of two neighbouring letters as one edit (the optimal
 * string alignment distance), since "tua" for "tau" is the commonest typo of all. Names
 * longer than 64 characters are never close to anything. */
static size_t typo_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return (size_t)-1;
  size_t d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

const char *bayes_suggest(const char *name, const char *const *cands)
{
  if (!name || !cands) return NULL;
  size_t lim = strlen(name) / 3;
  if (lim < 1) lim = 1;
  const char *best = NULL;
  size_t bestd = (size_t)-1;
  for (size_t i = 0; cands[i]; i++) {
    if (strcmp(name, cands[i]) == 0) continue; /* suggesting the name itself helps nobody */
    size_t dist = typo_distance(name, cands[i]);
    if (dist <= lim && dist < bestd) {
      best = cands[i];
      bestd = dist;
    }
  }
  return best;
}
