/* test_frontend.c — Check unit tests of the front end: diagnostics formatting, YAML
 * loading, the expression parser (dumps, positions, errors, limits), data loading, and a
 * fixed-seed robustness run over random and mutated inputs. Every test asserts exact
 * output: a front-end test that cannot fail is worse than none. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ast.h"
#include "data.h"
#include "diag.h"
#include "yamltree.h"

/* ---- helpers ---- */

static char tmpdir[256];

/* Made once in main, before Check forks, so that every test sees the same directory and
 * main can remove it. */
static int make_tmpdir(void)
{
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/bayes_fe_XXXXXX", base && *base ? base : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

/* Writes len bytes to a file in the test's temporary directory; returns its path
 * (static buffer, one at a time). */
static const char *write_file(const char *name, const char *text, size_t len)
{
  static char path[512];
  ck_assert(tmpdir[0] != '\0');
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(text, 1, len, f), len);
  fclose(f);
  return path;
}

static char *diag_str(const bayes_diag *d)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_diag_format(d, &sb);
  char *s = strdup(bayes_sb_cstr(&sb));
  bayes_sb_destroy(&sb);
  return s;
}

/* Parses text as if it were a whole one-line file "e.yaml"; returns the dump, or the
 * formatted diagnostics when parsing fails. Caller frees. */
static char *parse_str(const char *text, int *ok)
{
  bayes_arena a;
  bayes_diag d;
  bayes_src src;
  bayes_sb sb;
  bayes_arena_init(&a);
  bayes_diag_init(&d);
  bayes_sb_init(&sb);
  ck_assert_int_eq(bayes_src_from_string(&src, "e.yaml", text), 0);
  bayes_expr_loc loc = {&src, 1, 1, 1};
  bayes_ast *e = bayes_parse_expr(&a, text, &loc, &d);
  if (e) {
    ck_assert_int_eq(d.nerr, 0);
    bayes_ast_dump(e, &sb);
  } else {
    ck_assert_int_ge(d.nerr, 1);
    bayes_diag_format(&d, &sb);
  }
  if (ok) *ok = e != NULL;
  char *s = strdup(bayes_sb_cstr(&sb));
  bayes_sb_destroy(&sb);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&src);
  bayes_arena_destroy(&a);
  return s;
}

#define CHECK_DUMP(text, want)                                                  \
  do {                                                                          \
    int ok_;                                                                    \
    char *got_ = parse_str((text), &ok_);                                       \
    ck_assert_msg(ok_, "parse of \"%s\" failed:\n%s", (text), got_);            \
    ck_assert_str_eq(got_, (want));                                             \
    free(got_);                                                                 \
  } while (0)

#define CHECK_ERR(text, want)                                                   \
  do {                                                                          \
    int ok_;                                                                    \
    char *got_ = parse_str((text), &ok_);                                       \
    ck_assert_msg(!ok_, "parse of \"%s\" succeeded: %s", (text), got_);         \
    ck_assert_str_eq(got_, (want));                                             \
    free(got_);                                                                 \
  } while (0)

/* Loads YAML text; returns diagnostics (caller frees) and the root through *root. */
static char *yaml_str(bayes_arena *a, const char *text, size_t len, bayes_ynode **root)
{
  bayes_diag d;
  bayes_src src;
  bayes_diag_init(&d);
  src.path = "t.yaml";
  src.text = (char *)text;
  src.len = len;
  *root = bayes_yaml_load(a, &src, &d);
  if (*root) ck_assert_int_eq(d.nerr, 0);
  else ck_assert_int_ge(d.nerr, 1);
  char *s = diag_str(&d);
  bayes_diag_destroy(&d);
  return s;
}

/* ---- diagnostics ---- */

START_TEST(diag_caret)
{
  bayes_src s;
  bayes_diag d;
  ck_assert_int_eq(bayes_src_from_string(&s, "m.yaml", "a: 1\n  mu: normal(0, 1)\n"), 0);
  bayes_diag_init(&d);
  bayes_error(&d, &s, 2, 7, 6, "unknown distribution '%s'", "normal");
  ck_assert_int_eq(d.nerr, 1);
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "m.yaml:2:7: error: unknown distribution 'normal'\n"
                        "  mu: normal(0, 1)\n"
                        "      ^~~~~~\n");
  free(out);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);
}
END_TEST

START_TEST(diag_tabs_clip_levels)
{
  bayes_src s;
  bayes_diag d;
  ck_assert_int_eq(bayes_src_from_string(&s, "t.yaml", "\tx:\tfoo bar\nabcd\r\nlast"), 0);
  bayes_diag_init(&d);
  bayes_error(&d, &s, 1, 5, 3, "tabbed");
  bayes_diag_add(&d, BAYES_DIAG_WARNING, &s, 2, 3, 10, "clipped");
  bayes_diag_add(&d, BAYES_DIAG_NOTE, &s, 3, 5, 1, "past the end");
  bayes_diag_add(&d, BAYES_DIAG_NOTE, &s, 3, 99, 4, "far past the end");
  ck_assert_int_eq(d.nerr, 1);
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "t.yaml:1:5: error: tabbed\n"
                        "\tx:\tfoo bar\n"
                        "\t  \t^~~\n"
                        "t.yaml:2:3: warning: clipped\n"
                        "abcd\n"
                        "  ^~\n"
                        "t.yaml:3:5: note: past the end\n"
                        "last\n"
                        "    ^\n"
                        "t.yaml:3:99: note: far past the end\n"
                        "last\n"
                        "    ^\n");
  free(out);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);
}
END_TEST

START_TEST(diag_no_location)
{
  bayes_src s;
  bayes_diag d;
  ck_assert_int_eq(bayes_src_from_string(&s, "empty.yaml", ""), 0);
  bayes_diag_init(&d);
  bayes_error(&d, NULL, 3, 4, 5, "cannot open '%s'", "x.json");
  bayes_error(&d, &s, 0, 0, 0, "the file is empty");
  bayes_error(&d, &s, 7, 1, 1, "line beyond the end of the file");
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "bayesrun: error: cannot open 'x.json'\n"
                        "empty.yaml: error: the file is empty\n"
                        "empty.yaml:7:1: error: line beyond the end of the file\n");
  free(out);
  ck_assert_int_eq(d.nerr, 3);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);
}
END_TEST

START_TEST(diag_utf8_columns)
{
  bayes_src s;
  bayes_diag d;
  ck_assert_int_eq(bayes_src_from_string(&s, "u.yaml", "\xC3\xA9t\xC3\xA9: bad"), 0);
  bayes_diag_init(&d);
  bayes_error(&d, &s, 1, 6, 3, "x");
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "u.yaml:1:6: error: x\n\xC3\xA9t\xC3\xA9: bad\n     ^~~\n");
  free(out);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);
}
END_TEST

START_TEST(diag_limit)
{
  bayes_diag d;
  bayes_diag_init(&d);
  for (int i = 0; i < 25; i++) bayes_error(&d, NULL, 0, 0, 0, "e%d", i);
  ck_assert_int_eq(d.nerr, BAYES_MAX_ERRORS);
  ck_assert_int_eq(d.limit_hit, 1);
  ck_assert_uint_eq(d.n, BAYES_MAX_ERRORS);
  char *out = diag_str(&d);
  const char *tail = "bayesrun: error: e19\nbayesrun: note: too many errors; stopping after 20\n";
  ck_assert_uint_ge(strlen(out), strlen(tail));
  ck_assert_str_eq(out + strlen(out) - strlen(tail), tail);
  ck_assert_ptr_null(strstr(out, "e20"));
  free(out);
  bayes_diag_destroy(&d);
}
END_TEST

START_TEST(diag_oom)
{
  bayes_diag d;
  bayes_diag_init(&d);
  bayes_fail_alloc_after(1);
  bayes_error(&d, NULL, 0, 0, 0, "lost");
  bayes_fail_alloc_after(0);
  ck_assert_int_eq(d.oom, 1);
  ck_assert_int_eq(d.nerr, 1); /* still counted: the caller must stop */
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "bayesrun: error: out of memory (some messages may be missing)\n");
  free(out);
  bayes_diag_destroy(&d);
}
END_TEST

START_TEST(src_read_binary)
{
  const char text[] = "ab\0cd\nxy";
  const char *p = write_file("nul.yaml", text, sizeof text - 1);
  bayes_src s;
  ck_assert_int_eq(bayes_src_read(&s, p), 0);
  ck_assert_uint_eq(s.len, 8);
  ck_assert_int_eq(memcmp(s.text, text, 8), 0);
  ck_assert_int_eq(s.text[8], '\0');
  bayes_diag d;
  bayes_diag_init(&d);
  bayes_error(&d, &s, 1, 2, 5, "nul");
  bayes_error(&d, &s, 2, 1, 2, "second");
  char *out = diag_str(&d);
  char want[1024];
  snprintf(want, sizeof want, "%s:1:2: error: nul\nab\n ^\n%s:2:1: error: second\nxy\n^~\n", p, p);
  ck_assert_str_eq(out, want);
  free(out);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);

  errno = 0;
  ck_assert_int_eq(bayes_src_read(&s, "/nonexistent/dir/m.yaml"), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_int_eq(bayes_src_read(&s, write_file("empty.yaml", "", 0)), 0);
  ck_assert_uint_eq(s.len, 0);
  ck_assert_str_eq(s.text, "");
  bayes_src_destroy(&s);
}
END_TEST

START_TEST(suggest)
{
  const char *const c[] = {"normal", "lognormal", "student_t", "half_cauchy", NULL};
  ck_assert_str_eq(bayes_suggest("normla", c), "normal");
  ck_assert_str_eq(bayes_suggest("nrmal", c), "normal");
  ck_assert_str_eq(bayes_suggest("studnet_t", c), "student_t");
  ck_assert_str_eq(bayes_suggest("half_cauhy", c), "half_cauchy");
  ck_assert_ptr_null(bayes_suggest("gamma", c));
  ck_assert_ptr_null(bayes_suggest("xyzzy", c));
  const char *const t[] = {"ac", "ad", NULL};
  ck_assert_str_eq(bayes_suggest("ab", t), "ac"); /* tie: first */
  ck_assert_ptr_null(bayes_suggest("zz", t));     /* distance 2 > max(1, 2/3) */
  const char *const none[] = {NULL};
  ck_assert_ptr_null(bayes_suggest("x", none));
}
END_TEST

/* ---- YAML ---- */

START_TEST(yaml_positions)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_arena_init(&a);
  const char *t = "model: m\ndata:\n  J: 8\n  y: [28, 8, -3]\n  s: 'q'\n  b: |\n    x + y\n";
  char *out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "");
  free(out);
  ck_assert_int_eq(r->kind, BAYES_Y_MAP);
  ck_assert_uint_eq(r->n, 2);
  ck_assert_int_eq(r->line, 1);
  ck_assert_int_eq(r->col, 1);
  bayes_ynode *m = bayes_ymap_get(r, "model");
  ck_assert_str_eq(m->str, "m");
  ck_assert_int_eq(m->line, 1);
  ck_assert_int_eq(m->col, 8);
  ck_assert_int_eq(m->end_col, 9);
  ck_assert_int_eq(m->style, BAYES_YS_PLAIN);
  bayes_ynode *data = bayes_ymap_get(r, "data");
  ck_assert_int_eq(data->kind, BAYES_Y_MAP);
  ck_assert(!data->flow);
  ck_assert_int_eq(data->keys[0]->line, 3);
  ck_assert_int_eq(data->keys[0]->col, 3);
  bayes_ynode *y = bayes_ymap_get(data, "y");
  ck_assert_int_eq(y->kind, BAYES_Y_SEQ);
  ck_assert(y->flow);
  ck_assert_uint_eq(y->n, 3);
  ck_assert_int_eq(y->line, 4);
  ck_assert_int_eq(y->col, 6);
  ck_assert_int_eq(y->end_col, 17);
  ck_assert_str_eq(y->items[2]->str, "-3");
  ck_assert_int_eq(y->items[2]->col, 14);
  bayes_ynode *s = bayes_ymap_get(data, "s");
  ck_assert_int_eq(s->style, BAYES_YS_SINGLE);
  ck_assert_int_eq(s->col, 6);
  bayes_ynode *b = bayes_ymap_get(data, "b");
  ck_assert_int_eq(b->style, BAYES_YS_BLOCK);
  ck_assert_str_eq(b->str, "x + y\n");
  ck_assert_uint_eq(b->slen, 6);
  ck_assert_ptr_null(bayes_ymap_get(data, "nope"));
  ck_assert_ptr_null(bayes_ymap_get(y, "y"));
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(yaml_scalar_nul_escape)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_arena_init(&a);
  const char *t = "k: \"a\\0b\"\n";
  char *out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "");
  free(out);
  bayes_ynode *k = bayes_ymap_get(r, "k");
  ck_assert_uint_eq(k->slen, 3);
  ck_assert_int_eq(memcmp(k->str, "a\0b", 4), 0);
  ck_assert_int_eq(k->style, BAYES_YS_DOUBLE);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(yaml_duplicates)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_arena_init(&a);
  const char *t = "a: 1\nparameters:\n  mu: normal(0, 1)\n  mu: normal(0, 2)\nb: 2\na: 3\n";
  char *out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_ptr_null(r);
  ck_assert_str_eq(out, "t.yaml:4:3: error: duplicate key 'mu' (first defined at line 3)\n"
                        "  mu: normal(0, 2)\n"
                        "  ^~\n"
                        "t.yaml:6:1: error: duplicate key 'a' (first defined at line 1)\n"
                        "a: 3\n"
                        "^\n");
  free(out);
  /* 'x' and "x" are the same key */
  t = "{'x': 1, \"x\": 2}";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_ptr_nonnull(strstr(out, "duplicate key 'x' (first defined at line 1)"));
  free(out);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(yaml_aliases)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_arena_init(&a);
  const char *t = "base: &b {lower: 0, upper: 1}\nx: *b\ny: &s 5\nz: [*s, *s]\n";
  char *out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "");
  free(out);
  ck_assert_ptr_eq(bayes_ymap_get(r, "x"), bayes_ymap_get(r, "base"));
  ck_assert_str_eq(bayes_ymap_get(r, "z")->items[1]->str, "5");

  t = "a: *nope\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:1:4: error: unknown alias '*nope'\na: *nope\n   ^~~~~\n");
  free(out);

  t = "a: &a [1, *a]\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:1:11: error: alias '*a' refers to a node that contains it\n"
                        "a: &a [1, *a]\n"
                        "          ^~\n");
  free(out);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(yaml_alias_bomb)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_sb sb;
  bayes_arena_init(&a);
  bayes_sb_init(&sb);
  /* "billion laughs": 10^9 nodes once expanded, a few hundred bytes of text */
  bayes_sb_puts(&sb, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
  for (int i = 1; i <= 9; i++) {
    bayes_sb_printf(&sb, "l%d: &l%d [", i, i);
    for (int k = 0; k < 10; k++) bayes_sb_printf(&sb, "%s*l%d", k ? ", " : "", i - 1);
    bayes_sb_puts(&sb, "]\n");
  }
  char *out = yaml_str(&a, sb.s, sb.len, &r);
  ck_assert_ptr_null(r);
  ck_assert_ptr_nonnull(strstr(out, "error: the document has more than 10000000 nodes once "
                                    "aliases are expanded"));
  free(out);
  bayes_sb_destroy(&sb);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(yaml_depth)
{
  bayes_arena a;
  bayes_ynode *r;
  char buf[400];
  bayes_arena_init(&a);
  /* the root mapping is level 1: 63 nested lists under it are fine, 64 are not */
  for (int depth = 63; depth <= 64; depth++) {
    int k = snprintf(buf, sizeof buf, "a: ");
    for (int i = 0; i < depth; i++) buf[k++] = '[';
    for (int i = 0; i < depth; i++) buf[k++] = ']';
    buf[k++] = '\n';
    buf[k] = '\0';
    char *out = yaml_str(&a, buf, strlen(buf), &r);
    if (depth == 63) {
      ck_assert_str_eq(out, "");
      ck_assert_ptr_nonnull(r);
    } else {
      ck_assert_ptr_null(r);
      ck_assert_ptr_nonnull(strstr(out, "t.yaml:1:67: error: nesting deeper than 64 levels\n"));
    }
    free(out);
  }
  /* far deeper input stops at the limit without recursing further */
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_puts(&sb, "a: ");
  for (int i = 0; i < 100000; i++) bayes_sb_putc(&sb, '[');
  char *out = yaml_str(&a, sb.s, sb.len, &r);
  ck_assert_ptr_nonnull(strstr(out, "nesting deeper than 64 levels"));
  free(out);
  bayes_sb_destroy(&sb);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(yaml_errors)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_arena_init(&a);
  char *out;

  out = yaml_str(&a, "", 0, &r);
  ck_assert_str_eq(out, "t.yaml: error: the file is empty\n");
  free(out);
  out = yaml_str(&a, "# only a comment\n", 17, &r);
  ck_assert_str_eq(out, "t.yaml: error: the file is empty\n");
  free(out);
  out = yaml_str(&a, "---\n", 4, &r);
  ck_assert_str_eq(out, "t.yaml: error: the file is empty\n");
  free(out);

  const char *t = "a: 1\n---\nb: 2\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:2:1: error: only one YAML document is allowed\n---\n^~~\n");
  free(out);

  t = "transformed:\n  x: a > 0 ? b : c\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:2:16: error: mapping values are not allowed in this "
                        "context; an expression containing ': ' must be quoted\n"
                        "  x: a > 0 ? b : c\n"
                        "               ^\n");
  free(out);

  t = "a: b\n  c: d\n"; /* same libyaml error, no expression: the indentation hint */
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:2:3: error: this line is indented differently from the one "
                        "above it; keys of the same mapping must start in the same column\n"
                        "  c: d\n"
                        "  ^\n");
  free(out);
  t = "a: b: c\n"; /* a value holding ': ' gets the hint */
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_ptr_nonnull(strstr(out, "t.yaml:1:5: error: mapping values are not allowed in this "
                                    "context; an expression containing ': ' must be quoted\n"));
  free(out);

  t = "a: [1, 2\nb: 3\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:1:4: error: this '[' is never closed: expected ',' or ']' "
                        "before line 2\na: [1, 2\n   ^\n");
  free(out);

  t = "[a, b]: 1\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:1:1: error: a mapping key must be a name or a number, not "
                        "a sequence\n[a, b]: 1\n^\n");
  free(out);

  t = "a: 1\x01\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_str_eq(out, "t.yaml:1:5: error: control characters are not allowed (byte 0x01)\n"
                        "a: 1\x01\n    ^\n");
  free(out);

  t = "a:\n\t- 1\n";
  out = yaml_str(&a, t, strlen(t), &r);
  ck_assert_ptr_null(r);
  ck_assert_ptr_nonnull(strstr(out, "t.yaml:2:1: error: found character that cannot start "
                                    "any token"));
  free(out);
  bayes_arena_destroy(&a);
}
END_TEST

/* ---- expression parser ---- */

START_TEST(parse_literals_names)
{
  CHECK_DUMP("42", "42");
  CHECK_DUMP("0", "0");
  CHECK_DUMP("1.5", "1.5");
  CHECK_DUMP("1.0", "1.0");
  CHECK_DUMP("2.", "2.0");
  CHECK_DUMP(".5", "0.5");
  CHECK_DUMP("1e-3", "0.001");
  CHECK_DUMP("1e3", "1000.0");
  CHECK_DUMP("2.5E+2", "250.0");
  CHECK_DUMP("1e300", "1e+300");
  CHECK_DUMP("0.1", "0.1");
  CHECK_DUMP("9007199254740993", "9007199254740992.0"); /* beyond 2^53: a real */
  CHECK_DUMP("mu", "mu");
  CHECK_DUMP("_x1", "_x1");
  CHECK_DUMP("  sigma_y  ", "sigma_y");
  CHECK_DUMP("for_each", "for_each");
  CHECK_DUMP("inner", "inner");
}
END_TEST

START_TEST(parse_number_kinds)
{
  bayes_arena a;
  bayes_diag d;
  bayes_arena_init(&a);
  bayes_diag_init(&d);
  bayes_ast *e = bayes_parse_expr(&a, "3", NULL, &d);
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(e->kind, BAYES_AST_NUM);
  ck_assert(e->is_int);
  ck_assert(e->num == 3.0);
  e = bayes_parse_expr(&a, "3.0", NULL, &d);
  ck_assert(!e->is_int);
  e = bayes_parse_expr(&a, "1e2", NULL, &d);
  ck_assert(!e->is_int);
  ck_assert(e->num == 100.0);
  ck_assert_int_eq(d.nerr, 0);
  /* without a location, errors are still reported (without a caret) */
  ck_assert_ptr_null(bayes_parse_expr(&a, "1 +", NULL, &d));
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "bayesrun: error: expected an expression after '+'\n");
  free(out);
  bayes_diag_destroy(&d);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(parse_precedence)
{
  CHECK_DUMP("mu + tau * eta", "(+ mu (* tau eta))");
  CHECK_DUMP("a - b - c", "(- (- a b) c)");
  CHECK_DUMP("a / b * c", "(* (/ a b) c)");
  CHECK_DUMP("a ^ b ^ c", "(^ a (^ b c))");
  CHECK_DUMP("-2^2", "(neg (^ 2 2))");
  CHECK_DUMP("-a * b", "(* (neg a) b)");
  CHECK_DUMP("2^-3", "(^ 2 (neg 3))");
  CHECK_DUMP("a * -b", "(* a (neg b))");
  CHECK_DUMP("- -a", "(neg (neg a))");
  CHECK_DUMP("+a", "(pos a)");
  CHECK_DUMP("!a && b", "(&& (not a) b)");
  CHECK_DUMP("!(a && b)", "(not (&& a b))");
  CHECK_DUMP("a || b && c", "(|| a (&& b c))");
  CHECK_DUMP("a && b || c", "(|| (&& a b) c)");
  CHECK_DUMP("a == b != c", "(!= (== a b) c)");
  CHECK_DUMP("a < b == c >= d", "(== (< a b) (>= c d))");
  CHECK_DUMP("a <= b + 1", "(<= a (+ b 1))");
  CHECK_DUMP("a > b", "(> a b)");
  CHECK_DUMP("X @ beta + alpha", "(+ (@ X beta) alpha)");
  CHECK_DUMP("a @ b * c", "(* (@ a b) c)");
  CHECK_DUMP("(a + b) * c", "(* (+ a b) c)");
  CHECK_DUMP("((a))", "a");
  CHECK_DUMP("a || b && c == d < e + f * g ^ h",
             "(|| a (&& b (== c (< d (+ e (* f (^ g h)))))))");
  CHECK_DUMP("c ? a : b", "(? c a b)");
  CHECK_DUMP("c ? a : d ? e : f", "(? c a (? d e f))");
  CHECK_DUMP("x > 0 || y ? a + 1 : -b", "(? (|| (> x 0) y) (+ a 1) (neg b))");
  CHECK_DUMP("c ? d ? 1 : 2 : 3", "(? c (? d 1 2) 3)");
}
END_TEST

START_TEST(parse_postfix)
{
  CHECK_DUMP("f()", "(call f)");
  CHECK_DUMP("log(x)", "(call log x)");
  CHECK_DUMP("normal(0, 1)", "(call normal 0 1)");
  CHECK_DUMP("rbf(ell, alpha = a)", "(call rbf ell (kw alpha a))");
  CHECK_DUMP("gp(x, kernel = rbf(ell, a), noise = s)",
             "(call gp x (kw kernel (call rbf ell a)) (kw noise s))");
  CHECK_DUMP("f(a = 1)", "(call f (kw a 1))");
  CHECK_DUMP("normal(0, 1) [J]", "(index (call normal 0 1) J)");
  CHECK_DUMP("normal(0, 1)[N, K]", "(index (call normal 0 1) N K)");
  CHECK_DUMP("x[i]", "(index x i)");
  CHECK_DUMP("x[i, j]", "(index x i j)");
  CHECK_DUMP("x[2:N]", "(index x (: 2 N))");
  CHECK_DUMP("x[:3]", "(index x (: _ 3))");
  CHECK_DUMP("x[2:]", "(index x (: 2 _))");
  CHECK_DUMP("x[:]", "(index x :)");
  CHECK_DUMP("x[:, j]", "(index x : j)");
  CHECK_DUMP("theta[school]", "(index theta school)");
  CHECK_DUMP("x[i][j]", "(index (index x i) j)");
  CHECK_DUMP("x[t - 1]", "(index x (- t 1))");
  CHECK_DUMP("x[c ? 1 : 2]", "(index x (? c 1 2))");
  CHECK_DUMP("x[n + 1 : 2 * n]", "(index x (: (+ n 1) (* 2 n)))");
  CHECK_DUMP("x'", "(t x)");
  CHECK_DUMP("x''", "(t (t x))");
  CHECK_DUMP("a @ b'", "(@ a (t b))");
  CHECK_DUMP("-x'", "(neg (t x))");
  CHECK_DUMP("x'^2", "(^ (t x) 2)");
  CHECK_DUMP("f(x)[1]'", "(t (index (call f x) 1))");
  CHECK_DUMP("[1, 2][k]", "(index (vec 1 2) k)");
}
END_TEST

START_TEST(parse_vectors_lambdas)
{
  CHECK_DUMP("[a, b, c]", "(vec a b c)");
  CHECK_DUMP("[]", "(vec)");
  CHECK_DUMP("[1]", "(vec 1)");
  CHECK_DUMP("[[1,2],[3,4]]", "(vec (vec 1 2) (vec 3 4))");
  CHECK_DUMP("[log(x[i]) for i in 1:N]", "(for i (: 1 N) (call log (index x i)))");
  CHECK_DUMP("[i ^ 2 for i in idx]", "(for i idx (^ i 2))");
  CHECK_DUMP("[[i * j for j in 1:3] for i in 1:2]",
             "(for i (: 1 2) (for j (: 1 3) (* i j)))");
  CHECK_DUMP("(prev, t) -> prev * t", "(lambda (prev t) (* prev t))");
  CHECK_DUMP("x -> x + 1", "(lambda (x) (+ x 1))");
  CHECK_DUMP("(x) -> -x", "(lambda (x) (neg x))");
  CHECK_DUMP("() -> 1", "(lambda () 1)");
  CHECK_DUMP("x -> y -> x * y", "(lambda (x) (lambda (y) (* x y)))");
  CHECK_DUMP("recur(first, n, (prev, t) -> prev * rho + eps[t])",
             "(call recur first n (lambda (prev t) (+ (* prev rho) (index eps t))))");
  CHECK_DUMP("(t, y, p) -> [p[1] * y[1] * (1 - y[1] / p[2])]",
             "(lambda (t y p) (vec (* (* (index p 1) (index y 1)) (- 1 (/ (index y 1) "
             "(index p 2))))))");
  CHECK_DUMP("solve_ode(growth, y0 = [N0], t0 = 0, times = t_obs, params = [r, K])",
             "(call solve_ode growth (kw y0 (vec N0)) (kw t0 0) (kw times t_obs) "
             "(kw params (vec r K)))");
  CHECK_DUMP("a\n  + b", "(+ a b)");
}
END_TEST

START_TEST(parse_positions)
{
  bayes_arena a;
  bayes_diag d;
  bayes_src s;
  bayes_arena_init(&a);
  bayes_diag_init(&d);
  /* "  theta: mu + tau * eta" : the value starts at column 10 */
  ck_assert_int_eq(bayes_src_from_string(&s, "m.yaml", "x: 1\n  theta: mu + tau * eta\n"), 0);
  bayes_expr_loc loc = {&s, 2, 10, 10};
  bayes_ast *e = bayes_parse_expr(&a, "mu + tau * eta", &loc, &d);
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(e->line, 2);
  ck_assert_int_eq(e->col, 10);
  ck_assert_int_eq(e->len, 14);
  ck_assert_int_eq(e->kids[0]->col, 10);
  ck_assert_int_eq(e->kids[0]->len, 2);
  ck_assert_int_eq(e->kids[1]->col, 15);
  ck_assert_int_eq(e->kids[1]->len, 9);
  ck_assert_int_eq(e->kids[1]->kids[1]->col, 21);

  e = bayes_parse_expr(&a, "normal(0, 1) [J]", &loc, &d);
  ck_assert_int_eq(e->kind, BAYES_AST_INDEX);
  ck_assert_int_eq(e->len, 16);
  ck_assert_int_eq(e->kids[0]->kind, BAYES_AST_CALL);
  ck_assert_int_eq(e->kids[0]->col, 10);
  ck_assert_int_eq(e->kids[0]->len, 12); /* name to closing paren */
  ck_assert_int_eq(e->kids[1]->col, 24);

  e = bayes_parse_expr(&a, "f(x, k = 2)", &loc, &d);
  ck_assert_ptr_nonnull(e->kw);
  ck_assert_ptr_null(e->kw[0]);
  ck_assert_str_eq(e->kw[1], "k");
  e = bayes_parse_expr(&a, "f(x)", &loc, &d);
  ck_assert_ptr_null(e->kw);

  /* a block scalar: text line 1 maps to file line 3, columns from cont_col */
  e = bayes_parse_expr(&a, "a +\n  bb * c", &(bayes_expr_loc){&s, 2, 5, 3}, &d);
  ck_assert_int_eq(e->line, 2);
  ck_assert_int_eq(e->col, 5);
  ck_assert_int_eq(e->len, 3); /* to the end of its first line */
  ck_assert_int_eq(e->kids[1]->line, 3);
  ck_assert_int_eq(e->kids[1]->col, 5);
  ck_assert_int_eq(e->kids[1]->len, 6);
  ck_assert_int_eq(d.nerr, 0);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(parse_multiline_error)
{
  bayes_arena a;
  bayes_diag d;
  bayes_src s;
  bayes_arena_init(&a);
  bayes_diag_init(&d);
  ck_assert_int_eq(bayes_src_from_string(&s, "m.yaml", "x: |\n  a +\n    (b * )\n"), 0);
  bayes_expr_loc loc = {&s, 2, 3, 3};
  ck_assert_ptr_null(bayes_parse_expr(&a, "a +\n  (b * )\n", &loc, &d));
  char *out = diag_str(&d);
  ck_assert_str_eq(out, "m.yaml:3:10: error: expected an expression after '*', found ')'\n"
                        "    (b * )\n"
                        "         ^\n");
  free(out);
  bayes_diag_destroy(&d);
  bayes_src_destroy(&s);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(parse_errors)
{
  CHECK_ERR("1 +", "e.yaml:1:4: error: expected an expression after '+'\n1 +\n   ^\n");
  CHECK_ERR("a * (b + )",
            "e.yaml:1:10: error: expected an expression after '+', found ')'\n"
            "a * (b + )\n         ^\n");
  CHECK_ERR("a)", "e.yaml:1:2: error: unbalanced ')'\na)\n ^\n");
  CHECK_ERR("f(a, b",
            "e.yaml:1:7: error: unexpected end of expression; is a ')' missing?\n"
            "f(a, b\n      ^\n"
            "e.yaml:1:2: note: unbalanced '('\nf(a, b\n ^\n");
  CHECK_ERR("x[1, 2",
            "e.yaml:1:7: error: unexpected end of expression; is a ']' missing?\n"
            "x[1, 2\n      ^\n"
            "e.yaml:1:2: note: unbalanced '['\nx[1, 2\n ^\n");
  CHECK_ERR("f(a +", "e.yaml:1:6: error: expected an expression after '+'\nf(a +\n     ^\n");
  CHECK_ERR("f(",
            "e.yaml:1:3: error: unexpected end of expression; is a ')' missing?\n"
            "f(\n  ^\n"
            "e.yaml:1:2: note: unbalanced '('\nf(\n ^\n");
  CHECK_ERR("(a]", "e.yaml:1:3: error: unexpected ']'; is a ')' missing?\n(a]\n  ^\n");
  CHECK_ERR("a $ b", "e.yaml:1:3: error: invalid character '$'\na $ b\n  ^\n");
  CHECK_ERR("a % b",
            "e.yaml:1:3: error: invalid character '%' (there is no modulo operator)\n"
            "a % b\n  ^\n");
  CHECK_ERR("f(x = 1, 2)",
            "e.yaml:1:10: error: positional argument after keyword argument\n"
            "f(x = 1, 2)\n         ^\n");
  CHECK_ERR("f(x = 1, x = 2)",
            "e.yaml:1:10: error: keyword argument 'x' given twice\n"
            "f(x = 1, x = 2)\n         ^\n");
  CHECK_ERR("a b", "e.yaml:1:3: error: unexpected name 'b'\na b\n  ^\n");
  CHECK_ERR("mu sigma2", "e.yaml:1:4: error: unexpected name 'sigma2'\nmu sigma2\n   ^~~~~~\n");
  CHECK_ERR("1 2.5", "e.yaml:1:3: error: unexpected number '2.5'\n1 2.5\n  ^~~\n");
  CHECK_ERR("x = 1", "e.yaml:1:3: error: unexpected '='; did you mean '=='?\nx = 1\n  ^\n");
  CHECK_ERR("", "e.yaml:1:1: error: the expression is empty\n\n^\n");
  CHECK_ERR("   ", "e.yaml:1:1: error: the expression is empty\n   \n^\n");
  CHECK_ERR("* 2", "e.yaml:1:1: error: unexpected '*'\n* 2\n^\n");
  CHECK_ERR("2x", "e.yaml:1:1: error: invalid number '2x'\n2x\n^~\n");
  CHECK_ERR("1.5.2", "e.yaml:1:1: error: invalid number '1.5.2'\n1.5.2\n^~~~~\n");
  CHECK_ERR("1e999", "e.yaml:1:1: error: number '1e999' is too large\n1e999\n^~~~~\n");
  CHECK_ERR("[x for 1]",
            "e.yaml:1:8: error: unexpected number '1'; expected a name\n[x for 1]\n       ^\n");
  CHECK_ERR("[x for i 1:3]",
            "e.yaml:1:10: error: unexpected number '1'; expected 'in'\n"
            "[x for i 1:3]\n         ^\n");
  CHECK_ERR("f(a)(b)", "e.yaml:1:1: error: only a function name can be called\n"
                       "f(a)(b)\n^~~~~~~\n");
  CHECK_ERR("(a + b) -> c", "e.yaml:1:2: error: a lambda parameter must be a name\n"
                            "(a + b) -> c\n ^~~~~\n");
  CHECK_ERR("(x, x) -> x", "e.yaml:1:5: error: lambda parameter 'x' appears twice\n"
                           "(x, x) -> x\n    ^\n");
  CHECK_ERR("(a, b)", "e.yaml:1:7: error: unexpected end of expression; a list in "
                      "parentheses must be followed by '->' (a lambda)\n(a, b)\n      ^\n");
  CHECK_ERR("x[]", "e.yaml:1:3: error: expected an expression after '[', found ']'\n"
                   "x[]\n  ^\n");
  CHECK_ERR("a ? b", "e.yaml:1:6: error: unexpected end of expression\na ? b\n     ^\n");
  CHECK_ERR("x\xC3\xA9", "e.yaml:1:2: error: invalid character '\xC3\xA9'\nx\xC3\xA9\n ^\n");
  CHECK_ERR("a \"b\"",
            "e.yaml:1:3: error: invalid character '\"' (expressions have no strings)\n"
            "a \"b\"\n  ^\n");
  CHECK_ERR("a\x01", "e.yaml:1:2: error: invalid character (byte 0x01)\na\x01\n ^\n");
  CHECK_ERR("x: a", "e.yaml:1:2: error: unexpected ':'\nx: a\n ^\n");
}
END_TEST

static char *repeat3(const char *pre, int n, const char *mid, const char *post)
{
  size_t lp = strlen(pre), lm = strlen(mid), lq = strlen(post);
  char *s = malloc((size_t)n * (lp + lq) + lm + 1), *p = s;
  for (int i = 0; i < n; i++, p += lp) memcpy(p, pre, lp);
  memcpy(p, mid, lm);
  p += lm;
  for (int i = 0; i < n; i++, p += lq) memcpy(p, post, lq);
  *p = '\0';
  return s;
}

static void check_depth(const char *pre, int n, const char *mid, const char *post, int ok)
{
  char *t = repeat3(pre, n, mid, post);
  int parsed;
  char *out = parse_str(t, &parsed);
  ck_assert_msg(parsed == ok, "%s x %d: expected %s, got %.200s", pre, n,
                ok ? "success" : "failure", out);
  if (!ok) ck_assert_ptr_nonnull(strstr(out, "error: expression nested deeper than 200 levels\n"));
  free(out);
  free(t);
}

START_TEST(parse_depth_limit)
{
  check_depth("(", 200, "x", ")", 1);
  check_depth("(", 201, "x", ")", 0);
  check_depth("[", 199, "x", "]", 1);     /* 199 vectors around x: height 200 */
  check_depth("[", 200, "x", "]", 0);
  check_depth("f(", 199, "x", ")", 1);
  check_depth("f(", 200, "x", ")", 0);
  check_depth("-", 199, "x", "", 1);
  check_depth("-", 200, "x", "", 0);
  check_depth("-", 100000, "x", "", 0);   /* beyond bison's fixed stack: same message */
  check_depth("a ^ ", 199, "a", "", 1);
  check_depth("a ^ ", 5000, "a", "", 0);
  check_depth("a + ", 199, "a", "", 1);   /* left-nested sums count too */
  check_depth("a + ", 250, "a", "", 0);
  check_depth("c ? a : ", 3000, "b", "", 0);
  check_depth("x -> ", 3000, "x", "", 0);
  check_depth("(", 100000, "", "", 0);
  /* located at the bracket that goes too deep */
  char *t = repeat3("(", 201, "x", ")");
  char *out = parse_str(t, NULL);
  const char *want = "e.yaml:1:201: error: expression nested deeper than 200 levels\n";
  ck_assert_int_eq(strncmp(out, want, strlen(want)), 0);
  free(out);
  free(t);
}
END_TEST

START_TEST(parse_long_inputs)
{
  /* a very long name and a long flat vector are fine */
  size_t n = 100000;
  char *t = malloc(n + 1);
  memset(t, 'a', n);
  t[n] = '\0';
  char *out = parse_str(t, NULL);
  ck_assert_uint_eq(strlen(out), n);
  free(out);
  free(t);
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_putc(&sb, '[');
  for (int i = 0; i < 20000; i++) bayes_sb_printf(&sb, "%s%d", i ? "," : "", i);
  bayes_sb_putc(&sb, ']');
  int ok;
  out = parse_str(sb.s, &ok);
  ck_assert(ok);
  ck_assert_int_eq(strncmp(out, "(vec 0 1 2 ", 11), 0);
  free(out);
  bayes_sb_destroy(&sb);
}
END_TEST

/* ---- data ---- */

static int load_json(bayes_arena *a, bayes_src *s, const char *name, const char *text,
                     bayes_dataset *ds, char **diag)
{
  bayes_diag d;
  bayes_diag_init(&d);
  ck_assert_int_eq(bayes_src_read(s, write_file(name, text, strlen(text))), 0);
  int rc = bayes_data_load_json(a, s, ds, &d);
  *diag = diag_str(&d);
  if (rc == 0) ck_assert_int_eq(d.nerr, 0);
  else ck_assert_int_ge(d.nerr, 1);
  bayes_diag_destroy(&d);
  return rc;
}

START_TEST(data_json)
{
  bayes_arena a;
  bayes_src s;
  bayes_dataset ds;
  char *out;
  bayes_arena_init(&a);
  const char *t = "{\n  \"N\": 3,\n  \"y\": [1.5, -2, 3e2],\n  \"g\": [1, 2, 3],\n"
                  "  \"X\": [[1, 2, 3], [4, 5, 6]],\n  \"hi\": \"Inf\",\n  \"lo\": \"-Infinity\",\n"
                  "  \"nan\": \"NaN\",\n  \"e\": [],\n  \"unused\": 7,\n"
                  "  \"T\": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]\n}\n";
  ck_assert_int_eq(load_json(&a, &s, "d.json", t, &ds, &out), 0);
  ck_assert_str_eq(out, "");
  free(out);
  ck_assert_uint_eq(ds.n, 10);
  ck_assert_ptr_eq(ds.src, &s);
  const bayes_named_value *v = bayes_dataset_get(&ds, "N");
  ck_assert_int_eq(v->val.shape.rank, 0);
  ck_assert(v->val.is_int);
  ck_assert(v->val.v[0] == 3);
  ck_assert_int_eq(v->line, 2);
  ck_assert_int_eq(v->col, 3);
  ck_assert_int_eq(v->val.line, 2);
  ck_assert_int_eq(v->val.col, 8);
  v = bayes_dataset_get(&ds, "y");
  ck_assert(!v->val.is_int);
  ck_assert_int_eq(v->val.shape.rank, 1);
  ck_assert_uint_eq(v->val.shape.dim[0], 3);
  ck_assert(v->val.v[1] == -2 && v->val.v[2] == 300);
  v = bayes_dataset_get(&ds, "g");
  ck_assert(v->val.is_int);
  v = bayes_dataset_get(&ds, "X");
  ck_assert_int_eq(v->val.shape.rank, 2);
  ck_assert_uint_eq(v->val.shape.dim[0], 2);
  ck_assert_uint_eq(v->val.shape.dim[1], 3);
  ck_assert_uint_eq(v->val.n, 6);
  ck_assert(v->val.v[3] == 4 && v->val.v[5] == 6); /* row-major */
  ck_assert(isinf(bayes_dataset_get(&ds, "hi")->val.v[0]) &&
            bayes_dataset_get(&ds, "hi")->val.v[0] > 0);
  ck_assert(isinf(bayes_dataset_get(&ds, "lo")->val.v[0]) &&
            bayes_dataset_get(&ds, "lo")->val.v[0] < 0);
  ck_assert(isnan(bayes_dataset_get(&ds, "nan")->val.v[0]));
  ck_assert(!bayes_dataset_get(&ds, "nan")->val.is_int);
  v = bayes_dataset_get(&ds, "e");
  ck_assert_int_eq(v->val.shape.rank, 1);
  ck_assert_uint_eq(v->val.n, 0);
  v = bayes_dataset_get(&ds, "T");
  ck_assert_int_eq(v->val.shape.rank, 3);
  ck_assert(v->val.v[6] == 7);
  ck_assert_ptr_null(bayes_dataset_get(&ds, "missing"));
  bayes_dataset_destroy(&ds);
  ck_assert_ptr_null(ds.v);
  bayes_dataset_destroy(&ds); /* twice is fine */
  bayes_src_destroy(&s);

  /* compact JSON without blanks */
  ck_assert_int_eq(load_json(&a, &s, "c.json", "{\"a\":1,\"b\":[2.5,3]}", &ds, &out), 0);
  free(out);
  ck_assert_uint_eq(ds.n, 2);
  ck_assert(bayes_dataset_get(&ds, "b")->val.v[0] == 2.5);
  bayes_dataset_destroy(&ds);
  bayes_src_destroy(&s);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(data_json_errors)
{
  bayes_arena a;
  bayes_src s;
  bayes_dataset ds;
  char *out, want[2048];
  bayes_arena_init(&a);

  const char *t = "{\"X\": [[1, 2, 3, 4], [5, 6, 7, 8], [1, 2]],\n"
                  " \"b\": [1, \"x\"],\n \"c\": [[[[[1]]]]],\n \"d\": [[1, 2], 3],\n"
                  " \"e\": [1, [2]], \"f\": {\"g\": 1}, \"h\": null, \"i\": true}\n";
  /* values that are not numeric data do not fail the load (a data file may hold keys the
   * model does not use); each is marked bad and explained when the model asks for it */
  ck_assert_int_eq(load_json(&a, &s, "bad.json", t, &ds, &out), 0);
  free(out);
  ck_assert_uint_eq(ds.n, 8);
  {
    bayes_diag d;
    bayes_diag_init(&d);
    for (size_t i = 0; i < ds.n; i++) {
      ck_assert_msg(ds.v[i].bad, "%s should be marked bad", ds.v[i].name);
      bayes_dataset_explain(&a, &ds, &ds.v[i], &d);
    }
    out = diag_str(&d);
    ck_assert_int_eq(d.nerr, 8);
    bayes_diag_destroy(&d);
  }
  snprintf(want, sizeof want,
           "%1$s:1:36: error: X[3] has 2 elements, expected 4\n"
           "{\"X\": [[1, 2, 3, 4], [5, 6, 7, 8], [1, 2]],\n"
           "                                   ^\n"
           "%1$s:2:11: error: b[2]: expected a number, found 'x'\n"
           " \"b\": [1, \"x\"],\n"
           "          ^~~\n"
           "%1$s:3:11: error: data nested deeper than 4 levels\n"
           " \"c\": [[[[[1]]]]],\n"
           "          ^\n"
           "%1$s:4:16: error: d[2] is a number, expected a list of 2 elements\n"
           " \"d\": [[1, 2], 3],\n"
           "               ^\n"
           "%1$s:5:11: error: e[2] is a list, expected a number\n"
           " \"e\": [1, [2]], \"f\": {\"g\": 1}, \"h\": null, \"i\": true}\n"
           "          ^\n"
           "%1$s:5:22: error: expected a number or a list of numbers, found a mapping\n"
           " \"e\": [1, [2]], \"f\": {\"g\": 1}, \"h\": null, \"i\": true}\n"
           "                     ^\n"
           "%1$s:5:37: error: h is missing (null); every data value must be a number (write NaN "
           "and declare allow_nan: true for a missing observation)\n"
           " \"e\": [1, [2]], \"f\": {\"g\": 1}, \"h\": null, \"i\": true}\n"
           "                                    ^~~~\n"
           "%1$s:5:48: error: i: expected a number, found 'true'\n"
           " \"e\": [1, [2]], \"f\": {\"g\": 1}, \"h\": null, \"i\": true}\n"
           "                                               ^~~~\n",
           s.path);
  ck_assert_str_eq(out, want);
  free(out);
  bayes_dataset_destroy(&ds);
  bayes_src_destroy(&s);

  /* ragged deeper down */
  ck_assert_int_eq(load_json(&a, &s, "r.json", "{\"T\": [[[1, 2], [3, 4]], [[5, 6], [7]]]}",
                             &ds, &out), 0);
  free(out);
  {
    bayes_diag d;
    bayes_diag_init(&d);
    ck_assert(ds.n == 1 && ds.v[0].bad);
    bayes_dataset_explain(&a, &ds, &ds.v[0], &d);
    out = diag_str(&d);
    bayes_diag_destroy(&d);
  }
  ck_assert_ptr_nonnull(strstr(out, "error: T[2, 2] has 1 element, expected 2\n"));
  free(out);
  bayes_dataset_destroy(&ds);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_json(&a, &s, "l.json", "[1, 2]", &ds, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":1:1: error: a data file must be an object of name: "
                                    "value pairs, found a list\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_json(&a, &s, "dup.json", "{\"a\": 1,\n \"a\": 2}", &ds, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":2:2: error: duplicate key 'a' (first defined at line 1)"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_json(&a, &s, "trunc.json", "{\"a\": [1, 2", &ds, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, "error: this '[' is never closed: the file ends before its ']'"));
  free(out);
  bayes_src_destroy(&s);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(data_value_from_yaml)
{
  bayes_arena a;
  bayes_ynode *r;
  bayes_diag d;
  bayes_value v;
  bayes_arena_init(&a);
  bayes_diag_init(&d);
  const char *t = "a: 9007199254740992\nb: 9007199254740993\nc: -0\nd: .inf\ne: 1E3\n"
                  "f: [[], []]\ng: 0x10\nh: 1_000\ni: '-inf'\nj: '3'\nk: [[]]\n";
  char *out = yaml_str(&a, t, strlen(t), &r);
  free(out);
  bayes_src s = {"v.yaml", (char *)t, strlen(t)};
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "a"), &s, &v, &d), 0);
  ck_assert(v.is_int);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "b"), &s, &v, &d), 0);
  ck_assert(!v.is_int); /* beyond 2^53 */
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "c"), &s, &v, &d), 0);
  ck_assert(v.is_int && v.v[0] == 0);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "d"), &s, &v, &d), 0);
  ck_assert(isinf(v.v[0]));
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "e"), &s, &v, &d), 0);
  ck_assert(!v.is_int && v.v[0] == 1000);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "f"), &s, &v, &d), 0);
  ck_assert_int_eq(v.shape.rank, 2);
  ck_assert_uint_eq(v.shape.dim[0], 2);
  ck_assert_uint_eq(v.shape.dim[1], 0);
  ck_assert_uint_eq(v.n, 0);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "i"), &s, &v, &d), 0);
  ck_assert(isinf(v.v[0]) && v.v[0] < 0);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "k"), &s, &v, &d), 0);
  ck_assert_uint_eq(v.shape.dim[0], 1);
  ck_assert_int_eq(d.nerr, 0);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "g"), &s, &v, &d), -1);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "h"), &s, &v, &d), -1);
  ck_assert_int_eq(bayes_value_from_yaml(&a, bayes_ymap_get(r, "j"), &s, &v, &d), -1);
  ck_assert_int_eq(d.nerr, 3);
  out = diag_str(&d);
  ck_assert_str_eq(out, "v.yaml:7:4: error: expected a number, found '0x10'\ng: 0x10\n   ^~~~\n"
                        "v.yaml:8:4: error: expected a number, found '1_000'\nh: 1_000\n"
                        "   ^~~~~\n"
                        "v.yaml:10:4: error: expected a number, found '3'\nj: '3'\n   ^~~\n");
  free(out);
  bayes_diag_destroy(&d);
  bayes_arena_destroy(&a);
}
END_TEST

static int load_csv(bayes_arena *a, bayes_src *s, const char *text, const char *col,
                    bayes_value *v, char **diag)
{
  bayes_diag d;
  bayes_diag_init(&d);
  ck_assert_int_eq(bayes_src_read(s, write_file("obs.csv", text, strlen(text))), 0);
  int rc = bayes_data_load_csv_column(a, s, col, v, &d);
  *diag = diag_str(&d);
  if (rc == 0) ck_assert_int_eq(d.nerr, 0);
  else ck_assert_int_ge(d.nerr, 1);
  bayes_diag_destroy(&d);
  return rc;
}

START_TEST(data_csv)
{
  bayes_arena a;
  bayes_src s;
  bayes_value v;
  char *out;
  bayes_arena_init(&a);
  const char *t = "times,\"accel, g\",note\r\n2.4,0.0,\"a \"\"quoted\"\" note\"\r\n"
                  "2.6,-1.3,\"two\nlines\"\r\n3.2,-2.7, plain \r\n\r\n\n";
  ck_assert_int_eq(load_csv(&a, &s, t, "accel, g", &v, &out), 0);
  ck_assert_str_eq(out, "");
  free(out);
  ck_assert_uint_eq(v.n, 3);
  ck_assert_int_eq(v.shape.rank, 1);
  ck_assert_uint_eq(v.shape.dim[0], 3);
  ck_assert(!v.is_int);
  ck_assert(v.v[0] == 0.0 && v.v[1] == -1.3 && v.v[2] == -2.7);
  ck_assert_int_eq(v.line, 1);
  ck_assert_int_eq(v.col, 7);
  ck_assert_ptr_eq(v.src, &s);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "\xEF\xBB\xBFn\n1\n2\n3", "n", &v, &out), 0);
  free(out);
  ck_assert(v.is_int);
  ck_assert_uint_eq(v.n, 3);
  ck_assert(v.v[2] == 3);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n", "b", &v, &out), 0); /* header only */
  free(out);
  ck_assert_uint_eq(v.n, 0);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,Inf\n2,NaN\n", "b", &v, &out), 0);
  free(out);
  ck_assert(isinf(v.v[0]) && isnan(v.v[1]));
  bayes_src_destroy(&s);
  bayes_arena_destroy(&a);
}
END_TEST

START_TEST(data_csv_errors)
{
  bayes_arena a;
  bayes_src s;
  bayes_value v;
  char *out, want[1024];
  bayes_arena_init(&a);

  ck_assert_int_eq(load_csv(&a, &s, "a,b,c\n1,2,3\n", "flux", &v, &out), -1);
  snprintf(want, sizeof want,
           "%s:1:1: error: no column 'flux' in %s; columns are: a, b, c\na,b,c\n^~~~~\n",
           s.path, s.path);
  ck_assert_str_eq(out, want);
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,2\n3,x7\n", "b", &v, &out), -1);
  snprintf(want, sizeof want,
           "%s:3:3: error: expected a number in column 'b' at row 2, found 'x7'\n3,x7\n  ^~\n",
           s.path);
  ck_assert_str_eq(out, want);
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,2\n3,NA\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":3:3: error: missing value at row 2\n3,NA\n  ^~\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":2:3: error: missing value at row 1\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,2\n\n3,4\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":3:1: error: row 2 has 1 field, but the header has 2\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,\"2\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":2:3: error: unterminated quoted field\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "a,b\n1,\"2\"x\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":2:6: error: unexpected character after a quoted field\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "\n\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, "obs.csv: error: the file is empty\n"));
  free(out);
  bayes_src_destroy(&s);

  ck_assert_int_eq(load_csv(&a, &s, "b,a,b\n1,2,3\n", "b", &v, &out), -1);
  ck_assert_ptr_nonnull(strstr(out, ":1:5: error: column 'b' appears twice in the header\n"));
  free(out);
  bayes_src_destroy(&s);
  bayes_arena_destroy(&a);
}
END_TEST

/* ---- robustness ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(rng_state >> 33);
}

static const char *const expr_seeds[] = {
  "mu + tau * eta", "normal(0, 1) [J]", "[log(x[i]) for i in 1:N]",
  "recur(first, n, (prev, t) -> prev * rho + eps[t])", "c ? a : -b^2'",
  "gp(x, kernel = rbf(ell, a), noise = s)", "x[2:N, :, :3] @ B'", "!(a <= b) && c != d",
};

static const char *const yaml_seeds[] = {
  "model: m\ndata:\n  J: 8\n  y: [28, 8, -3, 7]\nparameters:\n  mu: normal(0, 5)\n",
  "{\"N\": 3, \"y\": [[1, 2], [3, 4]], \"z\": \"Inf\"}",
  "a: &x {b: [1, 2, {c: d}]}\ne: *x\nf: |\n  x + y\n  * z\ng: 'q''s'\n",
};

/* Random text from an alphabet that is mostly expression syntax, or raw bytes. */
static size_t random_text(char *buf, size_t cap, int raw)
{
  static const char alpha[] = "abxyz_019.eE+-*/^@<>=!?:,()[]' \t\n&|$%\"#{}";
  size_t n = rnd() % (cap - 1);
  for (size_t i = 0; i < n; i++)
    buf[i] = raw ? (char)(rnd() % 256) : alpha[rnd() % (sizeof alpha - 1)];
  buf[n] = '\0';
  return n;
}

static size_t mutate(char *buf, size_t cap, const char *seed)
{
  size_t n = strlen(seed);
  memcpy(buf, seed, n);
  int k = 1 + (int)(rnd() % 4);
  for (int m = 0; m < k; m++) {
    size_t pos = n ? rnd() % n : 0;
    char c = rnd() % 8 ? "()[],:-'\"&*{}\n #"[rnd() % 16] : (char)(rnd() % 256);
    switch (rnd() % 3) {
    case 0:
      if (n) buf[pos] = c;
      break;
    case 1:
      if (n + 1 < cap) {
        memmove(buf + pos + 1, buf + pos, n - pos);
        buf[pos] = c;
        n++;
      }
      break;
    default:
      if (n) {
        memmove(buf + pos, buf + pos + 1, n - pos - 1);
        n--;
      }
      break;
    }
  }
  buf[n] = '\0';
  return n;
}

START_TEST(robust_parser)
{
  char buf[256];
  int nok = 0, nbad = 0;
  rng_state = 20261125;
  for (int i = 0; i < 2000; i++) {
    if (i % 2) mutate(buf, sizeof buf, expr_seeds[rnd() % 8]);
    else random_text(buf, 64, i % 4 == 2);
    bayes_arena a;
    bayes_diag d;
    bayes_src s;
    bayes_arena_init(&a);
    bayes_diag_init(&d);
    ck_assert_int_eq(bayes_src_from_string(&s, "f.yaml", buf), 0);
    bayes_expr_loc loc = {&s, 1, 1, 1};
    bayes_ast *e = bayes_parse_expr(&a, buf, &loc, &d);
    ck_assert_msg((e != NULL) == (d.nerr == 0), "input \"%s\"", buf);
    bayes_sb sb;
    bayes_sb_init(&sb);
    if (e) bayes_ast_dump(e, &sb);
    bayes_diag_format(&d, &sb);
    ck_assert(!sb.oom);
    bayes_sb_destroy(&sb);
    nok += e != NULL;
    nbad += e == NULL;
    bayes_diag_destroy(&d);
    bayes_src_destroy(&s);
    bayes_arena_destroy(&a);
  }
  /* the mix must exercise both outcomes, or the test proves nothing */
  ck_assert_int_gt(nok, 50);
  ck_assert_int_gt(nbad, 50);
}
END_TEST

START_TEST(robust_yaml)
{
  char buf[512];
  int nok = 0, nbad = 0;
  rng_state = 7;
  for (int i = 0; i < 2000; i++) {
    size_t n;
    if (i % 4 == 0) n = random_text(buf, 128, 1);
    else n = mutate(buf, sizeof buf, yaml_seeds[rnd() % 3]);
    bayes_arena a;
    bayes_diag d;
    bayes_arena_init(&a);
    bayes_diag_init(&d);
    bayes_src s = {"f.yaml", buf, n};
    bayes_ynode *r = bayes_yaml_load(&a, &s, &d);
    ck_assert((r != NULL) == (d.nerr == 0));
    if (r && r->kind == BAYES_Y_MAP) {
      /* the data path must cope with whatever the tree holds */
      bayes_value v;
      for (size_t k = 0; k < r->n; k++) (void)bayes_value_from_yaml(&a, r->vals[k], &s, &v, &d);
    }
    bayes_sb sb;
    bayes_sb_init(&sb);
    bayes_diag_format(&d, &sb);
    bayes_sb_destroy(&sb);
    nok += r != NULL;
    nbad += r == NULL;
    bayes_diag_destroy(&d);
    bayes_arena_destroy(&a);
  }
  ck_assert_int_gt(nok, 50);
  ck_assert_int_gt(nbad, 50);
}
END_TEST

START_TEST(robust_oom)
{
  /* every allocation of a parse and a load, failed in turn: no crash, always reported */
  const char *yaml = "a: &x {b: [1, 2.5, [3, 4]]}\nc: *x\nd: \"q\"\n";
  for (long k = 1; k < 200; k++) {
    bayes_arena a;
    bayes_diag d;
    bayes_src s = {"o.yaml", (char *)yaml, strlen(yaml)};
    bayes_arena_init(&a);
    bayes_diag_init(&d);
    bayes_fail_alloc_after(k);
    bayes_ast *e = bayes_parse_expr(&a, "f(a, k = [x[i] for i in 1:N]) + b'", NULL, &d);
    bayes_ynode *r = bayes_yaml_load(&a, &s, &d);
    bayes_fail_alloc_after(0);
    ck_assert(e || d.nerr > 0 || d.oom);
    ck_assert(r || d.nerr > 0 || d.oom);
    bayes_diag_destroy(&d);
    bayes_arena_destroy(&a);
  }
}
END_TEST

static Suite *frontend_suite(void)
{
  Suite *s = suite_create("frontend");
  TCase *tc = tcase_create("diag");
  tcase_add_test(tc, diag_caret);
  tcase_add_test(tc, diag_tabs_clip_levels);
  tcase_add_test(tc, diag_no_location);
  tcase_add_test(tc, diag_utf8_columns);
  tcase_add_test(tc, diag_limit);
  tcase_add_test(tc, diag_oom);
  tcase_add_test(tc, src_read_binary);
  tcase_add_test(tc, suggest);
  suite_add_tcase(s, tc);

  tc = tcase_create("yaml");
  tcase_add_test(tc, yaml_positions);
  tcase_add_test(tc, yaml_scalar_nul_escape);
  tcase_add_test(tc, yaml_duplicates);
  tcase_add_test(tc, yaml_aliases);
  tcase_add_test(tc, yaml_alias_bomb);
  tcase_add_test(tc, yaml_depth);
  tcase_add_test(tc, yaml_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("parser");
  tcase_add_test(tc, parse_literals_names);
  tcase_add_test(tc, parse_number_kinds);
  tcase_add_test(tc, parse_precedence);
  tcase_add_test(tc, parse_postfix);
  tcase_add_test(tc, parse_vectors_lambdas);
  tcase_add_test(tc, parse_positions);
  tcase_add_test(tc, parse_multiline_error);
  tcase_add_test(tc, parse_errors);
  tcase_add_test(tc, parse_depth_limit);
  tcase_add_test(tc, parse_long_inputs);
  suite_add_tcase(s, tc);

  tc = tcase_create("data");
  tcase_add_test(tc, data_json);
  tcase_add_test(tc, data_json_errors);
  tcase_add_test(tc, data_value_from_yaml);
  tcase_add_test(tc, data_csv);
  tcase_add_test(tc, data_csv_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("robustness");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, robust_parser);
  tcase_add_test(tc, robust_yaml);
  tcase_add_test(tc, robust_oom);
  suite_add_tcase(s, tc);
  return s;
}

static void remove_tmpdir(void)
{
  if (!tmpdir[0]) return;
  static const char *const names[] = {"nul.yaml", "empty.yaml", "d.json", "c.json", "bad.json",
                                      "r.json", "l.json", "dup.json", "trunc.json", "obs.csv",
                                      NULL};
  char p[600];
  for (int i = 0; names[i]; i++) {
    snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
    unlink(p);
  }
  rmdir(tmpdir);
}

int main(void)
{
  if (make_tmpdir() != 0) {
    perror("mkdtemp");
    return EXIT_FAILURE;
  }
  SRunner *sr = srunner_create(frontend_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  remove_tmpdir();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
