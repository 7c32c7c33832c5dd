/* model.c — reads a model file's YAML tree into declarations (model.h): checks the
 * top-level keys and the shape of every section, parses every expression, and loads data
 * values (inline, CSV, JSON). It resolves no names and evaluates nothing: that is
 * compile.c's job. */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {
    "model", "description", "data", "parameters", "transformed", "likelihood", "factors",
    "generated", "components", "tasks", "pfn", "inference", NULL};

static const char *const inference_keys[] = {
    "method", "chains", "warmup", "draws", "seed", "thin", "adapt_delta", "max_depth",
    "metric", "threads", "init", "family", "propagate", "within", "particles", "iter",
    "tol_rel_obj", "eta", "jacobian", "refresh", "tol_obj", "tol_grad", "tol_rel_grad",
    "tol_param", "history_size", "init_alpha", "adapt_iter", "grad_samples",
    "elbo_samples", "eval_elbo", "num_paths", "draws_per_path", "num_elbo_draws",
    "psis_resample", "kl_draws", "precondition", NULL};

static const char *const methods[] = {"nuts", "hmc", "advi", "pathfinder", "laplace",
                                      "optimize", "smc", "sequential", NULL};

static const char *const param_keys[] = {"prior", "shape", "lower", "upper", "constraint",
                                         NULL};
static const char *const data_keys[] = {"type", "shape", "lower", "upper", "csv", "column",
                                        "value", "allow_nan", NULL};
static const char *const constraints[] = {"lower", "upper", "ordered", "positive_ordered",
                                          "simplex", "unit_vector", "cholesky_corr",
                                          "cholesky_cov", "corr", "cov", NULL};

#define ERR(d, m, n, ...) \
  bayes_error((d), &(m)->src, (n)->line, (n)->col, node_len(n), __VA_ARGS__)

static int node_len(const bayes_ynode *n)
{
  if (n->kind == BAYES_Y_SCALAR) {
    if (n->end_line == n->line && n->end_col > n->col) return n->end_col - n->col;
    return n->slen ? (int)n->slen : 1;
  }
  return 1;
}

static bool is_ident(const char *s)
{
  if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
  for (const char *p = s + 1; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_')) return false;
  return true;
}

static void unknown_key(bayes_mdef *m, bayes_diag *d, const bayes_ynode *k, const char *what,
                        const char *const *keys)
{
  const char *s = bayes_suggest(k->str, keys);
  if (s)
    ERR(d, m, k, "unknown %s '%s'; did you mean '%s'?", what, k->str, s);
  else {
    char list[512] = "";
    for (int i = 0; keys[i]; i++) {
      strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
      strncat(list, keys[i], sizeof list - strlen(list) - 1);
    }
    ERR(d, m, k, "unknown %s '%s' (expected one of: %s)", what, k->str, list);
  }
}

static bool in_list(const char *s, const char *const *l)
{
  for (int i = 0; l[i]; i++)
    if (strcmp(s, l[i]) == 0) return true;
  return false;
}

/* Parse the expression a YAML node holds. Plain scalars and flow collections are parsed
 * from the raw source text, so that positions map exactly and `[a, b]` (which YAML reads
 * as a list) is a vector literal; quoted and block scalars from their decoded text. */
static bayes_ast *node_expr(bayes_mdef *m, const bayes_ynode *n, bayes_diag *d,
                            const char **text_out)
{
  bayes_expr_loc loc = {&m->src, n->line, n->col, 1};
  const char *text = NULL;
  if ((n->kind == BAYES_Y_SCALAR && n->style == BAYES_YS_PLAIN) ||
      (n->kind != BAYES_Y_SCALAR && n->flow)) {
    /* locate the node's start and end in the source by line/col */
    const char *s = m->src.text, *start = NULL, *end = NULL;
    int line = 1, col = 1;
    for (const char *p = s;; p++) {
      if (line == n->line && col == n->col) start = p;
      if (line == n->end_line && col == n->end_col) {
        end = p;
        break;
      }
      if (*p == '\0') break;
      if (*p == '\n') {
        line++;
        col = 1;
      } else
        col++;
    }
    if (start && end && end >= start) text = bayes_arena_strndup(&m->arena, start, (size_t)(end - start));
  }
  if (!text) {
    if (n->kind != BAYES_Y_SCALAR) {
      ERR(d, m, n, "expected an expression here, found a %s",
          n->kind == BAYES_Y_MAP ? "mapping" : "list");
      return NULL;
    }
    text = n->str;
    if (n->style == BAYES_YS_SINGLE || n->style == BAYES_YS_DOUBLE) loc.col++;
    if (n->style == BAYES_YS_BLOCK) {
      loc.line++;
      loc.col = loc.cont_col = n->col + 2;
    }
  }
  if (!text) return NULL;
  /* trim trailing whitespace (plain scalars end at the mark) */
  if (text_out) *text_out = text;
  const char *t = text;
  while (*t && isspace((unsigned char)*t)) t++;
  if (!*t) {
    ERR(d, m, n, "expected an expression, found nothing");
    return NULL;
  }
  return bayes_parse_expr(&m->arena, text, &loc, d);
}


/* Expressions are written as YAML scalars, and three things in them look like YAML
 * syntax: a value starting with '[' (a vector literal or comprehension) reads as a flow
 * list, the ': ' of a conditional `c ? a : b` reads as a mapping, and brackets inside a
 * call in a one-line {...} long form break the flow mapping. So libyaml is given a copy
 * of the text in which exactly those characters are replaced by a letter: same length,
 * same positions. Expressions are always re-read from the original text by position
 * (node_expr), so the masking never changes what an expression means; only how YAML
 * groups the file. Data sections are left alone except inside calls. */
static const char *const expr_sections[] = {"parameters", "transformed", "likelihood",
                                            "generated", "factors", NULL};

static void mask_calls(char *p, char *end)
{
  /* brackets nested in parentheses, outside quotes */
  int paren = 0;
  char q = 0;
  for (; p < end; p++) {
    if (q) {
      if (*p == q) q = 0;
    } else if (*p == '"' || *p == '\'') {
      q = *p;
    } else if (*p == '(') {
      paren++;
    } else if (*p == ')') {
      if (paren) paren--;
    } else if (paren && (*p == '[' || *p == ']' || *p == '{' || *p == '}')) {
      *p = 'Q';
    }
  }
}

static char *mask_yaml(const char *text, size_t len)
{
  char *t = bayes_malloc(len + 1);
  if (!t) return NULL;
  memcpy(t, text, len + 1);
  bool expr = false, data = false;
  for (char *line = t; line < t + len;) {
    char *eol = memchr(line, '\n', (size_t)(t + len - line));
    if (!eol) eol = t + len;
    if (line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '\n' &&
        line[0] != '\r' && line < eol) {
      /* a top-level key: which section are we in? */
      size_t kl = strcspn(line, ":\n");
      char key[32] = "";
      if (kl < sizeof key) memcpy(key, line, kl), key[kl] = '\0';
      expr = in_list(key, expr_sections);
      data = strcmp(key, "data") == 0;
    } else if (expr || data) {
      char *p = line;
      while (p < eol && (*p == ' ' || *p == '\t')) p++;
      char *v = NULL;
      if (p < eol && *p == '-' && p + 1 < eol && p[1] == ' ') {
        v = p + 1;
      } else {
        char *k = p;
        while (k < eol && (isalnum((unsigned char)*k) || *k == '_')) k++;
        if (k > p && k + 1 < eol && k[0] == ':' && (k[1] == ' ' || k[1] == '\t')) v = k + 1;
      }
      if (v) {
        while (v < eol && (*v == ' ' || *v == '\t')) v++;
        if (v < eol && *v == '{') {
          mask_calls(v, eol);
        } else if (expr && v < eol && !strchr("\"'|>&*!#", *v)) {
          if (*v == '[') *v = 'Q';
          /* ': ' inside the expression (a conditional) */
          for (char *c = v; c + 1 < eol; c++)
            if (*c == ':' && (c[1] == ' ' || c[1] == '\t')) *c = 'Q';
            else if (*c == ' ' && c[1] == '#') break; /* a comment follows */
        }
      }
    }
    line = eol + 1;
  }
  return t;
}

/* In a YAML flow mapping a comma ends a plain scalar, so {prior: normal(0, 5), lower: 0}
 * would reach us as "normal(0" and a stray key "5)". Model sections are written that way
 * (the spec's long form), so flow mappings there are split again from the raw source,
 * respecting (), [] and quotes, with every position kept. Values that are lists or
 * mappings in their own right keep libyaml's node. */
static bayes_ynode *flow_fix(bayes_mdef *m, const bayes_ynode *map, bayes_diag *d)
{
  if (map->kind != BAYES_Y_MAP || !map->flow) return (bayes_ynode *)map;
  const char *s = m->src.text, *p = s;
  int line = 1, col = 1;
  while (*p && !(line == map->line && col == map->col)) {
    if (*p == '\n') line++, col = 1;
    else col++;
    p++;
  }
  if (*p != '{') return (bayes_ynode *)map;
  bayes_ynode *out = bayes_arena_alloc(&m->arena, sizeof *out);
  size_t cap = 16;
  if (!out) return NULL;
  *out = *map;
  out->n = 0;
  out->keys = bayes_arena_alloc(&m->arena, cap * sizeof *out->keys);
  out->vals = bayes_arena_alloc(&m->arena, cap * sizeof *out->vals);
  if (!out->keys || !out->vals) return NULL;
  p++, col++;
  for (;;) {
    /* one item: key ':' value, up to a top-level ',' or the closing '}' */
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
      if (*p == '\n') line++, col = 1;
      else col++;
      p++;
    }
    if (*p == '}' || !*p) break;
    const char *ks = p;
    int kl = line, kc = col;
    while (*p && *p != ':' && *p != ',' && *p != '}' && *p != '\n') p++, col++;
    const char *ke = p;
    while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    if (*p != ':') {
      bayes_error(d, &m->src, kl, kc, (int)(ke - ks) > 0 ? (int)(ke - ks) : 1,
                  "expected 'key: value' in this mapping");
      return NULL;
    }
    p++, col++;
    while (*p == ' ' || *p == '\t') p++, col++;
    const char *vs = p;
    int vl = line, vc = col, depth = 0, el = line, ec = col;
    char q = 0;
    const char *ve = p;
    while (*p) {
      char ch = *p;
      if (q) {
        if (ch == q) q = 0;
      } else if (ch == '\'' || ch == '"') {
        q = ch;
      } else if (ch == '(' || ch == '[' || ch == '{') {
        depth++;
      } else if (ch == ')' || ch == ']' || ch == '}') {
        if (depth == 0) break;
        depth--;
      } else if (ch == ',' && depth == 0) {
        break;
      }
      if (ch == '\n') line++, col = 1;
      else col++;
      p++;
      if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
        ve = p;
        el = line;
        ec = col;
      }
    }
    if (out->n == cap) {
      size_t nc = cap * 2;
      bayes_ynode **nk = bayes_arena_alloc(&m->arena, nc * sizeof *nk);
      bayes_ynode **nv = bayes_arena_alloc(&m->arena, nc * sizeof *nv);
      if (!nk || !nv) return NULL;
      memcpy(nk, out->keys, cap * sizeof *nk);
      memcpy(nv, out->vals, cap * sizeof *nv);
      out->keys = nk, out->vals = nv, cap = nc;
    }
    bayes_ynode *k = bayes_arena_alloc(&m->arena, sizeof *k);
    if (!k) return NULL;
    k->kind = BAYES_Y_SCALAR;
    k->line = kl, k->col = kc, k->end_line = kl, k->end_col = kc + (int)(ke - ks);
    k->str = bayes_arena_strndup(&m->arena, ks, (size_t)(ke - ks));
    k->slen = (size_t)(ke - ks);
    bayes_ynode *v = NULL;
    if (*vs == '[' || *vs == '{') {
      /* a list or mapping value: libyaml read it correctly */
      const bayes_ynode *orig = bayes_ymap_get(map, k->str);
      if (orig && orig->line == vl && orig->col == vc) v = (bayes_ynode *)orig;
    }
    if (!v) {
      v = bayes_arena_alloc(&m->arena, sizeof *v);
      if (!v || !k->str) return NULL;
      v->kind = BAYES_Y_SCALAR;
      v->style = BAYES_YS_PLAIN;
      v->line = vl, v->col = vc, v->end_line = el, v->end_col = ec;
      size_t len = (size_t)(ve - vs);
      if (len >= 2 && (*vs == '"' || *vs == '\'') && ve[-1] == *vs) {
        v->style = *vs == '"' ? BAYES_YS_DOUBLE : BAYES_YS_SINGLE;
        v->str = bayes_arena_strndup(&m->arena, vs + 1, len - 2);
        v->slen = len - 2;
      } else {
        v->str = bayes_arena_strndup(&m->arena, vs, len);
        v->slen = len;
      }
      if (!v->str) return NULL;
    }
    out->keys[out->n] = k;
    out->vals[out->n] = v;
    out->n++;
    if (*p == ',') p++, col++;
    else break;
  }
  return out;
}

/* A shape: a YAML list [N, K], or (from a re-split flow mapping) the text "[N, K]". */
static int read_dims(bayes_mdef *m, const bayes_ynode *v, bayes_diag *d, bayes_ast **dims,
                     int *ndims)
{
  if (v->kind == BAYES_Y_SEQ) {
    if (v->n > BAYES_MAX_RANK) {
      ERR(d, m, v, "at most %d dimensions are supported", BAYES_MAX_RANK);
      return -1;
    }
    *ndims = (int)v->n;
    for (size_t j = 0; j < v->n; j++) dims[j] = node_expr(m, v->items[j], d, NULL);
    return 0;
  }
  bayes_ast *e = v->kind == BAYES_Y_SCALAR ? node_expr(m, v, d, NULL) : NULL;
  if (!e) return -1;
  if (e->kind != BAYES_AST_VEC) {
    ERR(d, m, v, "shape must be a list of dimensions, e.g. [N, K]");
    return -1;
  }
  if (e->nkids > BAYES_MAX_RANK) {
    ERR(d, m, v, "at most %d dimensions are supported", BAYES_MAX_RANK);
    return -1;
  }
  *ndims = e->nkids;
  for (int j = 0; j < e->nkids; j++) dims[j] = e->kids[j];
  return 0;
}

static bayes_decl *new_decl(bayes_mdef *m, bayes_diag *d, const bayes_ynode *key,
                            bayes_decl_kind kind, int index)
{
  static const char *const kind_names[] = {"data", "a parameter", "a transformed quantity",
                                           "a generated quantity"};
  if (!is_ident(key->str)) {
    ERR(d, m, key, "'%s' is not a valid name (ASCII letters, digits and _, not starting with a digit)",
        key->str);
    return NULL;
  }
  if (strncmp(key->str, "__", 2) == 0 || strcmp(key->str, "for") == 0 ||
      strcmp(key->str, "in") == 0) {
    ERR(d, m, key, "'%s' is a reserved name", key->str);
    return NULL;
  }
  bayes_decl *old = bayes_mdef_find(m, key->str);
  if (old) {
    ERR(d, m, key, "duplicate name '%s' (already declared as %s at line %d)", key->str,
        kind_names[old->kind], old->line);
    return NULL;
  }
  bayes_decl *x = bayes_arena_alloc(&m->arena, sizeof *x);
  if (!x || bayes_grow(&m->decls, &m->decls_cap, m->ndecls + 1, sizeof *m->decls)) {
    d->oom = 1;
    return NULL;
  }
  x->name = key->str;
  x->kind = kind;
  x->line = key->line;
  x->col = key->col;
  x->len = node_len(key);
  x->index = index;
  x->ndims = -1;
  x->slot = -1;
  x->param_index = -1;
  m->decls[m->ndecls++] = x;
  return x;
}

bayes_decl *bayes_mdef_find(const bayes_mdef *m, const char *name)
{
  for (size_t i = 0; i < m->ndecls; i++)
    if (strcmp(m->decls[i]->name, name) == 0) return m->decls[i];
  return NULL;
}

/* "int", "real", "real[N]", "int[N, K]", "real[]", "vector[N]", "matrix[N, K]" */
static int parse_type_decl(bayes_mdef *m, bayes_decl *x, const bayes_ynode *n, bayes_diag *d,
                           bool quiet)
{
  const char *s = n->str;
  size_t blen = strcspn(s, "[");
  char base[16];
  if (blen == 0 || blen >= sizeof base) goto bad;
  memcpy(base, s, blen);
  base[blen] = '\0';
  while (blen && base[blen - 1] == ' ') base[--blen] = '\0';
  if (strcmp(base, "int") == 0)
    x->decl_int = true;
  else if (strcmp(base, "real") == 0 || strcmp(base, "vector") == 0 ||
           strcmp(base, "matrix") == 0)
    x->decl_int = false;
  else
    goto bad;
  x->declared = true;
  x->ndims = 0;
  const char *br = s + strcspn(s, "[");
  if (*br) {
    /* parse "[...]" as a vector literal: its elements are the dimensions */
    bayes_expr_loc loc = {&m->src, n->line, n->col + (int)(br - s), 1};
    if (n->style == BAYES_YS_SINGLE || n->style == BAYES_YS_DOUBLE) loc.col++;
    bayes_ast *v = bayes_parse_expr(&m->arena, br, &loc, d);
    if (!v) return -1;
    if (v->kind != BAYES_AST_VEC) {
      bayes_error(d, &m->src, loc.line, loc.col, 1, "expected dimensions like [N] or [N, K]");
      return -1;
    }
    if (v->nkids == 0) {
      x->ndims = 1;
      x->dims[0] = NULL;
    } else {
      if (v->nkids > BAYES_MAX_RANK) {
        bayes_error(d, &m->src, loc.line, loc.col, 1, "at most %d dimensions are supported",
                    BAYES_MAX_RANK);
        return -1;
      }
      x->ndims = v->nkids;
      for (int i = 0; i < v->nkids; i++) x->dims[i] = v->kids[i];
    }
  }
  if ((strcmp(base, "vector") == 0 && x->ndims != 1) ||
      (strcmp(base, "matrix") == 0 && x->ndims != 2)) {
    ERR(d, m, n, "%s needs %s", base, strcmp(base, "vector") == 0 ? "one dimension, e.g. vector[N]"
                                                                   : "two dimensions, e.g. matrix[N, K]");
    return -1;
  }
  return 0;
bad:
  if (!quiet)
    ERR(d, m, n, "expected a number, a list of numbers, or a type such as real[N] or int, found '%s'",
        s);
  return -1;
}

static bayes_src *extra_src(bayes_mdef *m, const char *path, const bayes_ynode *at,
                            bayes_diag *d)
{
  if (m->nextra >= (int)(sizeof m->extra_srcs / sizeof *m->extra_srcs)) {
    ERR(d, m, at, "too many data files (at most 64)");
    return NULL;
  }
  bayes_src *s = bayes_calloc(1, sizeof *s);
  if (!s) {
    d->oom = 1;
    return NULL;
  }
  /* relative paths are relative to the model file's folder */
  char full[4096];
  const char *slash = strrchr(m->src.path, '/');
  if (path[0] != '/' && slash)
    snprintf(full, sizeof full, "%.*s/%s", (int)(slash - m->src.path), m->src.path, path);
  else
    snprintf(full, sizeof full, "%s", path);
  int rc = bayes_src_read(s, full);
  if (rc != 0) {
    ERR(d, m, at, "cannot read '%s': %s", full, rc == -2 ? "out of memory" : strerror(errno));
    if (rc == -2)
      d->oom = 1;
    else
      m->missing_input = true;
    m->stop = true;
    bayes_free(s);
    return NULL;
  }
  m->extra_srcs[m->nextra++] = s;
  return s;
}

static void read_data_entry_body(bayes_mdef *m, bayes_decl *x, const bayes_ynode *k,
                                 const bayes_ynode *v, bayes_diag *d);

static void read_data_entry(bayes_mdef *m, const bayes_ynode *k, const bayes_ynode *v,
                            int index, bayes_diag *d)
{
  bayes_decl *x = new_decl(m, d, k, BAYES_DECL_DATA, index);
  if (!x) return;
  int nerr = d->nerr;
  read_data_entry_body(m, x, k, v, d);
  if (d->nerr != nerr) x->state = 3; /* reported: uses of it stay quiet */
}

static void read_data_entry_body(bayes_mdef *m, bayes_decl *x, const bayes_ynode *k,
                                 const bayes_ynode *v, bayes_diag *d)
{
  if (v->kind == BAYES_Y_SEQ) {
    if (bayes_value_from_yaml(&m->arena, v, &m->src, &x->value, d) == 0) x->has_value = true;
    return;
  }
  if (v->kind == BAYES_Y_SCALAR) {
    char *end;
    errno = 0;
    if (v->style == BAYES_YS_PLAIN && v->slen && (strtod(v->str, &end), *end == '\0')) {
      if (bayes_value_from_yaml(&m->arena, v, &m->src, &x->value, d) == 0) x->has_value = true;
      return;
    }
    parse_type_decl(m, x, v, d, false);
    return;
  }
  /* long form */
  v = flow_fix(m, v, d);
  if (!v) return;
  if (v->n == 0) {
    ERR(d, m, v, "'%s' is an empty mapping: give a value such as [1, 2] or a type such as "
        "real[N]", x->name);
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    const bayes_ynode *kk = v->keys[i], *vv = v->vals[i];
    if (!in_list(kk->str, data_keys)) {
      unknown_key(m, d, kk, "data setting", data_keys);
      continue;
    }
    if (strcmp(kk->str, "type") == 0) {
      if (vv->kind != BAYES_Y_SCALAR) {
        ERR(d, m, vv, "type must be int or real");
        continue;
      }
      int nd = x->ndims;
      bayes_ast *dims[BAYES_MAX_RANK];
      memcpy(dims, x->dims, sizeof dims);
      if (parse_type_decl(m, x, vv, d, false) == 0 && nd >= 0) {
        x->ndims = nd; /* an explicit shape: wins over the type's */
        memcpy(x->dims, dims, sizeof dims);
      }
    } else if (strcmp(kk->str, "shape") == 0) {
      if (read_dims(m, vv, d, x->dims, &x->ndims) == 0) x->declared = true;
    } else if (strcmp(kk->str, "lower") == 0) {
      x->lower = node_expr(m, vv, d, NULL);
    } else if (strcmp(kk->str, "upper") == 0) {
      x->upper = node_expr(m, vv, d, NULL);
    } else if (strcmp(kk->str, "allow_nan") == 0) {
      if (vv->kind != BAYES_Y_SCALAR ||
          (strcmp(vv->str, "true") != 0 && strcmp(vv->str, "false") != 0))
        ERR(d, m, vv, "allow_nan must be true or false");
      else
        x->allow_nan = strcmp(vv->str, "true") == 0;
    } else if (strcmp(kk->str, "value") == 0) {
      if (bayes_value_from_yaml(&m->arena, vv, &m->src, &x->value, d) == 0) x->has_value = true;
    } else if (strcmp(kk->str, "csv") == 0) {
      if (vv->kind != BAYES_Y_SCALAR)
        ERR(d, m, vv, "csv must be a file name");
      else {
        x->csv_path = vv->str;
        x->csv_node = vv;
      }
    } else if (strcmp(kk->str, "column") == 0) {
      if (vv->kind != BAYES_Y_SCALAR)
        ERR(d, m, vv, "column must be a column name");
      else
        x->csv_column = vv->str;
    }
  }
  if (x->csv_path) {
    if (!x->csv_column) {
      ERR(d, m, k, "'%s' reads a CSV file but names no column (add column: NAME)", x->name);
      return;
    }
    if (x->has_value) {
      ERR(d, m, k, "'%s' has both a value and a csv file", x->name);
      return;
    }
    bayes_src *s = extra_src(m, x->csv_path, x->csv_node, d);
    if (s && bayes_data_load_csv_column(&m->arena, s, x->csv_column, &x->value, d) == 0)
      x->has_value = true;
  } else if (x->csv_column) {
    ERR(d, m, k, "'%s' names a column but no csv file", x->name);
  }
}

static void read_data(bayes_mdef *m, const bayes_ynode *v, bayes_diag *d)
{
  if (v->kind != BAYES_Y_MAP) {
    ERR(d, m, v, "'data' must be a mapping of names to values or declarations");
    m->stop = true;
    return;
  }
  int idx = 0;
  for (size_t i = 0; i < v->n; i++) {
    const bayes_ynode *k = v->keys[i], *vv = v->vals[i];
    if (strcmp(k->str, "file") == 0 && vv->kind == BAYES_Y_SCALAR) {
      bayes_src *s = extra_src(m, vv->str, vv, d);
      if (s && bayes_data_load_json(&m->arena, s, &m->inline_file, d) == 0)
        m->have_inline_file = true;
      else
        m->stop = true; /* otherwise every name it holds would be reported missing */
      continue;
    }
    read_data_entry(m, k, vv, idx++, d);
  }
}

static void read_param(bayes_mdef *m, bayes_decl *x, const bayes_ynode *k,
                       const bayes_ynode *vv, bayes_diag *d);

static void read_params(bayes_mdef *m, const bayes_ynode *v, bayes_diag *d)
{
  if (v->kind != BAYES_Y_MAP) {
    ERR(d, m, v, "'parameters' must be a mapping of names to priors");
    m->stop = true;
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    const bayes_ynode *k = v->keys[i], *vv = v->vals[i];
    bayes_decl *x = new_decl(m, d, k, BAYES_DECL_PARAM, (int)i);
    if (!x) continue;
    int nerr = d->nerr;
    read_param(m, x, k, vv, d);
    if (d->nerr != nerr) x->state = 3;
  }
}

static void read_param(bayes_mdef *m, bayes_decl *x, const bayes_ynode *k,
                       const bayes_ynode *vv, bayes_diag *d)
{
  if (vv->kind == BAYES_Y_SCALAR && vv->style == BAYES_YS_PLAIN && vv->slen == 0) {
    ERR(d, m, k, "parameter '%s' has no prior: write one after the colon, e.g. %s: normal(0, 1)",
        x->name, x->name);
    return;
  }
  if (vv->kind != BAYES_Y_MAP) {
    x->expr = node_expr(m, vv, d, &x->expr_text);
    return;
  }
  vv = flow_fix(m, vv, d);
  if (!vv) return;
  for (size_t j = 0; j < vv->n; j++) {
    const bayes_ynode *kk = vv->keys[j], *pv = vv->vals[j];
    if (!in_list(kk->str, param_keys)) {
      unknown_key(m, d, kk, "parameter setting", param_keys);
      continue;
    }
    if (strcmp(kk->str, "prior") == 0)
      x->expr = node_expr(m, pv, d, &x->expr_text);
    else if (strcmp(kk->str, "lower") == 0)
      x->lower = node_expr(m, pv, d, NULL);
    else if (strcmp(kk->str, "upper") == 0)
      x->upper = node_expr(m, pv, d, NULL);
    else if (strcmp(kk->str, "shape") == 0) {
      read_dims(m, pv, d, x->dims, &x->ndims);
    } else if (strcmp(kk->str, "constraint") == 0) {
      if (pv->kind != BAYES_Y_SCALAR || !in_list(pv->str, constraints)) {
        if (pv->kind == BAYES_Y_SCALAR)
          unknown_key(m, d, pv, "constraint", constraints);
        else
          ERR(d, m, pv, "constraint must be a name such as ordered or simplex");
        continue;
      }
      x->constraint = pv->str;
      x->cline = pv->line;
      x->ccol = pv->col;
    }
  }
  if (!x->expr)
    ERR(d, m, k, "parameter '%s' has no prior (add prior: ..., e.g. prior: flat)", x->name);
}

static void read_exprs(bayes_mdef *m, const bayes_ynode *v, bayes_decl_kind kind,
                       const char *section, bayes_diag *d)
{
  if (v->kind != BAYES_Y_MAP) {
    ERR(d, m, v, "'%s' must be a mapping of names to expressions", section);
    m->stop = true;
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    bayes_decl *x = new_decl(m, d, v->keys[i], kind, (int)i);
    if (!x) continue;
    const bayes_ynode *vv = v->vals[i];
    if (vv->kind == BAYES_Y_SCALAR && vv->style == BAYES_YS_PLAIN && vv->slen == 0) {
      ERR(d, m, v->keys[i], "'%s' has no expression: write one after the colon", x->name);
      x->state = 3;
      continue;
    }
    x->expr = node_expr(m, vv, d, &x->expr_text);
    if (!x->expr) x->state = 3;
  }
}

static void read_likelihood(bayes_mdef *m, const bayes_ynode *v, bayes_diag *d)
{
  if (v->kind != BAYES_Y_MAP) {
    ERR(d, m, v, "'likelihood' must be a mapping of observed names to distributions");
    m->stop = true;
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    const bayes_ynode *k = v->keys[i];
    for (size_t j = 0; j < m->nlik; j++)
      if (strcmp(m->lik[j].lhs, k->str) == 0) {
        ERR(d, m, k, "'%s' already has a likelihood (line %d)", k->str, m->lik[j].line);
        goto next;
      }
    if (bayes_grow(&m->lik, &m->lik_cap, m->nlik + 1, sizeof *m->lik)) {
      d->oom = 1;
      return;
    }
    bayes_lik *l = &m->lik[m->nlik];
    memset(l, 0, sizeof *l);
    l->lhs = k->str;
    l->line = k->line;
    l->col = k->col;
    l->len = node_len(k);
    l->dist = node_expr(m, v->vals[i], d, &l->text);
    m->nlik++;
  next:;
  }
}

static void read_factors(bayes_mdef *m, const bayes_ynode *v, bayes_diag *d)
{
  if (v->kind != BAYES_Y_SEQ) {
    ERR(d, m, v, "'factors' must be a list of expressions, each starting with '- '");
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    if (bayes_grow(&m->factors, &m->factors_cap, m->nfactors + 1, sizeof *m->factors)) {
      d->oom = 1;
      return;
    }
    bayes_factor *f = &m->factors[m->nfactors++];
    f->line = v->items[i]->line;
    f->col = v->items[i]->col;
    f->expr = node_expr(m, v->items[i], d, &f->text);
  }
}

static int read_int_setting(bayes_mdef *m, const char *what, const bayes_ynode *v, long lo,
                            long *out, bayes_diag *d)
{
  char *end;
  errno = 0;
  long x = v->kind == BAYES_Y_SCALAR ? strtol(v->str, &end, 10) : 0;
  if (v->kind != BAYES_Y_SCALAR || *v->str == '\0' || *end != '\0' || errno) {
    if (v->kind == BAYES_Y_SCALAR)
      ERR(d, m, v, "%s must be a whole number, found '%s'", what, v->str);
    else
      ERR(d, m, v, "%s must be a whole number", what);
    return -1;
  }
  if (x < lo) {
    ERR(d, m, v, "%s must be at least %ld, found %ld", what, lo, x);
    return -1;
  }
  *out = x;
  return 0;
}

static void read_inference(bayes_mdef *m, const bayes_ynode *v, bayes_diag *d)
{
  bayes_inference_info *in = &m->inference.info;
  m->inference.node = v;
  if (v->kind != BAYES_Y_MAP) {
    ERR(d, m, v, "'inference' must be a mapping of settings");
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    const bayes_ynode *k = v->keys[i], *vv = v->vals[i];
    if (!in_list(k->str, inference_keys)) {
      unknown_key(m, d, k, "inference setting", inference_keys);
      continue;
    }
    if (vv->kind == BAYES_Y_SCALAR && in->nsettings < 64) {
      bayes_setting *st = &m->inference.settings[in->nsettings++];
      st->key = k->str;
      st->value = vv->str;
      st->line = vv->line;
      st->col = vv->col;
      st->len = node_len(vv);
      in->settings = m->inference.settings;
    }
    if (strcmp(k->str, "method") == 0) {
      if (vv->kind != BAYES_Y_SCALAR || !in_list(vv->str, methods)) {
        if (vv->kind == BAYES_Y_SCALAR)
          unknown_key(m, d, vv, "method", methods);
        else
          ERR(d, m, vv, "method must be a name such as nuts");
      } else
        in->method = vv->str;
    } else if (strcmp(k->str, "chains") == 0) {
      in->has_chains = read_int_setting(m, "chains", vv, 1, &in->chains, d) == 0;
    } else if (strcmp(k->str, "warmup") == 0) {
      in->has_warmup = read_int_setting(m, "warmup", vv, 0, &in->warmup, d) == 0;
    } else if (strcmp(k->str, "draws") == 0) {
      in->has_draws = read_int_setting(m, "draws", vv, 0, &in->draws, d) == 0;
    } else if (strcmp(k->str, "seed") == 0) {
      in->has_seed = read_int_setting(m, "seed", vv, 0, &in->seed, d) == 0;
    } else if (strcmp(k->str, "thin") == 0) {
      in->has_thin = read_int_setting(m, "thin", vv, 1, &in->thin, d) == 0;
    } else if (vv->kind != BAYES_Y_SCALAR) {
      ERR(d, m, vv, "'%s' must be a single value", k->str);
    }
    /* the remaining settings belong to backends, which validate their values */
  }
}

/* A NUL escape ("a\0b") would silently cut a name or an expression short wherever the
 * text is used as a C string, so it is refused once, here, for the whole file. Returns
 * the number reported. */
static int check_nul(bayes_mdef *m, const bayes_ynode *n, bayes_diag *d)
{
  int bad = 0;
  if (n->kind == BAYES_Y_SCALAR) {
    if (strlen(n->str) != n->slen) {
      ERR(d, m, n, "this text contains a NUL character (\\0), which is not allowed");
      bad = 1;
    }
    return bad;
  }
  for (size_t i = 0; i < n->n; i++) {
    if (n->kind == BAYES_Y_MAP) {
      bad += check_nul(m, n->keys[i], d);
      bad += check_nul(m, n->vals[i], d);
    } else {
      bad += check_nul(m, n->items[i], d);
    }
    if (d->limit_hit) break;
  }
  return bad;
}

int bayes_mdef_read(bayes_mdef *m, const char *path, const bayes_load_opts *opts,
                    bayes_diag *d)
{
  memset(m, 0, sizeof *m);
  bayes_arena_init(&m->arena);
  m->inference.info.method = "nuts";
  int rc = bayes_src_read(&m->src, path);
  if (rc == -2) {
    d->oom = 1;
    return BAYES_EINTERNAL;
  }
  if (rc != 0) {
    bayes_error(d, NULL, 0, 0, 0, "cannot read model file '%s': %s", path, strerror(errno));
    return BAYES_ENOINPUT;
  }
  if (opts && opts->data_file) {
    rc = bayes_src_read(&m->data_src, opts->data_file);
    if (rc != 0) {
      bayes_error(d, NULL, 0, 0, 0, "cannot read data file '%s': %s", opts->data_file,
                  rc == -2 ? "out of memory" : strerror(errno));
      return rc == -2 ? BAYES_EINTERNAL : BAYES_ENOINPUT;
    }
    if (bayes_data_load_json(&m->arena, &m->data_src, &m->data_file, d) == 0)
      m->have_data_file = true;
    else
      m->stop = true; /* otherwise every name it holds would be reported missing */
  }
  /* an early return means nothing worth compiling was read */
  m->stop = true;
  bayes_src masked = m->src;
  masked.text = mask_yaml(m->src.text, m->src.len);
  if (!masked.text) {
    d->oom = 1;
    return BAYES_EINTERNAL;
  }
  size_t first_msg = d->n;
  bayes_ynode *root = bayes_yaml_load(&m->arena, &masked, d);
  /* messages point at the user's text, not the masked copy */
  for (size_t i = first_msg; i < d->n; i++)
    if (d->m[i].src == &masked) d->m[i].src = &m->src;
  bayes_free(masked.text);
  if (!root) return BAYES_EDATA;
  if (root->kind != BAYES_Y_MAP) {
    bayes_error(d, &m->src, root->line, root->col, 1,
                "a model file must be a mapping with keys such as model, parameters, likelihood");
    return BAYES_EDATA;
  }
  if (check_nul(m, root, d)) return BAYES_EDATA;
  m->stop = opts && opts->data_file && !m->have_data_file;
  /* data first, so that every later section can see every data name */
  const bayes_ynode *sec;
  if ((sec = bayes_ymap_get(root, "data"))) read_data(m, sec, d);
  for (size_t i = 0; i < root->n; i++) {
    const bayes_ynode *k = root->keys[i], *v = root->vals[i];
    const char *key = k->str;
    if (!in_list(key, top_keys)) {
      unknown_key(m, d, k, "top-level key", top_keys);
      m->stop = true; /* a misspelt section: its names would all be "unknown" */
    } else if (strcmp(key, "model") == 0) {
      if (v->kind != BAYES_Y_SCALAR || !is_ident(v->str))
        ERR(d, m, v, "the model name must be one word of ASCII letters, digits and _ (it names "
            "the output files)");
      else {
        m->name = v->str;
        m->name_line = v->line;
        m->name_col = v->col;
      }
    } else if (strcmp(key, "description") == 0) {
      if (v->kind != BAYES_Y_SCALAR)
        ERR(d, m, v, "description must be text");
      else
        m->description = v->str;
    } else if (strcmp(key, "parameters") == 0) {
      read_params(m, v, d);
    } else if (strcmp(key, "transformed") == 0) {
      read_exprs(m, v, BAYES_DECL_TRANSFORMED, "transformed", d);
    } else if (strcmp(key, "likelihood") == 0) {
      read_likelihood(m, v, d);
    } else if (strcmp(key, "factors") == 0) {
      read_factors(m, v, d);
    } else if (strcmp(key, "generated") == 0) {
      read_exprs(m, v, BAYES_DECL_GENERATED, "generated", d);
    } else if (strcmp(key, "inference") == 0) {
      read_inference(m, v, d);
    } else if (strcmp(key, "components") == 0 || strcmp(key, "tasks") == 0 ||
               strcmp(key, "pfn") == 0) {
      ERR(d, m, k, "'%s' is part of the model language but this version of bayesrun does not "
          "implement it yet", key);
      m->stop = true;
    }
  }
  if (!m->name && !bayes_ymap_get(root, "model"))
    bayes_error(d, &m->src, root->line, root->col, 1,
                "the model has no name: add a top-level key 'model: NAME'");
  if (m->missing_input) return BAYES_ENOINPUT;
  return d->nerr ? BAYES_EDATA : BAYES_OK;
}

void bayes_mdef_destroy(bayes_mdef *m)
{
  if (!m) return;
  bayes_free(m->decls);
  bayes_free(m->lik);
  bayes_free(m->factors);
  bayes_dataset_destroy(&m->data_file);
  bayes_dataset_destroy(&m->inline_file);
  bayes_src_destroy(&m->src);
  bayes_src_destroy(&m->data_src);
  for (int i = 0; i < m->nextra; i++) {
    bayes_src_destroy(m->extra_srcs[i]);
    bayes_free(m->extra_srcs[i]);
  }
  bayes_arena_destroy(&m->arena);
}
