/* testutil.c — finite-difference gradient checks and goodness-of-fit helpers for tests. */
#include "testutil.h"

#include <check.h>
#include <gsl/gsl_errno.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes.h"

typedef struct {
  bayes_prog p;
  bayes_exec *ex;
  int ins;
  int *in_slots;
} harness;

static int build(const bt_opcheck *c, harness *h)
{
  bayes_prog_init(&h->p);
  h->in_slots = calloc((size_t)c->nin + 1, sizeof(int));
  for (int k = 0; k < c->nin; k++) {
    bool d = c->diff ? c->diff[k] : true;
    if (d) {
      h->in_slots[k] = bayes_prog_slot(&h->p, &c->xs[k], BAYES_SLOT_ADJ);
    } else {
      h->in_slots[k] = bayes_prog_const(&h->p, &c->xs[k], 0, c->xv[k]);
    }
  }
  h->ins = bayes_prog_add(&h->p, c->op, c->nin, h->in_slots, c->nout, c->ys, c->out_int);
  if (h->ins < 0) return -1;
  bayes_instr *ins = &h->p.ins[h->ins];
  ins->aux = c->aux;
  memcpy(ins->iarg, c->iarg, sizeof ins->iarg);
  memcpy(ins->darg, c->darg, sizeof ins->darg);
  ins->work = c->work;
  /* outputs always get adjoints in the harness (so bwd can be driven directly) */
  for (int k = 0; k < c->nout; k++) h->p.slots[ins->out[k]].flags |= BAYES_SLOT_ADJ;
  bayes_prog_layout(&h->p);
  h->ex = bayes_exec_alloc(&h->p);
  if (!h->ex) return -1;
  h->ex->jacobian = c->jacobian;
  for (int k = 0; k < c->nin; k++) {
    bool d = c->diff ? c->diff[k] : true;
    if (d)
      memcpy(bayes_exec_val(h->ex, h->in_slots[k]), c->xv[k],
             bayes_shape_size(&c->xs[k]) * sizeof(double));
  }
  return 0;
}

static void destroy(harness *h)
{
  bayes_exec_free(h->ex);
  bayes_prog_destroy(&h->p);
  free(h->in_slots);
}

static double project(harness *h, const bt_opcheck *c, double *const *wts)
{
  h->ex->failed = 0;
  bayes_exec_one(h->ex, h->ins);
  double s = 0;
  for (int k = 0; k < c->nout; k++) {
    const double *y = bayes_exec_val(h->ex, h->p.ins[h->ins].out[k]);
    size_t n = bayes_shape_size(&c->ys[k]);
    for (size_t j = 0; j < n; j++) s += wts[k][j] * y[j];
  }
  return s;
}

int bt_op_eval(const bt_opcheck *c, double *const *out, char *msg, size_t len)
{
  harness h;
  if (build(c, &h) != 0) {
    destroy(&h);
    return -1;
  }
  h.ex->grad = false;
  bayes_exec_one(h.ex, h.ins);
  int rc = h.ex->failed ? -1 : 0;
  if (rc && msg) snprintf(msg, len, "%s", h.ex->fail_msg);
  for (int k = 0; k < c->nout; k++)
    if (out[k])
      memcpy(out[k], bayes_exec_val(h.ex, h.p.ins[h.ins].out[k]),
             bayes_shape_size(&c->ys[k]) * sizeof(double));
  destroy(&h);
  return rc;
}

double bt_op_grad_check(const bt_opcheck *c, char *report, size_t len)
{
  harness h;
  double worst = 0;
  if (report && len) report[0] = '\0';
  if (build(c, &h) != 0) {
    destroy(&h);
    return INFINITY;
  }
  double *wts[8];
  unsigned seed = 12345;
  for (int k = 0; k < c->nout; k++) {
    size_t n = bayes_shape_size(&c->ys[k]);
    wts[k] = malloc((n + 1) * sizeof(double));
    for (size_t j = 0; j < n; j++) {
      seed = seed * 1103515245u + 12345u;
      wts[k][j] = 0.5 + (double)((seed >> 8) & 0xffff) / 65536.0;
    }
  }
  /* analytic: forward in gradient mode, then bwd with the weights as output adjoints */
  h.ex->grad = true;
  h.ex->failed = 0;
  bayes_exec_one(h.ex, h.ins);
  if (h.ex->failed) {
    if (report) snprintf(report, len, "forward failed: %s", h.ex->fail_msg);
    worst = INFINITY;
    goto done;
  }
  memset(h.ex->adj, 0, h.p.nvals * sizeof(double));
  for (int k = 0; k < c->nout; k++) {
    double *gy = bayes_exec_adj(h.ex, h.p.ins[h.ins].out[k]);
    const double *y = bayes_exec_val(h.ex, h.p.ins[h.ins].out[k]);
    size_t n = bayes_shape_size(&c->ys[k]);
    for (size_t j = 0; j < n; j++) {
      if (!isfinite(y[j])) {
        if (report) snprintf(report, len, "output %d[%zu] is not finite", k, j);
        worst = INFINITY;
        goto done;
      }
      gy[j] = wts[k][j];
    }
  }
  c->op->bwd(&h.ex->bound[h.ins]);
  h.ex->grad = false;
  for (int k = 0; k < c->nin; k++) {
    bool d = c->diff ? c->diff[k] : true;
    if (!d) continue;
    double *x = bayes_exec_val(h.ex, h.in_slots[k]);
    const double *g = bayes_exec_adj(h.ex, h.in_slots[k]);
    size_t n = bayes_shape_size(&c->xs[k]);
    double *ad = malloc((n + 1) * sizeof(double));
    memcpy(ad, g, n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
      double x0 = x[i], hstep = 1e-4 * fmax(1.0, fabs(x0));
      double f[4];
      const double off[4] = {-2, -1, 1, 2};
      for (int t = 0; t < 4; t++) {
        x[i] = x0 + off[t] * hstep;
        f[t] = project(&h, c, wts);
      }
      x[i] = x0;
      double fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * hstep);
      double err = fabs(ad[i] - fd) / fmax(1.0, fabs(fd));
      if (!(err <= worst)) {
        worst = isnan(err) ? INFINITY : err;
        if (report)
          snprintf(report, len, "%s: input %d element %zu: reverse-mode %.10g, finite difference %.10g",
                   c->op->name, k, i, ad[i], fd);
      }
    }
    free(ad);
  }
done:
  for (int k = 0; k < c->nout; k++) free(wts[k]);
  destroy(&h);
  return worst;
}

static int cmpd(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bt_ks_distance(double *xs, size_t n, double (*cdf)(double, const void *),
                      const void *ctx)
{
  qsort(xs, n, sizeof *xs, cmpd);
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double F = cdf(xs[i], ctx);
    double lo = F - (double)i / n, hi = (double)(i + 1) / n - F;
    if (lo > d) d = lo;
    if (hi > d) d = hi;
  }
  return d;
}

double bt_dkw_eps(size_t n, double alpha) { return sqrt(log(2.0 / alpha) / (2.0 * n)); }

int bt_run_suite(Suite *s)
{
  gsl_set_error_handler_off();
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures != 0;
}

const char *bt_srcdir(void)
{
  const char *s = getenv("top_srcdir");
  return s && *s ? s : ".";
}

char *bt_slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  ck_assert(s != NULL);
  ck_assert(fread(s, 1, (size_t)n, f) == (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

void bt_write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

bayes_model *bt_load_path(const char *path, const bayes_load_opts *opts)
{
  bayes_model *m = NULL;
  char *msg = NULL;
  int rc = bayes_model_load(path, opts, &m, &msg);
  ck_assert_msg(rc == BAYES_OK && m, "loading %s failed (%d):\n%s", path, rc, msg ? msg : "");
  bayes_string_free(msg);
  return m;
}

bayes_model *bt_load_rel(const char *rel)
{
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", bt_srcdir(), rel);
  return bt_load_path(p, NULL);
}

bayes_model *bt_load_text(const char *text)
{
  static int k;
  char p[512];
  snprintf(p, sizeof p, "%s/bayes_test_%ld_%d.yaml",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(), k++);
  bt_write_file(p, text);
  bayes_model *m = bt_load_path(p, NULL);
  unlink(p);
  return m;
}
