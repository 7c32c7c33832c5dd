/* data.c — data values from YAML nodes, CmdStan JSON files (parsed by libyaml: JSON is
 * YAML flow syntax) and CSV columns, with positions kept for later messages. Must not
 * print; every problem is a located error naming the offending element. */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_INT_MAX 9007199254740992.0 /* 2^53: larger integers are not exact */

/* ---- numbers ---- */

/* The spellings of infinity and NaN that CmdStan, R, Python and YAML write. */
static int special_number(const char *s, double *x)
{
  static const char *const inf[] = {"inf", "Inf", "INF", "Infinity", "infinity",
                                    ".inf", ".Inf", ".INF", NULL};
  static const char *const nan[] = {"nan", "NaN", "NAN", ".nan", ".NaN", ".NAN", NULL};
  int neg = 0;
  const char *p = s;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  for (int i = 0; inf[i]; i++)
    if (strcmp(p, inf[i]) == 0) {
      *x = neg ? -INFINITY : INFINITY;
      return 1;
    }
  if (p == s)
    for (int i = 0; nan[i]; i++)
      if (strcmp(p, nan[i]) == 0) {
        *x = NAN;
        return 1;
      }
  return 0;
}

/* Parses a decimal number. Returns 1 and sets *is_int for an integer literal (no '.',
 * no exponent, within ±2^53), 0 if s is not a number. Hex, "1_000" and other strtod
 * extensions are refused so that data reads the same everywhere. */
static int parse_number(const char *s, size_t len, double *x, int *is_int)
{
  if (len == 0 || strlen(s) != len) return 0;
  if (special_number(s, x)) {
    *is_int = 0;
    return 1;
  }
  const char *p = s;
  int digits = 0, intlit = 1;
  if (*p == '+' || *p == '-') p++;
  while (*p >= '0' && *p <= '9') p++, digits++;
  if (*p == '.') {
    intlit = 0;
    p++;
    while (*p >= '0' && *p <= '9') p++, digits++;
  }
  if (!digits) return 0;
  if (*p == 'e' || *p == 'E') {
    intlit = 0;
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return 0;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p) return 0;
  *x = strtod(s, NULL);
  *is_int = 0;
  if (intlit) {
    /* exactness is judged on the literal: 2^53 + 1 rounds to 2^53 as a double */
    errno = 0;
    long long ll = strtoll(s, NULL, 10);
    *is_int = errno == 0 && ll <= (long long)EXACT_INT_MAX && ll >= -(long long)EXACT_INT_MAX;
  }
  return 1;
}

/* ---- values from YAML ---- */

typedef struct {
  bayes_arena *a;
  const bayes_src *src;
  bayes_diag *d;
  bayes_shape shape;
  double *v;
  size_t k;       /* next element to fill */
  int is_int;
  const char *name;  /* the value's name in a data file, for messages (may be NULL) */
} filler;

static int node_len(const bayes_ynode *n)
{
  int len = n->end_line == n->line ? n->end_col - n->col : 1;
  return len < 1 ? 1 : len;
}

static const char *kind_word(bayes_ykind k)
{
  return k == BAYES_Y_SEQ ? "a list" : k == BAYES_Y_MAP ? "a mapping" : "a number";
}

/* "row 3" for the rows of a matrix, "element 3" in a vector, "element [2, 3]" deeper. */
static void where(char *buf, size_t sz, const size_t *idx, int level, int rank)
{
  if (level == 1) {
    snprintf(buf, sz, "%s %zu", rank >= 2 ? "row" : "element", idx[0] + 1);
    return;
  }
  size_t k = (size_t)snprintf(buf, sz, "element [");
  for (int i = 0; i < level && k < sz; i++)
    k += (size_t)snprintf(buf + k, sz - k, "%s%zu", i ? ", " : "", idx[i] + 1);
  if (k < sz) snprintf(buf + k, sz - k, "]");
}

/* "y[2, 3]" (named) or "element [2, 3]" for the element at idx[0..level-1]. */
static void elem_where(const filler *f, char *buf, size_t sz, const size_t *idx, int level)
{
  if (!f->name) {
    if (level == 0)
      snprintf(buf, sz, "the value");
    else
      where(buf, sz, idx, level, level > 1 ? 1 : 0);
    return;
  }
  size_t k = (size_t)snprintf(buf, sz, "%s", f->name);
  if (level == 0 || k >= sz) return;
  k += (size_t)snprintf(buf + k, sz - k, "[");
  for (int i = 0; i < level && k < sz; i++)
    k += (size_t)snprintf(buf + k, sz - k, "%s%zu", i ? ", " : "", idx[i] + 1);
  if (k < sz) snprintf(buf + k, sz - k, "]");
}

/* Position of a nested list for messages: "y[2]" in a named data file value, "row 2" or
 * "element 2" in an inline one (the caret shows which value is meant). */
static void pos_where(const filler *f, char *buf, size_t sz, const size_t *idx, int level)
{
  if (f->name)
    elem_where(f, buf, sz, idx, level);
  else
    where(buf, sz, idx, level, f->shape.rank);
}

static int scalar_value(filler *f, const bayes_ynode *n, double *x, int *is_int,
                        const size_t *idx, int level)
{
  char pos[128];
  if (n->kind == BAYES_Y_MAP) {
    bayes_error(f->d, f->src, n->line, n->col, 1,
                "expected a number or a list of numbers, found a mapping");
    return -1;
  }
  if (n->style == BAYES_YS_PLAIN &&
      (n->slen == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0)) {
    elem_where(f, pos, sizeof pos, idx, level);
    bayes_error(f->d, f->src, n->line, n->col, node_len(n),
                "%s is missing (%s); every data value must be a number (write NaN and "
                "declare allow_nan: true for a missing observation)", pos,
                n->slen ? n->str : "empty");
    return -1;
  }
  /* quoted strings are numbers only in CmdStan's spellings of Inf and NaN */
  int ok = n->style == BAYES_YS_PLAIN ? parse_number(n->str, n->slen, x, is_int)
                                      : special_number(n->str, x);
  if (n->style != BAYES_YS_PLAIN) *is_int = 0;
  if (!ok) {
    if (f->name) {
      elem_where(f, pos, sizeof pos, idx, level);
      bayes_error(f->d, f->src, n->line, n->col, node_len(n),
                  "%s: expected a number, found '%.*s%s'", pos,
                  n->slen > 40 ? 40 : (int)n->slen, n->str, n->slen > 40 ? "..." : "");
    } else {
      bayes_error(f->d, f->src, n->line, n->col, node_len(n), "expected a number, found '%.*s%s'",
                  n->slen > 40 ? 40 : (int)n->slen, n->str, n->slen > 40 ? "..." : "");
    }
    return -1;
  }
  return 0;
}

/* Checks that n has the shape found from the first elements and copies its numbers in
 * row-major order. idx holds the position of n among its ancestors, for messages. */
static int fill(filler *f, const bayes_ynode *n, int level, size_t *idx)
{
  char pos[96];
  if (level == f->shape.rank) {
    if (n->kind == BAYES_Y_SEQ) {
      pos_where(f, pos, sizeof pos, idx, level);
      bayes_error(f->d, f->src, n->line, n->col, 1, "%s is a list, expected a number", pos);
      return -1;
    }
    double x;
    int ii;
    if (scalar_value(f, n, &x, &ii, idx, level) != 0) return -1;
    f->v[f->k++] = x;
    if (!ii) f->is_int = 0;
    return 0;
  }
  if (n->kind != BAYES_Y_SEQ) {
    pos_where(f, pos, sizeof pos, idx, level);
    if (n->kind == BAYES_Y_MAP)
      bayes_error(f->d, f->src, n->line, n->col, 1,
                  "expected a number or a list of numbers, found a mapping");
    else
      bayes_error(f->d, f->src, n->line, n->col, node_len(n),
                  "%s is %s, expected a list of %zu elements", pos, kind_word(n->kind),
                  f->shape.dim[level]);
    return -1;
  }
  if (n->n != f->shape.dim[level]) {
    pos_where(f, pos, sizeof pos, idx, level);
    bayes_error(f->d, f->src, n->line, n->col, 1, "%s has %zu element%s, expected %zu", pos,
                n->n, n->n == 1 ? "" : "s", f->shape.dim[level]);
    return -1;
  }
  for (size_t i = 0; i < n->n; i++) {
    idx[level] = i;
    if (fill(f, n->items[i], level + 1, idx) != 0) return -1;
  }
  return 0;
}

static int value_from_yaml(bayes_arena *a, const bayes_ynode *n, const bayes_src *src,
                           bayes_value *out, bayes_diag *d, const char *name);

int bayes_value_from_yaml(bayes_arena *a, const bayes_ynode *n, const bayes_src *src,
                          bayes_value *out, bayes_diag *d)
{
  return value_from_yaml(a, n, src, out, d, NULL);
}

static int value_from_yaml(bayes_arena *a, const bayes_ynode *n, const bayes_src *src,
                           bayes_value *out, bayes_diag *d, const char *name)
{
  filler f;
  size_t idx[BAYES_MAX_RANK + 1] = {0};

  memset(out, 0, sizeof *out);
  memset(&f, 0, sizeof f);
  f.a = a;
  f.src = src;
  f.d = d;
  f.is_int = 1;
  f.name = name;

  /* the shape is read off the first element at each level; fill() checks the rest */
  const bayes_ynode *p = n;
  while (p->kind == BAYES_Y_SEQ) {
    if (f.shape.rank == BAYES_MAX_RANK) {
      bayes_error(d, src, p->line, p->col, 1, "data nested deeper than %d levels",
                  BAYES_MAX_RANK);
      return -1;
    }
    f.shape.dim[f.shape.rank++] = p->n;
    if (p->n == 0) break;
    p = p->items[0];
  }
  size_t total = 1;
  for (int i = 0; i < f.shape.rank; i++) total *= f.shape.dim[i]; /* bounded by node count */
  f.v = bayes_arena_alloc(a, (total ? total : 1) * sizeof *f.v);
  if (!f.v) {
    d->oom = 1;
    bayes_error(d, NULL, 0, 0, 0, "out of memory while reading data");
    return -1;
  }
  /* with a 0 dimension nothing is copied, but the rows must still agree ([[], [1]]) */
  if (fill(&f, n, 0, idx) != 0) return -1;
  out->shape = f.shape;
  out->is_int = f.is_int != 0;
  out->v = f.v;
  out->n = total;
  out->src = src;
  out->line = n->line;
  out->col = n->col;
  return 0;
}

/* ---- JSON data files ---- */

int bayes_data_load_json(bayes_arena *a, bayes_src *src, bayes_dataset *ds, bayes_diag *d)
{
  /* the dataset is (re)initialised here, so a failed load leaves it safe to destroy */
  memset(ds, 0, sizeof *ds);
  ds->src = src;
  bayes_ynode *root = bayes_yaml_load(a, src, d);
  if (!root) return -1;
  if (root->kind != BAYES_Y_MAP) {
    bayes_error(d, src, root->line, root->col, 1,
                "a data file must be an object of name: value pairs, found %s",
                root->kind == BAYES_Y_SEQ ? "a list" : "a single value");
    return -1;
  }
  if (bayes_grow(&ds->v, &ds->cap, root->n ? root->n : 1, sizeof *ds->v) != 0) goto oom;
  for (size_t i = 0; i < root->n; i++) {
    const bayes_ynode *k = root->keys[i];
    bayes_named_value *nv = &ds->v[ds->n];
    memset(nv, 0, sizeof *nv);
    /* a value that is not numeric data is kept aside: it is an error only if the model
     * uses it (bayes_dataset_explain), as CmdStan ignores keys a model does not read */
    bayes_diag quiet;
    bayes_diag_init(&quiet);
    if (value_from_yaml(a, root->vals[i], src, &nv->val, &quiet, k->str) != 0) {
      if (quiet.oom) {
        bayes_diag_destroy(&quiet);
        goto oom;
      }
      nv->bad = true;
      nv->node = root->vals[i];
    }
    bayes_diag_destroy(&quiet);
    nv->name = k->str;
    nv->line = k->line;
    nv->col = k->col;
    ds->n++;
  }
  return 0;

oom:
  d->oom = 1;
  bayes_error(d, NULL, 0, 0, 0, "out of memory while reading %s", src->path);
  bayes_dataset_destroy(ds);
  return -1;
}

void bayes_dataset_explain(bayes_arena *a, const bayes_dataset *ds,
                           const bayes_named_value *nv, bayes_diag *d)
{
  bayes_value v;
  if (nv->node) value_from_yaml(a, nv->node, ds->src, &v, d, nv->name);
}

void bayes_dataset_destroy(bayes_dataset *ds)
{
  if (!ds) return;
  bayes_free(ds->v);
  ds->v = NULL;
  ds->n = ds->cap = 0;
}

const bayes_named_value *bayes_dataset_get(const bayes_dataset *ds, const char *name)
{
  if (!ds || !name) return NULL;
  for (size_t i = 0; i < ds->n; i++)
    if (ds->v[i].name && strcmp(ds->v[i].name, name) == 0) return &ds->v[i];
  return NULL;
}

/* ---- CSV columns ---- */

typedef struct {
  const char *s;      /* field text (unquoted, "" undone); arena copy if it was quoted */
  size_t len;
  int line, col;      /* position of the field's first character (the quote if quoted) */
  int clen;           /* characters the field spans on its line, for the caret */
  int quoted;
} csv_field;

typedef struct {
  bayes_arena *a;
  const bayes_src *src;
  bayes_diag *d;
  const char *p, *end;
  int line, col;      /* position of p */
  csv_field *f;
  size_t nf, capf;
} csv_reader;

static void csv_adv(csv_reader *r)
{
  unsigned char c = (unsigned char)*r->p++;
  if (c == '\n') {
    r->line++;
    r->col = 1;
  } else if ((c & 0xC0) != 0x80) {
    r->col++;
  }
}

static int csv_oom(csv_reader *r)
{
  r->d->oom = 1;
  bayes_error(r->d, NULL, 0, 0, 0, "out of memory while reading %s", r->src->path);
  return -1;
}

/* Reads one record into r->f. Returns 1 for a record, 0 at the end of the text, -1 on
 * error (reported). A quoted field may span lines. */
static int csv_record(csv_reader *r)
{
  r->nf = 0;
  if (r->p >= r->end) return 0;
  for (;;) {
    csv_field fld = {NULL, 0, r->line, r->col, 0, 0};
    if (r->p < r->end && *r->p == '"') {
      bayes_sb sb;
      bayes_sb_init(&sb);
      fld.quoted = 1;
      csv_adv(r);
      for (;;) {
        if (r->p >= r->end) {
          bayes_sb_destroy(&sb);
          bayes_error(r->d, r->src, fld.line, fld.col, 1, "unterminated quoted field");
          return -1;
        }
        if (*r->p == '"') {
          if (r->p + 1 < r->end && r->p[1] == '"') {
            bayes_sb_putc(&sb, '"');
            csv_adv(r);
            csv_adv(r);
            continue;
          }
          csv_adv(r);
          break;
        }
        bayes_sb_putc(&sb, *r->p);
        csv_adv(r);
      }
      if (sb.oom) {
        bayes_sb_destroy(&sb);
        return csv_oom(r);
      }
      fld.len = sb.len;
      fld.s = bayes_arena_strndup(r->a, bayes_sb_cstr(&sb), sb.len);
      bayes_sb_destroy(&sb);
      if (!fld.s) return csv_oom(r);
      while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r')) csv_adv(r);
      if (r->p < r->end && *r->p != ',' && *r->p != '\n') {
        bayes_error(r->d, r->src, r->line, r->col, 1,
                    "unexpected character after a quoted field");
        return -1;
      }
      fld.clen = fld.line == r->line ? r->col - fld.col : 1;
    } else {
      const char *s = r->p;
      while (r->p < r->end && *r->p != ',' && *r->p != '\n') csv_adv(r);
      const char *e = r->p;
      if (e > s && e[-1] == '\r') e--;
      /* blanks around an unquoted field are not part of it */
      while (s < e && (*s == ' ' || *s == '\t')) {
        s++;
        fld.col++;
      }
      while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
      fld.s = s;
      fld.len = (size_t)(e - s);
      fld.clen = 0;
      for (const char *q = s; q < e; q++) fld.clen += ((unsigned char)*q & 0xC0) != 0x80;
    }
    if (fld.clen < 1) fld.clen = 1;
    if (bayes_grow(&r->f, &r->capf, r->nf + 1, sizeof *r->f) != 0) return csv_oom(r);
    r->f[r->nf++] = fld;
    if (r->p >= r->end) return 1;
    if (*r->p == '\n') {
      csv_adv(r);
      return 1;
    }
    csv_adv(r); /* ',' */
  }
}

/* True if the rest of the text is only blank lines (ignored at the end of a file). */
static int only_blank(const char *p, const char *end)
{
  for (; p < end; p++)
    if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t') return 0;
  return 1;
}

int bayes_data_load_csv_column(bayes_arena *a, bayes_src *src, const char *column,
                               bayes_value *out, bayes_diag *d)
{
  csv_reader r;
  double *v = NULL;
  size_t nv = 0, capv = 0;
  int is_int = 1, rc;
  size_t col = (size_t)-1, ncols;
  int hline, hcol, hlen = 1;

  memset(out, 0, sizeof *out);
  memset(&r, 0, sizeof r);
  r.a = a;
  r.src = src;
  r.d = d;
  r.p = src->text;
  r.end = src->text + src->len;
  r.line = r.col = 1;
  if (r.end - r.p >= 3 && memcmp(r.p, "\xEF\xBB\xBF", 3) == 0) r.p += 3; /* UTF-8 BOM */
  if (only_blank(r.p, r.end)) {
    bayes_error(d, src, 0, 0, 0, "the file is empty");
    goto fail;
  }

  rc = csv_record(&r);
  if (rc < 0) goto fail;
  ncols = r.nf;
  hline = r.f[0].line;
  hcol = r.f[0].col;
  for (size_t i = 0; i < r.nf; i++) {
    if (r.f[i].len == strlen(column) && memcmp(r.f[i].s, column, r.f[i].len) == 0) {
      if (col != (size_t)-1) {
        bayes_error(d, src, r.f[i].line, r.f[i].col, r.f[i].clen,
                    "column '%s' appears twice in the header", column);
        goto fail;
      }
      col = i;
    }
  }
  if (col == (size_t)-1) {
    bayes_sb names;
    bayes_sb_init(&names);
    for (size_t i = 0; i < r.nf; i++) {
      if (i) bayes_sb_puts(&names, ", ");
      bayes_sb_putn(&names, r.f[i].s, r.f[i].len);
    }
    const csv_field *last = &r.f[r.nf - 1];
    if (last->line == hline) hlen = last->col + last->clen - hcol;
    bayes_error(d, src, hline, hcol, hlen, "no column '%s' in %s; columns are: %s", column,
                src->path, bayes_sb_cstr(&names));
    bayes_sb_destroy(&names);
    goto fail;
  }
  const csv_field hdr = r.f[col];

  for (size_t row = 1;; row++) {
    if (only_blank(r.p, r.end)) break;
    int row_line = r.line;
    rc = csv_record(&r);
    if (rc < 0) goto fail;
    if (rc == 0) break;
    if (r.nf != ncols) {
      bayes_error(d, src, row_line, 1, 1, "row %zu has %zu field%s, but the header has %zu",
                  row, r.nf, r.nf == 1 ? "" : "s", ncols);
      goto fail;
    }
    const csv_field *c = &r.f[col];
    double x;
    int ii;
    if (c->len == 0 || (c->len == 2 && memcmp(c->s, "NA", 2) == 0)) {
      bayes_error(d, src, c->line, c->col, c->clen, "missing value at row %zu", row);
      goto fail;
    }
    char *tmp = bayes_arena_strndup(a, c->s, c->len);
    if (!tmp) {
      csv_oom(&r);
      goto fail;
    }
    if (!parse_number(tmp, c->len, &x, &ii)) {
      bayes_error(d, src, c->line, c->col, c->clen,
                  "expected a number in column '%s' at row %zu, found '%.*s%s'", column, row,
                  c->len > 40 ? 40 : (int)c->len, c->s, c->len > 40 ? "..." : "");
      goto fail;
    }
    if (!ii) is_int = 0;
    if (bayes_grow(&v, &capv, nv + 1, sizeof *v) != 0) {
      csv_oom(&r);
      goto fail;
    }
    v[nv++] = x;
  }

  out->v = bayes_arena_alloc(a, (nv ? nv : 1) * sizeof *out->v);
  if (!out->v) {
    csv_oom(&r);
    goto fail;
  }
  if (nv) memcpy(out->v, v, nv * sizeof *v);
  out->n = nv;
  out->shape.rank = 1;
  out->shape.dim[0] = nv;
  out->is_int = is_int != 0;
  out->src = src;
  out->line = hdr.line;
  out->col = hdr.col;
  bayes_free(v);
  bayes_free(r.f);
  return 0;

fail:
  memset(out, 0, sizeof *out);
  bayes_free(v);
  bayes_free(r.f);
  return -1;
}
