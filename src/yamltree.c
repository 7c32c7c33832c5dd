/* yamltree.c — builds a positioned node tree from libyaml's event stream (not its
 * document API, which drops nothing we need but cannot bound alias expansion or depth).
 * Knows nothing about models; must not print, and must survive any input. */
#include "yamltree.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct {
  char *name;          /* heap copy: the event that carried it is freed early */
  bayes_ynode *node;
  size_t size;         /* nodes in the subtree, aliases expanded */
  int done;            /* 0 while the anchored collection is still being read */
} anchor;

typedef struct {
  yaml_parser_t p;
  bayes_arena *a;
  const bayes_src *src;
  bayes_diag *d;
  anchor *anch;
  size_t nanch, capanch;
  size_t nodes;        /* expanded node count, against BAYES_YAML_MAX_NODES */
  int fatal;           /* the event stream cannot be continued */
  int errs;            /* located errors that let reading go on (duplicate keys) */
} loader;

static int col1(size_t c) { return c >= INT_MAX ? INT_MAX : (int)c + 1; }

static void oom(loader *L)
{
  if (!L->fatal) bayes_error(L->d, NULL, 0, 0, 0, "out of memory while reading %s",
                             L->src->path);
  L->d->oom = 1;
  L->fatal = 1;
}

/* Position of byte offset `off` (reader errors only carry an offset). Columns count
 * characters, as libyaml's marks do. */
static void offset_pos(const bayes_src *src, size_t off, int *line, int *col)
{
  int l = 1, c = 1;
  if (off > src->len) off = src->len;
  for (size_t i = 0; i < off; i++) {
    unsigned char ch = (unsigned char)src->text[i];
    if (ch == '\n') {
      l++;
      c = 1;
    } else if ((ch & 0xC0) != 0x80) {
      c++;
    }
  }
  *line = l;
  *col = c;
}

/* True if line `line` holds a ' ? ' or two ': ', the usual reason for "mapping values
 * are not allowed": an expression such as `c ? a : b` needed quotes. */
static int line_has_expr_colon(const bayes_src *src, size_t line)
{
  const char *p = src->text, *end = src->text + src->len;
  for (size_t l = 0; l < line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return 0;
    p = nl + 1;
  }
  const char *q = memchr(p, '\n', (size_t)(end - p));
  if (!q) q = end;
  int colons = 0;
  for (const char *s = p; s + 1 < q; s++) {
    if (s[0] == ':' && (s[1] == ' ' || s[1] == '\t')) colons++;
    if (s + 2 < q && s[0] == ' ' && s[1] == '?' && s[2] == ' ') return 1;
  }
  return colons >= 2;
}

/* Start of line `line` (0-based) of src and its length, or NULL. */
static const char *line_at(const bayes_src *src, size_t line, size_t *len)
{
  const char *p = src->text, *end = src->text + src->len;
  for (size_t l = 0; l < line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    p = nl + 1;
  }
  const char *q = memchr(p, '\n', (size_t)(end - p));
  *len = (size_t)((q ? q : end) - p);
  return p;
}

static size_t indent_of(const char *p, size_t len)
{
  size_t i = 0;
  while (i < len && p[i] == ' ') i++;
  return i;
}

/* True if line `line` is indented differently from the nearest non-blank, non-comment
 * line above it: the usual reason for "mapping values are not allowed" in block style. */
static int badly_indented(const bayes_src *src, size_t line, size_t *ind)
{
  size_t len, plen;
  const char *p = line_at(src, line, &len);
  if (!p || line == 0) return 0;
  *ind = indent_of(p, len);
  for (size_t l = line; l-- > 0;) {
    const char *q = line_at(src, l, &plen);
    size_t i = q ? indent_of(q, plen) : 0;
    if (!q || i == plen || q[i] == '#' || q[i] == '\r') continue;
    /* a key whose value is a nested block ends in ':'; then deeper is right */
    size_t e = plen;
    while (e > i && (q[e - 1] == ' ' || q[e - 1] == '\r')) e--;
    if (e > i && q[e - 1] == ':') return 0;
    return i != *ind;
  }
  return 0;
}

/* The nearest non-blank, non-comment line above `line` (0-based), or -1. */
static long prev_line(const bayes_src *src, size_t line)
{
  size_t plen;
  for (size_t l = line; l-- > 0;) {
    const char *q = line_at(src, l, &plen);
    size_t i = q ? indent_of(q, plen) : 0;
    if (!q || i == plen || q[i] == '#' || q[i] == '\r') continue;
    return (long)l;
  }
  return -1;
}

/* True if the line holds no ':' that ends a key (followed by a blank or the end). */
static int lacks_key_colon(const bayes_src *src, size_t line)
{
  size_t len;
  const char *p = line_at(src, line, &len);
  if (!p) return 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '#' && (i == 0 || p[i - 1] == ' ')) break;
    if (p[i] == ':' && (i + 1 == len || p[i + 1] == ' ' || p[i + 1] == '\r')) return 0;
  }
  return 1;
}

static void parser_error(loader *L)
{
  yaml_parser_t *p = &L->p;
  const char *problem = p->problem ? p->problem : "invalid YAML";
  int line, col;

  L->fatal = 1;
  if (p->error == YAML_MEMORY_ERROR) {
    oom(L);
    return;
  }
  if (p->error == YAML_READER_ERROR) {
    offset_pos(L->src, p->problem_offset, &line, &col);
    if (p->problem_value != -1)
      bayes_error(L->d, L->src, line, col, 1, "%s (byte 0x%02X)%s", problem,
                  (unsigned)p->problem_value & 0xFFu,
                  strstr(problem, "UTF-8") ? "; a model or data file must be UTF-8 text"
                  : p->problem_value == 0 ? "; this does not look like a text file"
                                          : "");
    else
      bayes_error(L->d, L->src, line, col, 1, "%s", problem);
    return;
  }
  line = col1(p->problem_mark.line);
  col = col1(p->problem_mark.column);
  size_t off = p->problem_mark.index;
  char at = off < L->src->len ? L->src->text[off] : '\0';
  const char *context = p->context ? p->context : "";
  size_t ind;
  long pl;
  if (at == '\t') {
    bayes_error(L->d, L->src, line, col, 1,
                "found character that cannot start any token: a tab; YAML does not allow tabs "
                "for indentation, use spaces");
  } else if (strcmp(problem, "mapping values are not allowed in this context") == 0 &&
             line_has_expr_colon(L->src, p->problem_mark.line)) {
    bayes_error(L->d, L->src, line, col, 1,
                "%s; an expression containing ': ' must be quoted", problem);
  } else if (strcmp(problem, "mapping values are not allowed in this context") == 0 &&
             (pl = prev_line(L->src, p->problem_mark.line)) >= 0 &&
             lacks_key_colon(L->src, (size_t)pl)) {
    size_t len;
    const char *q = line_at(L->src, (size_t)pl, &len);
    size_t i = indent_of(q, len);
    bayes_error(L->d, L->src, (int)pl + 1, (int)i + 1, 1,
                "expected 'name: value' on this line, but there is no ': ' after the name");
  } else if (strcmp(problem, "could not find expected ':'") == 0) {
    size_t len;
    const char *q = line_at(L->src, p->context_mark.line, &len);
    size_t i = q ? indent_of(q, len) : 0;
    bayes_error(L->d, L->src, col1(p->context_mark.line), (int)i + 1, 1,
                "expected 'name: value' on this line, but there is no ': ' after the name");
  } else if (strcmp(problem, "found unexpected end of stream") == 0 && p->context &&
             strstr(context, "quoted scalar")) {
    bayes_error(L->d, L->src, col1(p->context_mark.line), col1(p->context_mark.column), 1,
                "this quoted text is never closed: the closing quote is missing");
  } else if (strcmp(problem, "did not find expected key") == 0 &&
             badly_indented(L->src, p->problem_mark.line, &ind)) {
    bayes_error(L->d, L->src, line, ind < INT_MAX ? (int)ind + 1 : 1, 1,
                "this line is indented differently from the one above it; keys of the same "
                "mapping must start in the same column");
  } else if (strcmp(problem, "did not find expected key") == 0 && at == '-') {
    bayes_error(L->d, L->src, line, col, 1,
                "a list item ('- ') where a 'name: value' entry was expected; remove the '- ' "
                "or start the list on its own key");
  } else if (strcmp(problem, "mapping values are not allowed in this context") == 0 &&
             badly_indented(L->src, p->problem_mark.line, &ind)) {
    bayes_error(L->d, L->src, line, ind < INT_MAX ? (int)ind + 1 : 1, 1,
                "this line is indented differently from the one above it; keys of the same "
                "mapping must start in the same column");
  } else if (strstr(problem, "did not find expected ','") && p->context &&
             (strstr(context, "flow sequence") || strstr(context, "flow mapping")) &&
             p->context_mark.line != p->problem_mark.line) {
    int fs = strstr(context, "flow sequence") != NULL;
    size_t e = off;
    while (e < L->src->len && strchr(" \t\r\n", L->src->text[e])) e++;
    if (e >= L->src->len)
      bayes_error(L->d, L->src, col1(p->context_mark.line), col1(p->context_mark.column), 1,
                  "this '%c' is never closed: the file ends before its '%c'", fs ? '[' : '{',
                  fs ? ']' : '}');
    else
      bayes_error(L->d, L->src, col1(p->context_mark.line), col1(p->context_mark.column), 1,
                  "this '%c' is never closed: expected ',' or '%c' before line %d",
                  fs ? '[' : '{', fs ? ']' : '}', line);
  } else if (strstr(problem, "did not find expected ','") && strstr(context, "flow mapping") &&
             (at == '[' || at == '{' || at == '(')) {
    bayes_error(L->d, L->src, line, col, 1,
                "inside {...} a value cannot contain brackets unless it is quoted: write "
                "\"...\" around it, or put each setting on its own line");
  } else if (p->context && p->context_mark.line != p->problem_mark.line) {
    bayes_error(L->d, L->src, line, col, 1, "%s (%s at line %d)", problem, p->context,
                col1(p->context_mark.line));
  } else if (p->context) {
    bayes_error(L->d, L->src, line, col, 1, "%s (%s)", problem, p->context);
  } else {
    bayes_error(L->d, L->src, line, col, 1, "%s", problem);
  }
}

/* Tags (!!str, !foo) change what a node means in ways a model cannot use; refusing them
 * keeps "nothing the user wrote is silently ignored" true. */
static void check_tag(loader *L, const yaml_event_t *ev, const yaml_char_t *tag)
{
  if (!tag) return;
  int line = col1(ev->start_mark.line), col = col1(ev->start_mark.column), len = 0;
  /* underline the tag as written: the first '!' token from the node's start */
  size_t i = ev->start_mark.index;
  const char *t = L->src->text;
  if (ev->start_mark.index < L->src->len) {
    while (i < L->src->len && t[i] != '!' && t[i] != '\n') i++;
    if (i < L->src->len && t[i] == '!') {
      size_t j = i;
      while (j < L->src->len && t[j] != ' ' && t[j] != '\n' && t[j] != '\t' && t[j] != '\r') j++;
      col += (int)(i - ev->start_mark.index);
      len = (int)(j - i);
    }
  }
  if (len > 0 && len <= 64)
    bayes_error(L->d, L->src, line, col, len, "YAML tags are not supported: remove '%.*s'",
                len, t + i);
  else
    bayes_error(L->d, L->src, line, col, 1, "YAML tags are not supported: remove the tag");
  L->errs++;
}

static int next_event(loader *L, yaml_event_t *ev)
{
  if (!yaml_parser_parse(&L->p, ev)) {
    parser_error(L);
    return -1;
  }
  return 0;
}

static bayes_ynode *new_node(loader *L, bayes_ykind kind, const yaml_event_t *ev)
{
  bayes_ynode *n = bayes_arena_alloc(L->a, sizeof *n);
  if (!n) {
    oom(L);
    return NULL;
  }
  n->kind = kind;
  n->line = col1(ev->start_mark.line);
  n->col = col1(ev->start_mark.column);
  n->end_line = col1(ev->end_mark.line);
  n->end_col = col1(ev->end_mark.column);
  return n;
}

static int count_nodes(loader *L, size_t k, int line, int col)
{
  L->nodes = L->nodes > SIZE_MAX - k ? SIZE_MAX : L->nodes + k;
  if (L->nodes <= BAYES_YAML_MAX_NODES) return 0;
  bayes_error(L->d, L->src, line, col, 1,
              "the document has more than %d nodes once aliases are expanded",
              BAYES_YAML_MAX_NODES);
  L->fatal = 1;
  return -1;
}

/* Registers an anchor before its collection is read, so that an alias to it from
 * inside can be recognised as recursive (and refused) instead of being unknown. */
static anchor *add_anchor(loader *L, const yaml_char_t *name, bayes_ynode *n)
{
  if (!name) return NULL;
  if (bayes_grow(&L->anch, &L->capanch, L->nanch + 1, sizeof *L->anch) != 0) goto fail;
  anchor *an = &L->anch[L->nanch];
  an->name = bayes_strdup((const char *)name);
  if (!an->name) goto fail;
  an->node = n;
  an->size = 1;
  an->done = 0;
  L->nanch++;
  return an;
fail:
  oom(L);
  return NULL;
}

static anchor *find_anchor(loader *L, const char *name)
{
  /* from the end: a redefined anchor refers to its latest definition */
  for (size_t i = L->nanch; i-- > 0;)
    if (strcmp(L->anch[i].name, name) == 0) return &L->anch[i];
  return NULL;
}

static size_t add_size(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

typedef struct {
  const bayes_ynode *k;
  size_t i;
} keyref;

static int keyref_cmp(const void *pa, const void *pb)
{
  const keyref *a = pa, *b = pb;
  size_t la = a->k->slen, lb = b->k->slen;
  int c = memcmp(a->k->str, b->k->str, la < lb ? la : lb);
  if (c) return c;
  if (la != lb) return la < lb ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

/* Reports every repeated key in file order. Sorting keeps this O(n log n) for the large
 * mappings a JSON data file can hold. */
static void check_duplicates(loader *L, bayes_ynode *map)
{
  size_t n = map->n, nscalar = 0;
  keyref *r = NULL;
  size_t *first = NULL;

  if (n < 2) return;
  r = bayes_malloc(n * sizeof *r);
  first = bayes_malloc(n * sizeof *first);
  if (!r || !first) goto fail;
  for (size_t i = 0; i < n; i++) {
    first[i] = i;
    if (map->keys[i]->kind == BAYES_Y_SCALAR) r[nscalar++] = (keyref){map->keys[i], i};
  }
  qsort(r, nscalar, sizeof *r, keyref_cmp);
  for (size_t j = 1; j < nscalar; j++) {
    const bayes_ynode *a = r[j - 1].k, *b = r[j].k;
    if (a->slen == b->slen && memcmp(a->str, b->str, a->slen) == 0)
      first[r[j].i] = first[r[j - 1].i];
  }
  for (size_t i = 0; i < n; i++) {
    if (first[i] == i) continue;
    const bayes_ynode *k = map->keys[i], *f = map->keys[first[i]];
    int len = k->end_line == k->line ? k->end_col - k->col : (int)k->slen;
    bayes_error(L->d, L->src, k->line, k->col, len,
                "duplicate key '%s' (first defined at line %d)", k->str, f->line);
    L->errs++;
  }
  bayes_free(r);
  bayes_free(first);
  return;
fail:
  bayes_free(r);
  bayes_free(first);
  oom(L);
}

static const char *kind_word(bayes_ykind k)
{
  return k == BAYES_Y_SEQ ? "a sequence" : k == BAYES_Y_MAP ? "a mapping" : "a scalar";
}

static bayes_ynode *load_node(loader *L, yaml_event_t *ev, int depth, size_t *size);

/* Reads the items of a sequence or the key/value pairs of a mapping up to the END event;
 * ev is the START event (still owned by the caller). */
static bayes_ynode *load_collection(loader *L, yaml_event_t *ev, int depth, size_t *size)
{
  int is_map = ev->type == YAML_MAPPING_START_EVENT;
  bayes_ynode *n = NULL, **tmp = NULL;
  size_t nt = 0, cap = 0, total = 1;
  anchor *an = NULL;
  yaml_event_t child;

  n = new_node(L, is_map ? BAYES_Y_MAP : BAYES_Y_SEQ, ev);
  if (!n) return NULL;
  if (depth > BAYES_YAML_MAX_DEPTH) {
    bayes_error(L->d, L->src, n->line, n->col, 1, "nesting deeper than %d levels",
                BAYES_YAML_MAX_DEPTH);
    L->fatal = 1;
    return NULL;
  }
  if (count_nodes(L, 1, n->line, n->col) != 0) return NULL;
  check_tag(L, ev, is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
  if (is_map) {
    n->flow = ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
    if (ev->data.mapping_start.anchor &&
        !(an = add_anchor(L, ev->data.mapping_start.anchor, n)))
      return NULL;
  } else {
    n->flow = ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    if (ev->data.sequence_start.anchor &&
        !(an = add_anchor(L, ev->data.sequence_start.anchor, n)))
      return NULL;
  }
  yaml_event_type_t end_type = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

  for (;;) {
    if (next_event(L, &child) != 0) goto fail;
    if (child.type == end_type) {
      n->end_line = col1(child.end_mark.line);
      n->end_col = col1(child.end_mark.column);
      yaml_event_delete(&child);
      break;
    }
    size_t sz = 0;
    bayes_ynode *c = load_node(L, &child, depth + 1, &sz);
    if (!c) goto fail;
    total = add_size(total, sz);
    if (is_map && nt % 2 == 0 && c->kind != BAYES_Y_SCALAR) {
      bayes_error(L->d, L->src, c->line, c->col, 1,
                  "a mapping key must be a name or a number, not %s", kind_word(c->kind));
      L->errs++;
    }
    if (bayes_grow(&tmp, &cap, nt + 1, sizeof *tmp) != 0) {
      oom(L);
      goto fail;
    }
    tmp[nt++] = c;
  }

  if (is_map) {
    n->n = nt / 2;
    n->keys = bayes_arena_alloc(L->a, (n->n ? n->n : 1) * sizeof *n->keys);
    n->vals = bayes_arena_alloc(L->a, (n->n ? n->n : 1) * sizeof *n->vals);
    if (!n->keys || !n->vals) {
      oom(L);
      goto fail;
    }
    for (size_t i = 0; i < n->n; i++) {
      n->keys[i] = tmp[2 * i];
      n->vals[i] = tmp[2 * i + 1];
    }
    check_duplicates(L, n);
    if (L->fatal) goto fail;
  } else {
    n->n = nt;
    n->items = bayes_arena_alloc(L->a, (nt ? nt : 1) * sizeof *n->items);
    if (!n->items) {
      oom(L);
      goto fail;
    }
    if (nt) memcpy(n->items, tmp, nt * sizeof *tmp);
  }
  bayes_free(tmp);
  if (an) {
    an->size = total;
    an->done = 1;
  }
  *size = total;
  return n;

fail:
  bayes_free(tmp);
  return NULL;
}

/* Consumes *ev (always deleted). Returns the node, or NULL after a fatal error. */
static bayes_ynode *load_node(loader *L, yaml_event_t *ev, int depth, size_t *size)
{
  bayes_ynode *n = NULL;

  *size = 1;
  switch (ev->type) {
  case YAML_SCALAR_EVENT: {
    n = new_node(L, BAYES_Y_SCALAR, ev);
    if (!n) break;
    if (count_nodes(L, 1, n->line, n->col) != 0) {
      n = NULL;
      break;
    }
    size_t len = ev->data.scalar.length;
    char *s = bayes_arena_strndup(L->a, (const char *)ev->data.scalar.value, len);
    if (!s) {
      oom(L);
      n = NULL;
      break;
    }
    n->str = s;
    n->slen = len;
    if (ev->data.scalar.tag) check_tag(L, ev, ev->data.scalar.tag);
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: n->style = BAYES_YS_SINGLE; break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = BAYES_YS_DOUBLE; break;
    case YAML_LITERAL_SCALAR_STYLE:
    case YAML_FOLDED_SCALAR_STYLE: n->style = BAYES_YS_BLOCK; break;
    default: n->style = BAYES_YS_PLAIN; break;
    }
    if (ev->data.scalar.anchor) {
      anchor *an = add_anchor(L, ev->data.scalar.anchor, n);
      if (!an) n = NULL;
      else an->done = 1;
    }
    break;
  }
  case YAML_ALIAS_EVENT: {
    const char *name = (const char *)ev->data.alias.anchor;
    int line = col1(ev->start_mark.line), col = col1(ev->start_mark.column);
    int len = ev->end_mark.line == ev->start_mark.line
                  ? (int)(ev->end_mark.column - ev->start_mark.column) : 1;
    anchor *an = find_anchor(L, name ? name : "");
    if (!an) {
      bayes_error(L->d, L->src, line, col, len, "unknown alias '*%s'", name ? name : "");
      L->fatal = 1;
    } else if (!an->done) {
      bayes_error(L->d, L->src, line, col, len,
                  "alias '*%s' refers to a node that contains it", name);
      L->fatal = 1;
    } else if (count_nodes(L, an->size, line, col) == 0) {
      n = an->node;
      *size = an->size;
    }
    break;
  }
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT:
    n = load_collection(L, ev, depth, size);
    break;
  default:
    /* libyaml guarantees a node here; anything else means a libyaml bug */
    bayes_error(L->d, L->src, col1(ev->start_mark.line), col1(ev->start_mark.column), 1,
                "unexpected YAML event %d", (int)ev->type);
    L->fatal = 1;
    break;
  }
  yaml_event_delete(ev);
  return n;
}

bayes_ynode *bayes_yaml_load(bayes_arena *a, const bayes_src *src, bayes_diag *d)
{
  loader L;
  yaml_event_t ev;
  bayes_ynode *root = NULL;
  size_t size;

  memset(&L, 0, sizeof L);
  L.a = a;
  L.src = src;
  L.d = d;
  if (!yaml_parser_initialize(&L.p)) {
    oom(&L);
    return NULL;
  }
  yaml_parser_set_input_string(&L.p, (const unsigned char *)src->text, src->len);

  if (next_event(&L, &ev) != 0) goto fail; /* STREAM-START */
  yaml_event_delete(&ev);
  if (next_event(&L, &ev) != 0) goto fail;
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    bayes_error(d, src, 0, 0, 0, "the file is empty");
    goto fail;
  }
  yaml_event_delete(&ev); /* DOCUMENT-START */
  if (next_event(&L, &ev) != 0) goto fail;
  root = load_node(&L, &ev, 1, &size);
  if (!root) goto fail;
  if (next_event(&L, &ev) != 0) goto fail; /* DOCUMENT-END */
  yaml_event_delete(&ev);
  if (next_event(&L, &ev) != 0) goto fail;
  if (ev.type == YAML_DOCUMENT_START_EVENT) {
    bayes_error(d, src, col1(ev.start_mark.line), col1(ev.start_mark.column), 3,
                "only one YAML document is allowed");
    yaml_event_delete(&ev);
    goto fail;
  }
  yaml_event_delete(&ev);
  if (L.errs) goto fail;
  if (root->kind == BAYES_Y_SCALAR && root->style == BAYES_YS_PLAIN && root->slen == 0) {
    bayes_error(d, src, 0, 0, 0, "the file is empty");
    goto fail;
  }
  for (size_t i = 0; i < L.nanch; i++) bayes_free(L.anch[i].name);
  bayes_free(L.anch);
  yaml_parser_delete(&L.p);
  return root;

fail:
  for (size_t i = 0; i < L.nanch; i++) bayes_free(L.anch[i].name);
  bayes_free(L.anch);
  yaml_parser_delete(&L.p);
  return NULL;
}

bayes_ynode *bayes_ymap_get(const bayes_ynode *map, const char *key)
{
  if (!map || map->kind != BAYES_Y_MAP || !key) return NULL;
  size_t kl = strlen(key);
  for (size_t i = 0; i < map->n; i++) {
    const bayes_ynode *k = map->keys[i];
    if (k->kind == BAYES_Y_SCALAR && k->slen == kl && memcmp(k->str, key, kl) == 0)
      return map->vals[i];
  }
  return NULL;
}
