/* test_util.c — unit tests of util.c: the allocation wrapper and its fault injection,
 * bayes_grow, arenas, string buffers (including shortest round-trip doubles and the
 * out-of-memory flag) and the edit distance used for "did you mean". */
#include <check.h>

#include "testutil.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ==== allocation wrapper ==== */

START_TEST(test_alloc_basic)
{
  long c0 = bayes_alloc_count();
  char *p = bayes_malloc(10);
  ck_assert_ptr_nonnull(p);
  memset(p, 'x', 10);
  int *z = bayes_calloc(100, sizeof *z);
  ck_assert_ptr_nonnull(z);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(z[i], 0);
  p = bayes_realloc(p, 1000);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(p[9], 'x');
  char *s = bayes_strdup("hello");
  ck_assert_str_eq(s, "hello");
  char *t = bayes_strndup("hello world", 5);
  ck_assert_str_eq(t, "hello");
  ck_assert_int_eq(bayes_alloc_count() - c0, 5);
  /* zero-size requests still give a pointer that can be freed */
  void *e = bayes_malloc(0), *f = bayes_calloc(0, 8);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(f);
  bayes_free(e);
  bayes_free(f);
  bayes_free(p);
  bayes_free(z);
  bayes_free(s);
  bayes_free(t);
  bayes_free(NULL);
}
END_TEST

/* The k-th allocation from now fails (returns NULL), exactly once, and is counted. */
START_TEST(test_fail_alloc_after)
{
  for (long k = 1; k <= 4; k++) {
    bayes_fail_alloc_after(k);
    long c0 = bayes_alloc_count();
    void *got[6];
    for (int i = 0; i < 6; i++) {
      got[i] = (i % 3 == 0) ? bayes_malloc(8) : (i % 3 == 1) ? bayes_calloc(2, 8)
                                                             : bayes_strdup("abc");
      if (i == k - 1)
        ck_assert_msg(got[i] == NULL, "k=%ld: allocation %d should fail", k, i + 1);
      else
        ck_assert_msg(got[i] != NULL, "k=%ld: allocation %d should succeed", k, i + 1);
    }
    ck_assert_int_eq(bayes_alloc_count() - c0, 6);
    for (int i = 0; i < 6; i++) bayes_free(got[i]);
  }
  /* realloc failure leaves the old block alone */
  char *p = bayes_strdup("keep");
  bayes_fail_alloc_after(1);
  ck_assert_ptr_null(bayes_realloc(p, 1 << 20));
  ck_assert_str_eq(p, "keep");
  bayes_free(p);
  /* 0 turns injection off */
  bayes_fail_alloc_after(3);
  bayes_fail_alloc_after(0);
  for (int i = 0; i < 10; i++) {
    void *q = bayes_malloc(4);
    ck_assert_ptr_nonnull(q);
    bayes_free(q);
  }
}
END_TEST

START_TEST(test_grow)
{
  double *a = NULL;
  size_t cap = 0;
  ck_assert_int_eq(bayes_grow(&a, &cap, 1, sizeof *a), 0);
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_ge(cap, 1);
  for (size_t n = 1; n <= 1000; n++) {
    ck_assert_int_eq(bayes_grow(&a, &cap, n, sizeof *a), 0);
    ck_assert_uint_ge(cap, n);
    a[n - 1] = (double)n;
  }
  for (size_t n = 1; n <= 1000; n++) ck_assert(a[n - 1] == (double)n);
  /* growth is geometric: few reallocations for many appends */
  double *b = NULL;
  size_t bcap = 0;
  long c0 = bayes_alloc_count();
  for (size_t n = 1; n <= 100000; n++) ck_assert_int_eq(bayes_grow(&b, &bcap, n, 8), 0);
  ck_assert_int_le(bayes_alloc_count() - c0, 20);
  bayes_free(b);
  /* no-op when the capacity suffices */
  size_t old = cap;
  double *olda = a;
  c0 = bayes_alloc_count();
  ck_assert_int_eq(bayes_grow(&a, &cap, old, sizeof *a), 0);
  ck_assert_int_eq(bayes_alloc_count(), c0);
  ck_assert_ptr_eq(a, olda);
  /* out of memory: -1, array and capacity unchanged */
  bayes_fail_alloc_after(1);
  ck_assert_int_eq(bayes_grow(&a, &cap, old + 1, sizeof *a), -1);
  ck_assert_ptr_eq(a, olda);
  ck_assert_uint_eq(cap, old);
  ck_assert(a[999] == 1000.0);
  /* a size whose byte count overflows size_t: -1 without allocating */
  c0 = bayes_alloc_count();
  ck_assert_int_eq(bayes_grow(&a, &cap, SIZE_MAX / 4, sizeof *a), -1);
  ck_assert_int_eq(bayes_grow(&a, &cap, SIZE_MAX, 1), -1);
  ck_assert_int_eq(bayes_alloc_count(), c0);
  ck_assert_ptr_eq(a, olda);
  ck_assert_uint_eq(cap, old);
  bayes_free(a);
}
END_TEST

/* ==== arena ==== */

START_TEST(test_arena)
{
  bayes_arena a;
  bayes_arena_init(&a);
  static const size_t sizes[] = {1, 3, 7, 15, 16, 17, 31, 100, 1000, 5000, 65536, 65537,
                                 200000, 1, 2};
  unsigned char *ps[sizeof sizes / sizeof *sizes];
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    ps[i] = bayes_arena_alloc(&a, sizes[i]);
    ck_assert_ptr_nonnull(ps[i]);
    ck_assert_uint_eq((uintptr_t)ps[i] % 16, 0);
    for (size_t j = 0; j < sizes[i]; j++) ck_assert_uint_eq(ps[i][j], 0);
    memset(ps[i], 0xA0 + (int)i, sizes[i]);
  }
  /* no block overlaps another: each still holds its own fill */
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    for (size_t j = 0; j < sizes[i]; j++) ck_assert_uint_eq(ps[i][j], 0xA0 + i);
  /* zero bytes still gives a distinct, aligned pointer */
  void *z1 = bayes_arena_alloc(&a, 0), *z2 = bayes_arena_alloc(&a, 0);
  ck_assert_ptr_nonnull(z1);
  ck_assert_ptr_ne(z1, z2);
  char *s = bayes_arena_strdup(&a, "alpha"), *t = bayes_arena_strndup(&a, "betagamma", 4);
  ck_assert_str_eq(s, "alpha");
  ck_assert_str_eq(t, "beta");
  bayes_arena_destroy(&a);
  ck_assert_ptr_null(a.head);
  bayes_arena_destroy(&a); /* twice is harmless */
  /* usable again after destroy */
  ck_assert_ptr_nonnull(bayes_arena_alloc(&a, 10));
  bayes_arena_destroy(&a);
}
END_TEST

/* A large one-off block must not strand the partly used chunk: small allocations after
 * it continue in the same chunk (adjacent addresses), without a new malloc. */
START_TEST(test_arena_large_keeps_chunk)
{
  bayes_arena a;
  bayes_arena_init(&a);
  char *p1 = bayes_arena_alloc(&a, 16);
  long c0 = bayes_alloc_count();
  char *big = bayes_arena_alloc(&a, 1 << 20);
  ck_assert_ptr_nonnull(big);
  ck_assert_int_eq(bayes_alloc_count() - c0, 1);
  memset(big, 1, 1 << 20);
  char *p2 = bayes_arena_alloc(&a, 16);
  ck_assert_int_eq(bayes_alloc_count() - c0, 1);
  ck_assert_ptr_eq(p2, p1 + 16);
  bayes_arena_destroy(&a);
}
END_TEST

/* Memory is zeroed even when the allocator hands back dirty memory: fill a block, free
 * it, and let the arena's next chunk likely reuse it. */
START_TEST(test_arena_zeroes_reused_memory)
{
  for (int round = 0; round < 4; round++) {
    size_t n = 60000;
    unsigned char *dirty = malloc(65536 + 64);
    ck_assert_ptr_nonnull(dirty);
    memset(dirty, 0xFF, 65536 + 64);
    free(dirty);
    bayes_arena a;
    bayes_arena_init(&a);
    unsigned char *p = bayes_arena_alloc(&a, n);
    ck_assert_ptr_nonnull(p);
    for (size_t j = 0; j < n; j++) ck_assert_uint_eq(p[j], 0);
    bayes_arena_destroy(&a);
  }
}
END_TEST

START_TEST(test_arena_oom)
{
  bayes_arena a;
  bayes_arena_init(&a);
  bayes_fail_alloc_after(1);
  ck_assert_ptr_null(bayes_arena_alloc(&a, 8));
  ck_assert_ptr_null(a.head);
  ck_assert_ptr_nonnull(bayes_arena_alloc(&a, 8));
  bayes_fail_alloc_after(1);
  ck_assert_ptr_null(bayes_arena_alloc(&a, 100000)); /* needs a new chunk */
  bayes_fail_alloc_after(1);
  ck_assert_ptr_null(bayes_arena_strndup(&a, "y", 200000));
  ck_assert_str_eq(bayes_arena_strdup(&a, "ok"), "ok");
  bayes_arena_destroy(&a);
}
END_TEST

/* ==== string buffer ==== */

START_TEST(test_sb_basic)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  ck_assert_str_eq(bayes_sb_cstr(&sb), "");
  bayes_sb_puts(&sb, "ab");
  bayes_sb_putc(&sb, 'c');
  bayes_sb_putn(&sb, "defgh", 2);
  bayes_sb_printf(&sb, "%s", "");
  bayes_sb_printf(&sb, "[%d|%5.2f|%s]", 42, 3.14159, "x");
  ck_assert_str_eq(bayes_sb_cstr(&sb), "abcde[42| 3.14|x]");
  ck_assert_uint_eq(sb.len, strlen("abcde[42| 3.14|x]"));
  /* long output crosses several growths */
  for (int i = 0; i < 1000; i++) bayes_sb_printf(&sb, "%04d", i);
  ck_assert_uint_eq(sb.len, 17 + 4000);
  ck_assert_int_eq(strncmp(bayes_sb_cstr(&sb) + 17 + 4 * 999, "0999", 4), 0);
  ck_assert_int_eq(sb.oom, 0);
  bayes_sb_destroy(&sb);
  ck_assert_str_eq(bayes_sb_cstr(&sb), "");
  ck_assert_uint_eq(sb.len, 0);
}
END_TEST

START_TEST(test_sb_oom)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_puts(&sb, "start");
  /* fill up to the capacity so the next append must grow */
  while (sb.len + 1 < sb.cap) bayes_sb_putc(&sb, '.');
  size_t len = sb.len;
  bayes_fail_alloc_after(1);
  bayes_sb_puts(&sb, "this needs more room");
  ck_assert_int_eq(sb.oom, 1);
  ck_assert_uint_eq(sb.len, len);
  /* further appends are ignored even though memory is available again */
  bayes_sb_puts(&sb, "x");
  bayes_sb_printf(&sb, "%d", 7);
  bayes_sb_double(&sb, 1.5);
  ck_assert_uint_eq(sb.len, len);
  ck_assert_int_eq(sb.oom, 1);
  ck_assert_int_eq(strncmp(bayes_sb_cstr(&sb), "start", 5), 0);
  bayes_sb_destroy(&sb);
  ck_assert_int_eq(sb.oom, 0); /* destroy resets */
  /* failure on the very first allocation: cstr is still a valid string */
  bayes_fail_alloc_after(1);
  bayes_sb_printf(&sb, "%s", "abc");
  ck_assert_int_eq(sb.oom, 1);
  ck_assert_str_eq(bayes_sb_cstr(&sb), "");
  bayes_sb_destroy(&sb);
}
END_TEST

static char *dstr(double x, char *buf, size_t len)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_double(&sb, x);
  ck_assert_int_eq(sb.oom, 0);
  snprintf(buf, len, "%s", bayes_sb_cstr(&sb));
  bayes_sb_destroy(&sb);
  return buf;
}

/* Round trip: strtod of the text gives back exactly x (including the sign of zero), and
 * the text is short where it can be: values that 15 significant digits represent exactly
 * get at most those ("%.15g"), the others at most 17 (the formatter's contract, util.h). */
static void check_roundtrip(double x)
{
  char buf[64];
  dstr(x, buf, sizeof buf);
  double r = strtod(buf, NULL);
  ck_assert_msg(memcmp(&r, &x, sizeof x) == 0, "%.17g printed as %s reads back as %.17g", x,
                buf, r);
  char ref[64];
  snprintf(ref, sizeof ref, "%.15g", x);
  if (strtod(ref, NULL) != x || (fabs(x) < DBL_MIN && x != 0)) return; /* 17 digits */
  ck_assert_msg(strlen(buf) <= strlen(ref), "%.17g printed as %s; %s is shorter", x, buf,
                ref);
}

START_TEST(test_sb_double)
{
  char buf[64];
  ck_assert_str_eq(dstr(0.1, buf, sizeof buf), "0.1");
  ck_assert_str_eq(dstr(1.0, buf, sizeof buf), "1");
  ck_assert_str_eq(dstr(-2.5, buf, sizeof buf), "-2.5");
  ck_assert_str_eq(dstr(1e-300, buf, sizeof buf), "1e-300");
  ck_assert_str_eq(dstr(1.0 / 3.0, buf, sizeof buf), "0.33333333333333331");
  ck_assert_str_eq(dstr(0.1 + 0.2, buf, sizeof buf), "0.30000000000000004");
  ck_assert_str_eq(dstr(-0.0, buf, sizeof buf), "-0");
  ck_assert_str_eq(dstr(0.0, buf, sizeof buf), "0");
  ck_assert_str_eq(dstr(NAN, buf, sizeof buf), "NaN");
  ck_assert_str_eq(dstr(INFINITY, buf, sizeof buf), "Infinity");
  ck_assert_str_eq(dstr(-INFINITY, buf, sizeof buf), "-Infinity");
  ck_assert_str_eq(dstr(1e23, buf, sizeof buf), "1e+23");
  ck_assert_str_eq(dstr(123456789012.0, buf, sizeof buf), "123456789012");
  static const double xs[] = {0.1, 0.2, 0.3, 1e-300, 1e300, -0.0, 0.0, DBL_MAX, DBL_MIN,
                              -DBL_MAX, 1.0 / 3.0, 2.0 / 3.0, M_PI, M_E, 1e23, 9.5e-5,
                              123456.789, 0.1 + 0.2, 1 - DBL_EPSILON, 1 + DBL_EPSILON,
                              4503599627370497.0, 9007199254740991.0};
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) check_roundtrip(xs[i]);
  /* a spread of bit patterns over the whole normal range */
  uint64_t s = 88172645463325252ull;
  for (int i = 0; i < 20000; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    double x;
    memcpy(&x, &s, sizeof x);
    if (!isfinite(x) || (x != 0 && fabs(x) < DBL_MIN)) continue;
    check_roundtrip(x);
  }
}
END_TEST

/* Subnormals must still read back exactly (shortness is checked for normals above). */
START_TEST(test_sb_double_subnormal)
{
  static const double xs[] = {4.9406564584124654e-324, 2.2250738585072009e-308, 1e-310,
                              -3e-320};
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
    char buf[64];
    dstr(xs[i], buf, sizeof buf);
    double r = strtod(buf, NULL);
    ck_assert_msg(r == xs[i], "%.17g printed as %s", xs[i], buf);
  }
}
END_TEST

/* ==== edit distance ==== */

START_TEST(test_edit_distance)
{
  ck_assert_uint_eq(bayes_edit_distance("", ""), 0);
  ck_assert_uint_eq(bayes_edit_distance("abc", "abc"), 0);
  ck_assert_uint_eq(bayes_edit_distance("", "abc"), 3);
  ck_assert_uint_eq(bayes_edit_distance("abc", ""), 3);
  ck_assert_uint_eq(bayes_edit_distance("kitten", "sitting"), 3);
  ck_assert_uint_eq(bayes_edit_distance("sitting", "kitten"), 3);
  ck_assert_uint_eq(bayes_edit_distance("flaw", "lawn"), 2);
  ck_assert_uint_eq(bayes_edit_distance("normal", "normla"), 2); /* no transpositions */
  ck_assert_uint_eq(bayes_edit_distance("sigma", "sigmas"), 1);
  ck_assert_uint_eq(bayes_edit_distance("Sigma", "sigma"), 1);  /* case matters */
  /* 64 characters is the limit; beyond it the distance is "infinite" */
  char a[70], b[70];
  memset(a, 'a', 64);
  a[64] = 0;
  memset(b, 'a', 64);
  b[63] = 'b';
  b[64] = 0;
  ck_assert_uint_eq(bayes_edit_distance(a, b), 1);
  memset(a, 'a', 65);
  a[65] = 0;
  ck_assert_uint_eq(bayes_edit_distance(a, "a"), (size_t)-1);
  ck_assert_uint_eq(bayes_edit_distance("a", a), (size_t)-1);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("util");
  tcase_add_test(tc, test_alloc_basic);
  tcase_add_test(tc, test_fail_alloc_after);
  tcase_add_test(tc, test_grow);
  tcase_add_test(tc, test_arena);
  tcase_add_test(tc, test_arena_large_keeps_chunk);
  tcase_add_test(tc, test_arena_zeroes_reused_memory);
  tcase_add_test(tc, test_arena_oom);
  tcase_add_test(tc, test_sb_basic);
  tcase_add_test(tc, test_sb_oom);
  tcase_add_test(tc, test_sb_double);
  tcase_add_test(tc, test_sb_double_subnormal);
  tcase_add_test(tc, test_edit_distance);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
