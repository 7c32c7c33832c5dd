/* test_tape.c — unit tests of the AD engine in tape.c: shapes and broadcasting rules,
 * program building (slots, constants, aliasing), layout, and execution of small
 * hand-built programs forward and backward (adjoint zeroing, accumulation through
 * aliased slots, Jacobian terms on and off, failure recording, no allocation). */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "tape.h"
#include "util.h"

/* ==== test ops (so the engine is tested apart from the real op library) ==== */

/* square: y = x^2 elementwise; the partial 2x is stored in work when ex->grad (the fused
 * pattern of tape.h); bwd uses it. Counts its calls. */
static int n_square_fwd, n_square_bwd;
static void square_fwd(const bayes_bound *b)
{
  n_square_fwd++;
  for (size_t i = 0; i < b->yn[0]; i++) {
    double x = b->x[0][i * bayes_inc(b->xn[0])];
    b->y[0][i] = x * x;
    if (b->ex->grad) b->work[i] = 2 * x;
  }
}
static void square_bwd(const bayes_bound *b)
{
  n_square_bwd++;
  if (!b->gx[0]) return;
  for (size_t i = 0; i < b->yn[0]; i++) b->gx[0][i * bayes_inc(b->xn[0])] += b->gy[0][i] * b->work[i];
}
static const bayes_op op_square = {"square", square_fwd, square_bwd, NULL};

/* mul: y = x0 * x1 elementwise (each input n or 1 elements) */
static void mul_fwd(const bayes_bound *b)
{
  size_t i0 = bayes_inc(b->xn[0]), i1 = bayes_inc(b->xn[1]);
  for (size_t i = 0; i < b->yn[0]; i++) b->y[0][i] = b->x[0][i * i0] * b->x[1][i * i1];
}
static void mul_bwd(const bayes_bound *b)
{
  size_t i0 = bayes_inc(b->xn[0]), i1 = bayes_inc(b->xn[1]);
  for (size_t i = 0; i < b->yn[0]; i++) {
    if (b->gx[0]) b->gx[0][i * i0] += b->gy[0][i] * b->x[1][i * i1];
    if (b->gx[1]) b->gx[1][i * i1] += b->gy[0][i] * b->x[0][i * i0];
  }
}
static const bayes_op op_mul = {"mul", mul_fwd, mul_bwd, NULL};

/* check_pos: y = x, but fails (bayes_exec_fail) if any x <= 0 */
static int n_check_fwd;
static void check_fwd(const bayes_bound *b)
{
  n_check_fwd++;
  for (size_t i = 0; i < b->yn[0]; i++) {
    if (!(b->x[0][i] > 0)) {
      bayes_exec_fail(b, "element %zu is %g, not positive (%s)", i, b->x[0][i],
                      b->ins->op->name);
      return;
    }
    b->y[0][i] = b->x[0][i];
  }
}
static void copy_bwd(const bayes_bound *b)
{
  if (b->gx[0])
    for (size_t i = 0; i < b->yn[0]; i++) b->gx[0][i] += b->gy[0][i];
}
static const bayes_op op_check = {"check_pos", check_fwd, copy_bwd, NULL};

/* an op with no bwd: integer-valued floor */
static void floor_fwd(const bayes_bound *b)
{
  for (size_t i = 0; i < b->yn[0]; i++) b->y[0][i] = floor(b->x[0][i]);
}
static const bayes_op op_floor = {"floor", floor_fwd, NULL, NULL};

/* ==== shapes ==== */

static bayes_shape shp(int rank, size_t d0, size_t d1, size_t d2, size_t d3)
{
  bayes_shape s = bayes_shape_scalar();
  s.rank = rank;
  size_t d[4] = {d0, d1, d2, d3};
  for (int i = 0; i < rank; i++) s.dim[i] = d[i];
  return s;
}

START_TEST(test_shape_basics)
{
  bayes_shape s = bayes_shape_scalar(), v = bayes_shape_vec(5), m = bayes_shape_mat(3, 4);
  ck_assert_int_eq(s.rank, 0);
  ck_assert_uint_eq(bayes_shape_size(&s), 1);
  ck_assert_int_eq(v.rank, 1);
  ck_assert_uint_eq(bayes_shape_size(&v), 5);
  ck_assert_int_eq(m.rank, 2);
  ck_assert_uint_eq(bayes_shape_size(&m), 12);
  bayes_shape r4 = shp(4, 2, 3, 4, 5), e = bayes_shape_vec(0), e2 = bayes_shape_mat(3, 0);
  ck_assert_uint_eq(bayes_shape_size(&r4), 120);
  ck_assert_uint_eq(bayes_shape_size(&e), 0);
  ck_assert_uint_eq(bayes_shape_size(&e2), 0);

  ck_assert(bayes_shape_eq(&m, &m));
  bayes_shape m2 = bayes_shape_mat(3, 4), mt = bayes_shape_mat(4, 3);
  ck_assert(bayes_shape_eq(&m, &m2));
  ck_assert(!bayes_shape_eq(&m, &mt));
  bayes_shape v12 = bayes_shape_vec(12), v1 = bayes_shape_vec(1);
  ck_assert(!bayes_shape_eq(&m, &v12)); /* same size, different rank */
  ck_assert(!bayes_shape_eq(&s, &v1));  /* scalar is not [1] */
  /* unused dims do not matter */
  bayes_shape junk = bayes_shape_vec(5);
  junk.dim[2] = 99;
  ck_assert(bayes_shape_eq(&junk, &v));
}
END_TEST

static void expect_bcast(bayes_shape a, bayes_shape b, bool ok, bayes_shape want)
{
  bayes_shape out = bayes_shape_vec(777), before = out;
  char sa[64], sb[64], so[64];
  bool got = bayes_shape_broadcast(&a, &b, &out);
  ck_assert_msg(got == ok, "%s with %s: expected %s", bayes_shape_str(&a, sa, sizeof sa),
                bayes_shape_str(&b, sb, sizeof sb), ok ? "to broadcast" : "failure");
  if (ok)
    ck_assert_msg(bayes_shape_eq(&out, &want), "%s with %s gave %s",
                  bayes_shape_str(&a, sa, sizeof sa), bayes_shape_str(&b, sb, sizeof sb),
                  bayes_shape_str(&out, so, sizeof so));
  else
    ck_assert_msg(bayes_shape_eq(&out, &before), "failure must leave *out alone");
  /* symmetric */
  bayes_shape out2;
  ck_assert(bayes_shape_broadcast(&b, &a, &out2) == ok);
  if (ok) ck_assert(bayes_shape_eq(&out2, &want));
}

START_TEST(test_shape_broadcast)
{
  bayes_shape s = bayes_shape_scalar();
  expect_bcast(s, s, true, s);
  expect_bcast(s, bayes_shape_vec(3), true, bayes_shape_vec(3));
  expect_bcast(s, bayes_shape_mat(2, 3), true, bayes_shape_mat(2, 3));
  expect_bcast(bayes_shape_vec(3), bayes_shape_vec(3), true, bayes_shape_vec(3));
  expect_bcast(bayes_shape_vec(1), bayes_shape_vec(4), true, bayes_shape_vec(4));
  expect_bcast(bayes_shape_vec(3), bayes_shape_vec(4), false, s);
  /* aligned from the right: [2,3] with [3] works, with [2] does not */
  expect_bcast(bayes_shape_mat(2, 3), bayes_shape_vec(3), true, bayes_shape_mat(2, 3));
  expect_bcast(bayes_shape_mat(2, 3), bayes_shape_vec(2), false, s);
  expect_bcast(bayes_shape_mat(2, 1), bayes_shape_vec(3), true, bayes_shape_mat(2, 3));
  expect_bcast(bayes_shape_mat(2, 1), bayes_shape_mat(1, 3), true, bayes_shape_mat(2, 3));
  expect_bcast(bayes_shape_mat(4, 1), bayes_shape_mat(3, 1), false, s);
  expect_bcast(shp(3, 5, 1, 4, 0), bayes_shape_mat(3, 1), true, shp(3, 5, 3, 4, 0));
  expect_bcast(shp(4, 2, 1, 3, 1), shp(3, 7, 1, 6, 0), true, shp(4, 2, 7, 3, 6));
  expect_bcast(shp(4, 2, 1, 3, 1), shp(3, 7, 2, 6, 0), false, s);
  /* zero-length dimensions: 0 with 1 gives 0, 0 with 3 does not broadcast */
  expect_bcast(bayes_shape_vec(0), bayes_shape_vec(1), true, bayes_shape_vec(0));
  expect_bcast(bayes_shape_vec(0), s, true, bayes_shape_vec(0));
  expect_bcast(bayes_shape_vec(0), bayes_shape_vec(3), false, s);
}
END_TEST

START_TEST(test_shape_str)
{
  char buf[64];
  bayes_shape s = bayes_shape_scalar();
  ck_assert_str_eq(bayes_shape_str(&s, buf, sizeof buf), "scalar");
  bayes_shape v = bayes_shape_vec(3);
  ck_assert_str_eq(bayes_shape_str(&v, buf, sizeof buf), "[3]");
  bayes_shape m = bayes_shape_mat(3, 4);
  ck_assert_str_eq(bayes_shape_str(&m, buf, sizeof buf), "[3, 4]");
  bayes_shape r = shp(4, 10, 0, 2, 12345);
  ck_assert_str_eq(bayes_shape_str(&r, buf, sizeof buf), "[10, 0, 2, 12345]");
  /* short buffers truncate, NUL-terminated, without writing past len */
  for (size_t len = 1; len < 20; len++) {
    char small[32];
    memset(small, '#', sizeof small);
    const char *got = bayes_shape_str(&r, small, len);
    ck_assert_ptr_eq(got, small);
    ck_assert_uint_lt(strlen(small), len);
    ck_assert_int_eq(strncmp(small, "[10, 0, 2, 12345]", strlen(small)), 0);
    for (size_t k = len; k < sizeof small; k++) ck_assert_int_eq(small[k], '#');
  }
}
END_TEST

/* ==== program building and layout ==== */

START_TEST(test_prog_build)
{
  bayes_prog p;
  ck_assert_int_eq(bayes_prog_init(&p), 0);
  bayes_shape v3 = bayes_shape_vec(3), sc = bayes_shape_scalar(), m23 = bayes_shape_mat(2, 3);
  int a = bayes_prog_slot(&p, &v3, BAYES_SLOT_ADJ);
  int b = bayes_prog_slot(&p, &sc, 0);
  double cv[6] = {1, 2, 3, 4, 5, 6};
  int c = bayes_prog_const(&p, &m23, 0, cv);
  int z = bayes_prog_const(&p, &v3, BAYES_SLOT_INT, NULL);
  int e = bayes_prog_const(&p, &(bayes_shape){1, {0}}, 0, NULL); /* empty constant */
  ck_assert_int_eq(a, 0);
  ck_assert_int_eq(b, 1);
  ck_assert_int_eq(c, 2);
  ck_assert_int_eq(z, 3);
  ck_assert_int_eq(e, 4);
  ck_assert_int_eq(p.nslots, 5);
  ck_assert_uint_eq(p.slots[a].n, 3);
  ck_assert_int_eq(p.slots[a].alias, -1);
  ck_assert_uint_eq(p.slots[c].flags, BAYES_SLOT_CONST);
  ck_assert_uint_eq(p.slots[z].flags, BAYES_SLOT_CONST | BAYES_SLOT_INT);
  ck_assert(bayes_shape_eq(&p.slots[c].shape, &m23));
  /* constants are copied (the caller's array may change) and zero-filled when v is NULL */
  cv[0] = 99;
  const double *pc = bayes_prog_const_ptr(&p, c);
  for (int i = 0; i < 6; i++) ck_assert(pc[i] == i + 1);
  for (int i = 0; i < 3; i++) ck_assert(bayes_prog_const_ptr(&p, z)[i] == 0);
  ck_assert_uint_eq(p.nconsts, 9);
  /* many constants: the pool moves, offsets stay valid */
  int many[200];
  for (int i = 0; i < 200; i++) {
    double x[3] = {i, i + 0.5, -i};
    many[i] = bayes_prog_const(&p, &v3, 0, x);
    ck_assert_int_ge(many[i], 0);
  }
  for (int i = 0; i < 200; i++) {
    ck_assert(bayes_prog_const_ptr(&p, many[i])[1] == i + 0.5);
    ck_assert(bayes_prog_const_ptr(&p, many[i])[2] == -i);
  }
  for (int i = 0; i < 6; i++) ck_assert(bayes_prog_const_ptr(&p, c)[i] == i + 1);

  /* instructions: output flags follow the inputs and the op */
  int in1[2] = {a, c};
  bayes_shape o = bayes_shape_vec(3);
  int i1 = bayes_prog_add(&p, &op_square, 1, &a, 1, &o, false);
  int i2 = bayes_prog_add(&p, &op_square, 1, &c, 1, &m23, false);
  int i3 = bayes_prog_add(&p, &op_floor, 1, &a, 1, &o, true);
  int i4 = bayes_prog_add(&p, &op_mul, 2, in1, 1, &o, false);
  ck_assert_int_eq(i1, 0);
  ck_assert_int_eq(i4, 3);
  ck_assert_int_eq(p.nins, 4);
  ck_assert_ptr_eq(p.ins[i1].op, &op_square);
  ck_assert_int_eq(p.ins[i4].nin, 2);
  ck_assert_int_eq(p.ins[i4].in[0], a);
  ck_assert_int_eq(p.ins[i4].in[1], c);
  ck_assert_uint_eq(p.ins[i1].work, 0);
  ck_assert_ptr_null(p.ins[i1].aux);
  ck_assert_uint_eq(p.slots[p.ins[i1].out[0]].flags, BAYES_SLOT_ADJ);
  ck_assert_uint_eq(p.slots[p.ins[i2].out[0]].flags, 0);             /* constant input */
  ck_assert_uint_eq(p.slots[p.ins[i3].out[0]].flags, BAYES_SLOT_INT); /* no bwd */
  ck_assert_uint_eq(p.slots[p.ins[i4].out[0]].flags, BAYES_SLOT_ADJ);
  ck_assert(bayes_shape_eq(&p.slots[p.ins[i2].out[0]].shape, &m23));
  /* several outputs get consecutive new slots */
  bayes_shape outs[3] = {sc, v3, m23};
  int i5 = bayes_prog_add(&p, &op_square, 1, &a, 3, outs, false);
  ck_assert_int_eq(p.ins[i5].nout, 3);
  ck_assert_int_eq(p.ins[i5].out[1], p.ins[i5].out[0] + 1);
  ck_assert_uint_eq(p.slots[p.ins[i5].out[2]].n, 6);
  /* aux memory is zeroed and owned by the program */
  unsigned char *aux = bayes_prog_aux(&p, 100);
  ck_assert_ptr_nonnull(aux);
  for (int i = 0; i < 100; i++) ck_assert_uint_eq(aux[i], 0);
  bayes_prog_destroy(&p);
  ck_assert_int_eq(p.nslots, 0);
  ck_assert_ptr_null(p.slots);
  bayes_prog_destroy(NULL);
}
END_TEST

/* Builds a two-instruction program and its executor; returns 0, or -1 as soon as a step
 * reports out-of-memory. */
static int small_build(bayes_prog *p, bayes_exec **ex)
{
  bayes_shape v3 = bayes_shape_vec(3);
  double cv[3] = {1, 2, 3};
  *ex = NULL;
  int a = bayes_prog_slot(p, &v3, BAYES_SLOT_ADJ);
  if (a < 0) return -1;
  int c = bayes_prog_const(p, &v3, 0, cv);
  if (c < 0) return -1;
  int in[2] = {a, c};
  if (bayes_prog_add(p, &op_mul, 2, in, 1, &v3, false) < 0) return -1;
  if (bayes_prog_add(p, &op_square, 1, &a, 1, &v3, false) < 0) return -1;
  if (bayes_prog_layout(p) != 0) return -1;
  *ex = bayes_exec_alloc(p);
  return *ex ? 0 : -1;
}

/* Every allocation while building can fail: each failure is reported (-1 or NULL) and
 * leaves a program that can still be destroyed (leaks: run under valgrind or ASan). */
START_TEST(test_prog_oom)
{
  bayes_prog p;
  bayes_exec *ex;
  bayes_prog_init(&p);
  long c0 = bayes_alloc_count();
  ck_assert_int_eq(small_build(&p, &ex), 0);
  long need = bayes_alloc_count() - c0;
  ck_assert_int_ge(need, 6);
  bayes_exec_free(ex);
  bayes_prog_destroy(&p);
  for (long k = 1; k <= need; k++) {
    bayes_prog_init(&p);
    bayes_fail_alloc_after(k);
    int rc = small_build(&p, &ex);
    bayes_fail_alloc_after(0);
    ck_assert_msg(rc == -1 && ex == NULL, "allocation %ld of %ld failed unnoticed", k, need);
    bayes_prog_destroy(&p);
  }
}
END_TEST

/* Layout: every non-constant, non-alias slot gets its own disjoint range; aliases point
 * into their target; constants are not in the value buffer. */
START_TEST(test_layout)
{
  bayes_prog p;
  bayes_prog_init(&p);
  bayes_shape v4 = bayes_shape_vec(4), v2 = bayes_shape_vec(2), sc = bayes_shape_scalar();
  double cv[4] = {1, 2, 3, 4};
  int x = bayes_prog_slot(&p, &sc, 0);
  int k = bayes_prog_const(&p, &v4, 0, cv);
  int u1 = bayes_prog_slot(&p, &v2, BAYES_SLOT_ADJ | BAYES_SLOT_ALIAS);
  int y = bayes_prog_slot(&p, &v4, BAYES_SLOT_ADJ);
  int th = bayes_prog_slot(&p, &v4, BAYES_SLOT_ADJ);
  int ka = bayes_prog_slot(&p, &v2, BAYES_SLOT_ALIAS); /* alias of a constant */
  p.slots[u1].alias = th;
  p.slots[u1].alias_off = 2;
  p.slots[ka].alias = k;
  p.slots[ka].alias_off = 1;
  int sq = bayes_prog_add(&p, &op_square, 1, &y, 1, &v4, false);
  p.ins[sq].work = 4;
  int sq2 = bayes_prog_add(&p, &op_square, 1, &x, 1, &sc, false);
  p.ins[sq2].work = 1;
  ck_assert_int_eq(bayes_prog_layout(&p), 0);
  /* x(1) + y(4) + th(4) + sq out(4) + sq2 out(1) */
  ck_assert_uint_eq(p.nvals, 14);
  ck_assert_uint_eq(p.nwork, 5);
  int owned[] = {x, y, th, p.ins[sq].out[0], p.ins[sq2].out[0]};
  char used[14] = {0};
  for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) {
    const bayes_slot *s = &p.slots[owned[i]];
    ck_assert_uint_le(s->off + s->n, p.nvals);
    for (size_t j = 0; j < s->n; j++) {
      ck_assert_msg(!used[s->off + j], "slot %d overlaps another", owned[i]);
      used[s->off + j] = 1;
    }
  }
  ck_assert_uint_eq(p.slots[u1].off, p.slots[th].off + 2);
  ck_assert(p.slots[ka].flags & BAYES_SLOT_CONST);
  ck_assert_uint_eq(p.slots[ka].off, p.slots[k].off + 1);

  bayes_exec *ex = bayes_exec_alloc(&p);
  ck_assert_ptr_nonnull(ex);
  ck_assert_ptr_eq(bayes_exec_val(ex, u1), bayes_exec_val(ex, th) + 2);
  ck_assert_ptr_eq(bayes_exec_adj(ex, u1), bayes_exec_adj(ex, th) + 2);
  ck_assert(bayes_exec_val(ex, ka)[0] == 2 && bayes_exec_val(ex, ka)[1] == 3);
  ck_assert_ptr_eq(bayes_exec_val(ex, k), bayes_prog_const_ptr(&p, k));
  ck_assert_ptr_null(bayes_exec_adj(ex, k));  /* constants have no adjoint */
  ck_assert_ptr_null(bayes_exec_adj(ex, ka));
  ck_assert_ptr_null(bayes_exec_adj(ex, x));  /* no ADJ flag */
  ck_assert_ptr_nonnull(bayes_exec_adj(ex, y));
  /* the bound operands point at the slots' storage; work ranges are disjoint */
  ck_assert_ptr_eq(ex->bound[sq].x[0], bayes_exec_val(ex, y));
  ck_assert_ptr_eq(ex->bound[sq].gx[0], bayes_exec_adj(ex, y));
  ck_assert_ptr_eq(ex->bound[sq].y[0], bayes_exec_val(ex, p.ins[sq].out[0]));
  ck_assert_ptr_null(ex->bound[sq2].gx[0]);
  ck_assert_uint_eq(ex->bound[sq].xn[0], 4);
  ck_assert_uint_eq(ex->bound[sq2].yn[0], 1);
  ck_assert(bayes_shape_eq(ex->bound[sq].xs[0], &v4));
  ck_assert_ptr_eq(ex->bound[sq2].work, ex->bound[sq].work + 4);
  ck_assert_ptr_eq(ex->bound[sq].ex, ex);
  ck_assert_ptr_eq(ex->bound[sq].ins, &p.ins[sq]);
  ck_assert(ex->jacobian);
  ck_assert_int_eq(ex->failed, 0);
  bayes_exec_free(ex);
  bayes_exec_free(NULL);
  bayes_prog_destroy(&p);
}
END_TEST

/* ==== execution ====
 * A model in miniature: theta = [a, b, c0, c1] (the unconstrained vector), with
 *   u1 = theta[0:2] (alias), u2 = theta[1:4] (alias, overlapping u1 at theta[1]),
 *   v  = check_pos(u2)                      (passes values through, or fails)
 *   g  = gather(v, {2, 0, 2})               = [c1, b, c1]
 *   s  = stack(u1, g)                       = [a, b, c1, b, c1]
 *   q  = square(s)
 *   w  = mul(q, k)  with constant k = [1, 2, 3, 4, 5]
 *   j  = square(gather(u1, {0}))            = [a^2], a stand-in for a log-Jacobian term
 *   target = sum(w) + sum(j)  with is_jac = {0, 1}
 * so target = a^2 + 2 b^2 + 3 c1^2 + 4 b^2 + 5 c1^2 + [jac] a^2
 *           = (1 + J) a^2 + 6 b^2 + 8 c1^2. */
typedef struct {
  bayes_prog p;
  int th, u1, u2, g, s, q, w, jac, target;
  int ins_check; /* index of the check_pos instruction */
  bayes_section sec;
  int order[8];
} mini;

static void mini_build(mini *m)
{
  bayes_prog *p = &m->p;
  ck_assert_int_eq(bayes_prog_init(p), 0);
  bayes_shape v2 = bayes_shape_vec(2), v3 = bayes_shape_vec(3), v4 = bayes_shape_vec(4),
              v5 = bayes_shape_vec(5), sc = bayes_shape_scalar(), v1 = bayes_shape_vec(1);
  m->u1 = bayes_prog_slot(p, &v2, BAYES_SLOT_ADJ);
  m->u2 = bayes_prog_slot(p, &v3, BAYES_SLOT_ADJ);
  double kv[5] = {1, 2, 3, 4, 5};
  int k = bayes_prog_const(p, &v5, 0, kv);
  int n = 0;
  /* check_pos(u2) passes values through (and can fail) */
  m->ins_check = bayes_prog_add(p, &op_check, 1, &m->u2, 1, &v3, false);
  int chk = p->ins[m->ins_check].out[0];
  m->order[n++] = m->ins_check;
  int ig = bayes_prog_add(p, &bayes_op_gather, 1, &chk, 1, &v3, false);
  size_t *map = bayes_prog_aux(p, 3 * sizeof *map);
  map[0] = 2, map[1] = 0, map[2] = 2;
  p->ins[ig].aux = map;
  m->g = p->ins[ig].out[0];
  m->order[n++] = ig;
  int sin[2] = {m->u1, m->g};
  int is = bayes_prog_add(p, &bayes_op_stack, 2, sin, 1, &v5, false);
  m->s = p->ins[is].out[0];
  m->order[n++] = is;
  int iq = bayes_prog_add(p, &op_square, 1, &m->s, 1, &v5, false);
  p->ins[iq].work = 5;
  m->q = p->ins[iq].out[0];
  m->order[n++] = iq;
  int win[2] = {m->q, k};
  int iw = bayes_prog_add(p, &op_mul, 2, win, 1, &v5, false);
  m->w = p->ins[iw].out[0];
  m->order[n++] = iw;
  /* Jacobian term: square of u1's first element, via a 1-element gather */
  int ia = bayes_prog_add(p, &bayes_op_gather, 1, &m->u1, 1, &v1, false);
  size_t *map0 = bayes_prog_aux(p, sizeof *map0);
  map0[0] = 0;
  p->ins[ia].aux = map0;
  m->order[n++] = ia;
  int a0 = p->ins[ia].out[0];
  int ij = bayes_prog_add(p, &op_square, 1, &a0, 1, &v1, false);
  p->ins[ij].work = 1;
  m->jac = p->ins[ij].out[0];
  m->order[n++] = ij;
  int tin[2] = {m->w, m->jac};
  int it = bayes_prog_add(p, &bayes_op_target, 2, tin, 1, &sc, false);
  unsigned char *is_jac = bayes_prog_aux(p, 2);
  is_jac[1] = 1;
  p->ins[it].aux = is_jac;
  m->target = p->ins[it].out[0];
  m->order[n++] = it;
  /* theta last, as the compiler does; parameters' slots become views into it */
  m->th = bayes_prog_slot(p, &v4, BAYES_SLOT_ADJ);
  p->slots[m->u1].flags |= BAYES_SLOT_ALIAS;
  p->slots[m->u1].alias = m->th;
  p->slots[m->u1].alias_off = 0;
  p->slots[m->u2].flags |= BAYES_SLOT_ALIAS;
  p->slots[m->u2].alias = m->th;
  p->slots[m->u2].alias_off = 1;
  ck_assert_int_eq(bayes_prog_layout(p), 0);
  m->sec.ins = m->order;
  m->sec.n = n;
}

static double mini_target(const double *t, bool jac)
{
  return (1 + jac) * t[0] * t[0] + 6 * t[1] * t[1] + 8 * t[3] * t[3];
}

static void mini_grad(const double *t, bool jac, double *g)
{
  g[0] = 2 * (1 + jac) * t[0];
  g[1] = 12 * t[1];
  g[2] = 0;
  g[3] = 16 * t[3];
}

static void mini_run(mini *m, bayes_exec *ex, const double *theta, bool jac, double *lp,
                     double *grad)
{
  memcpy(bayes_exec_val(ex, m->th), theta, 4 * sizeof *theta);
  ex->grad = grad != NULL;
  ex->jacobian = jac;
  bayes_exec_forward(ex, &m->sec);
  *lp = bayes_exec_val(ex, m->target)[0];
  if (grad) {
    bayes_exec_backward(ex, &m->sec, m->target);
    memcpy(grad, bayes_exec_adj(ex, m->th), 4 * sizeof *grad);
  }
}

START_TEST(test_exec_forward_backward)
{
  mini m;
  mini_build(&m);
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  ck_assert_ptr_nonnull(ex);
  static const double pts[3][4] = {{0.5, 1.5, 2.0, 3.0}, {-1.0, 0.25, 7.0, 0.1},
                                   {2.0, 2.0, 0.5, -4.0}};
  for (int pi = 0; pi < 3; pi++)
    for (int jac = 0; jac <= 1; jac++) {
      const double *t = pts[pi];
      double lp, g[4], want[4];
      if (t[1] <= 0 || t[2] <= 0 || t[3] <= 0) continue; /* check_pos would fail */
      mini_run(&m, ex, t, jac, &lp, g);
      ck_assert_int_eq(ex->failed, 0);
      ck_assert_double_eq_tol(lp, mini_target(t, jac), 1e-12);
      mini_grad(t, jac, want);
      for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(g[i] - want[i]) < 1e-12, "point %d jac %d: grad[%d] = %g, want %g",
                      pi, jac, i, g[i], want[i]);
      /* intermediate values */
      const double *s = bayes_exec_val(ex, m.s);
      ck_assert(s[0] == t[0] && s[1] == t[1] && s[2] == t[3] && s[3] == t[1] && s[4] == t[3]);
      /* the Jacobian term is still computed (skipped only in the sum) */
      ck_assert_double_eq_tol(bayes_exec_val(ex, m.jac)[0], t[0] * t[0], 1e-15);
    }
  /* forward only (no gradient): same value */
  double lp;
  mini_run(&m, ex, pts[0], true, &lp, NULL);
  ck_assert_double_eq_tol(lp, mini_target(pts[0], true), 1e-12);
  bayes_exec_free(ex);
  bayes_prog_destroy(&m.p);
}
END_TEST

/* Backward zeroes every adjoint first: repeated passes give the same gradient, not a
 * running sum; and adjoints from the two overlapping aliases add up at theta[1]. */
START_TEST(test_backward_zeroes_and_accumulates)
{
  mini m;
  mini_build(&m);
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  double t[4] = {0.5, 1.5, 2.0, 3.0}, g[4], lp, want[4];
  /* dirty every adjoint */
  for (size_t i = 0; i < m.p.nvals; i++) ex->adj[i] = 1e6 + (double)i;
  for (int rep = 0; rep < 3; rep++) {
    mini_run(&m, ex, t, true, &lp, g);
    mini_grad(t, true, want);
    for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(g[i], want[i], 1e-12);
  }
  /* theta[1] = b reaches the target through u1 (stack) and u2 (gather): 2*b*(2+4) */
  ck_assert_double_eq_tol(g[1], 2 * t[1] * (2 + 4), 1e-12);
  /* theta[3] appears twice through one gather: adjoints accumulate within the op */
  ck_assert_double_eq_tol(g[3], 2 * t[3] * (3 + 5), 1e-12);
  /* the target's own adjoint is 1 and a slot without any adjoint path stays at 0 */
  ck_assert(bayes_exec_adj(ex, m.target)[0] == 1.0);
  ck_assert(g[2] == 0.0);
  bayes_exec_free(ex);
  bayes_prog_destroy(&m.p);
}
END_TEST

/* Backward from a target that has no adjoint leaves all adjoints zero. */
START_TEST(test_backward_const_target)
{
  bayes_prog p;
  bayes_prog_init(&p);
  bayes_shape sc = bayes_shape_scalar();
  double two = 2;
  int c = bayes_prog_const(&p, &sc, 0, &two);
  int x = bayes_prog_slot(&p, &sc, BAYES_SLOT_ADJ);
  int ia = bayes_prog_add(&p, &op_square, 1, &c, 1, &sc, false);
  int ib = bayes_prog_add(&p, &op_square, 1, &x, 1, &sc, false);
  p.ins[ib].work = 1;
  bayes_prog_layout(&p);
  bayes_exec *ex = bayes_exec_alloc(&p);
  int order[2] = {ia, ib};
  bayes_section sec = {order, 2};
  for (size_t i = 0; i < p.nvals; i++) ex->adj[i] = 5;
  bayes_exec_val(ex, x)[0] = 3;
  ex->grad = true;
  bayes_exec_forward(ex, &sec);
  ck_assert(bayes_exec_val(ex, p.ins[ia].out[0])[0] == 4);
  ck_assert(bayes_exec_val(ex, p.ins[ib].out[0])[0] == 9);
  n_square_bwd = 0;
  bayes_exec_backward(ex, &sec, p.ins[ia].out[0]);
  /* slots with adjoints are laid out first: that prefix is what a reverse pass clears */
  ck_assert_uint_ge(p.nadj, 2);
  for (size_t i = 0; i < p.nadj; i++) ck_assert(ex->adj[i] == 0);
  ck_assert_int_eq(n_square_bwd, 0);
  /* from the parameter's square: only that instruction's bwd runs */
  bayes_exec_backward(ex, &sec, p.ins[ib].out[0]);
  ck_assert_int_eq(n_square_bwd, 1);
  ck_assert(bayes_exec_adj(ex, x)[0] == 6);
  bayes_exec_free(ex);
  bayes_prog_destroy(&p);
}
END_TEST

/* The gradient agrees with central finite differences of the forward pass. */
START_TEST(test_exec_finite_difference)
{
  mini m;
  mini_build(&m);
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  double t[4] = {0.3, 0.7, 1.1, 1.9}, g[4], lp;
  for (int jac = 0; jac <= 1; jac++) {
    mini_run(&m, ex, t, jac, &lp, g);
    for (int i = 0; i < 4; i++) {
      double tp[4], tm[4], lpp, lpm, h = 1e-5;
      memcpy(tp, t, sizeof t);
      memcpy(tm, t, sizeof t);
      tp[i] += h;
      tm[i] -= h;
      mini_run(&m, ex, tp, jac, &lpp, NULL);
      mini_run(&m, ex, tm, jac, &lpm, NULL);
      ck_assert_double_eq_tol(g[i], (lpp - lpm) / (2 * h), 1e-6);
    }
  }
  bayes_exec_free(ex);
  bayes_prog_destroy(&m.p);
}
END_TEST

/* bayes_exec_fail records the first failing instruction (index + 1) and its message,
 * stops the forward pass there, and the next forward pass clears it. */
START_TEST(test_exec_fail)
{
  mini m;
  mini_build(&m);
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  double bad[4] = {0.5, -1.0, 2.0, 3.0}, good[4] = {0.5, 1.5, 2.0, 3.0}, lp;
  /* mark the target so we can see whether later instructions ran */
  bayes_exec_val(ex, m.target)[0] = 12345;
  n_check_fwd = n_square_fwd = 0;
  mini_run(&m, ex, bad, true, &lp, NULL);
  ck_assert_int_eq(ex->failed, m.ins_check + 1);
  ck_assert_str_eq(ex->fail_msg, "element 0 is -1, not positive (check_pos)");
  ck_assert_int_eq(n_check_fwd, 1);
  ck_assert_int_eq(n_square_fwd, 0); /* stopped after the failing instruction */
  ck_assert(lp == 12345);
  /* a second failure report in the same pass does not overwrite the first */
  bayes_exec_fail(&ex->bound[m.order[3]], "later failure");
  ck_assert_int_eq(ex->failed, m.ins_check + 1);
  ck_assert_str_eq(ex->fail_msg, "element 0 is -1, not positive (check_pos)");
  /* a good point clears the failure */
  mini_run(&m, ex, good, true, &lp, NULL);
  ck_assert_int_eq(ex->failed, 0);
  ck_assert_double_eq_tol(lp, mini_target(good, true), 1e-12);
  /* a failure of a later instruction is reported with that instruction's index */
  bayes_exec_fail(&ex->bound[m.order[4]], "%s %d", "code", 42);
  ck_assert_int_eq(ex->failed, m.order[4] + 1);
  ck_assert_str_eq(ex->fail_msg, "code 42");
  /* long messages are truncated, NUL-terminated */
  ex->failed = 0;
  char longmsg[600];
  memset(longmsg, 'z', sizeof longmsg - 1);
  longmsg[sizeof longmsg - 1] = 0;
  bayes_exec_fail(&ex->bound[0], "%s", longmsg);
  ck_assert_uint_eq(strlen(ex->fail_msg), sizeof ex->fail_msg - 1);
  bayes_exec_free(ex);
  bayes_prog_destroy(&m.p);
}
END_TEST

/* bayes_exec_one runs exactly one instruction (constant folding). */
START_TEST(test_exec_one)
{
  mini m;
  mini_build(&m);
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  double *th = bayes_exec_val(ex, m.th);
  th[0] = 1, th[1] = 2, th[2] = 3, th[3] = 4;
  n_check_fwd = n_square_fwd = 0;
  bayes_exec_one(ex, m.ins_check);
  bayes_exec_one(ex, m.order[1]);
  ck_assert_int_eq(n_check_fwd, 1);
  ck_assert_int_eq(n_square_fwd, 0);
  const double *g = bayes_exec_val(ex, m.g);
  ck_assert(g[0] == 4 && g[1] == 2 && g[2] == 4);
  bayes_exec_free(ex);
  bayes_prog_destroy(&m.p);
}
END_TEST

/* Executing never allocates: the allocation counter is unchanged over 1000 forward and
 * backward passes (and over failing passes). */
START_TEST(test_exec_no_alloc)
{
  mini m;
  mini_build(&m);
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  double t[4] = {0.5, 1.5, 2.0, 3.0}, bad[4] = {0.5, -1.5, 2.0, 3.0}, g[4], lp, sink = 0;
  long c0 = bayes_alloc_count();
  for (int i = 0; i < 1000; i++) {
    t[0] += 1e-6;
    mini_run(&m, ex, t, i % 2, &lp, g);
    sink += lp + g[0];
  }
  for (int i = 0; i < 10; i++) mini_run(&m, ex, bad, true, &lp, NULL);
  ck_assert_int_eq(bayes_alloc_count(), c0);
  ck_assert(isfinite(sink));
  bayes_exec_free(ex);
  bayes_prog_destroy(&m.p);
}
END_TEST

/* Every allocation in bayes_exec_alloc may fail: NULL, no crash (leaks: valgrind). */
START_TEST(test_exec_alloc_oom)
{
  mini m;
  mini_build(&m);
  long c0 = bayes_alloc_count();
  bayes_exec *ex = bayes_exec_alloc(&m.p);
  long need = bayes_alloc_count() - c0;
  ck_assert_int_gt(need, 4);
  bayes_exec_free(ex);
  for (long k = 1; k <= need; k++) {
    bayes_fail_alloc_after(k);
    ex = bayes_exec_alloc(&m.p);
    ck_assert_msg(ex == NULL, "allocation %ld of %ld failed unnoticed", k, need);
    bayes_fail_alloc_after(0);
  }
  bayes_prog_destroy(&m.p);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("tape");
  TCase *tc = tcase_create("tape");
  tcase_add_test(tc, test_shape_basics);
  tcase_add_test(tc, test_shape_broadcast);
  tcase_add_test(tc, test_shape_str);
  tcase_add_test(tc, test_prog_build);
  tcase_add_test(tc, test_prog_oom);
  tcase_add_test(tc, test_layout);
  tcase_add_test(tc, test_exec_forward_backward);
  tcase_add_test(tc, test_backward_zeroes_and_accumulates);
  tcase_add_test(tc, test_backward_const_target);
  tcase_add_test(tc, test_exec_finite_difference);
  tcase_add_test(tc, test_exec_fail);
  tcase_add_test(tc, test_exec_one);
  tcase_add_test(tc, test_exec_no_alloc);
  tcase_add_test(tc, test_exec_alloc_oom);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
