/* cmd_approx.c — `bayesrun MODEL.yaml --method optimize|laplace|advi|pathfinder`: runs an
 * approximate backend, writes its draws in CmdStan's CSV layout for that method
 * (optimize.csv, laplace.csv, advi.csv plus the ELBO trace elbo.tsv, pathfinder.csv), the
 * PSIS k-hat of the approximation, and the summary (printed, and summary.json). A method
 * that did not converge is reported in plain words, marked in the CSV and the summary, and
 * the run exits 1: nothing written looks like a successful fit when it is not. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "advi.h"
#include "approx.h"
#include "cli.h"
#include "optimize.h"
#include "pathfinder.h"
#include "psis.h"
#include "stancsv.h"
#include "summary.h"

/* RNG streams of a run (the backends use their own streams of the same seed) */
#define STREAM_INIT 101      /* random inits of optimize / laplace */
#define STREAM_DRAWS 102     /* laplace draws, advi draws */
#define STREAM_PSIS 103      /* importance resampling */
#define STREAM_GQ 104        /* generated quantities of the written draws */
#define STREAM_KL 105        /* the per-coordinate KL check */

#define DEFAULT_DRAWS 1000
#define DEFAULT_KL_DRAWS 20
#define MAX_NOTES 8
#define POLISH_MAX_DIM 1000

typedef struct {
  const bayes_model *m;
  cli_fit_opts *o;
  size_t dim, nout;
  uint64_t seed;
  const char *outdir;
  double *init;                /* --init FILE, or NULL */
  double radius;
  const char *init_text;
  unsigned flags;
  double t0;
  bool tty;
  double last_progress;        /* when progress was last shown */
  /* what the run found */
  char failure[1024];          /* "" when it converged */
  bayes_sb text, json;         /* the method's report for the summary */
  char *notes[MAX_NOTES];
  size_t nnotes;
  double khat;
  bool resampled;
} run;

static bool failed(const run *r) { return r->failure[0] != 0; }

static int oom(void)
{
  fprintf(stderr, "bayesrun: out of memory\n");
  return EX_SOFTWARE_;
}

static void add_note(run *r, bayes_sb *sb)
{
  if (r->nnotes < MAX_NOTES && !sb->oom) r->notes[r->nnotes++] = bayes_strdup(bayes_sb_cstr(sb));
  sb->len = 0;
  if (sb->s) sb->s[0] = 0;
}

/* json members are separated by ", " */
static void json_key(run *r, const char *key)
{
  if (r->json.len) bayes_sb_puts(&r->json, ", ");
  bayes_sb_printf(&r->json, "\"%s\": ", key);
}

static void json_num_key(run *r, const char *key, double v)
{
  json_key(r, key);
  bayes_sb_json_number(&r->json, v);
}

static void json_str_key(run *r, const char *key, const char *v)
{
  json_key(r, key);
  bayes_sb_json_string(&r->json, v);
}

/* The name of unconstrained coordinate i: "tau", or "theta[3]" for the third coordinate of
 * a parameter with several (on the unconstrained scale). */
static void coord_name(const bayes_model *m, size_t i, char *buf, size_t n)
{
  for (size_t p = 0; p < bayes_model_nparams(m); p++) {
    const bayes_param_info *pi = bayes_model_param(m, p);
    if (i >= pi->unc_offset && i < pi->unc_offset + pi->unc_size) {
      if (pi->unc_size == 1 && pi->size == 1)
        snprintf(buf, n, "%s", pi->name);
      else
        snprintf(buf, n, "%s[%zu]", pi->name, i - pi->unc_offset + 1);
      return;
    }
  }
  snprintf(buf, n, "coordinate %zu", i + 1);
}

/* ---- progress (the caller owns the loops, so it shows them) ---- */

static void progress(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(run *r, const char *fmt, ...)
{
  if (r->o->quiet) return;
  double now = cli_now();
  if (now - r->last_progress < (r->tty ? 0.2 : 10.0)) return;
  r->last_progress = now;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, r->tty ? "\r\033[2Kbayesrun: " : "bayesrun: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, r->tty ? "" : "\n");
  va_end(ap);
}

static void progress_end(run *r)
{
  if (!r->o->quiet && r->tty) fprintf(stderr, "\r\033[2K");
}

/* ---- L-BFGS settings from the options ---- */

static void lbfgs_settings(const cli_fit_opts *o, bayes_lbfgs_cfg *c)
{
  if (o->given[CLI_O_ITER]) c->max_iter = (long)o->num[CLI_O_ITER];
  if (o->given[CLI_O_HISTORY]) c->history = (int)o->num[CLI_O_HISTORY];
  if (o->given[CLI_O_INIT_ALPHA]) c->init_alpha = o->num[CLI_O_INIT_ALPHA];
  if (o->given[CLI_O_TOL_OBJ]) c->tol_obj = o->num[CLI_O_TOL_OBJ];
  if (o->given[CLI_O_TOL_REL_OBJ]) c->tol_rel_obj = o->num[CLI_O_TOL_REL_OBJ];
  if (o->given[CLI_O_TOL_GRAD]) c->tol_grad = o->num[CLI_O_TOL_GRAD];
  if (o->given[CLI_O_TOL_REL_GRAD]) c->tol_rel_grad = o->num[CLI_O_TOL_REL_GRAD];
  if (o->given[CLI_O_TOL_PARAM]) c->tol_param = o->num[CLI_O_TOL_PARAM];
}

static void lbfgs_config_text(bayes_sb *sb, int depth, const bayes_lbfgs_cfg *c)
{
  bayes_lbfgs_cfg d;
  bayes_lbfgs_defaults(&d);
  bayes_csv_kv_num(sb, depth, "init_alpha", c->init_alpha, d.init_alpha);
  bayes_csv_kv_num(sb, depth, "tol_obj", c->tol_obj, d.tol_obj);
  bayes_csv_kv_num(sb, depth, "tol_rel_obj", c->tol_rel_obj, d.tol_rel_obj);
  bayes_csv_kv_num(sb, depth, "tol_grad", c->tol_grad, d.tol_grad);
  bayes_csv_kv_num(sb, depth, "tol_rel_grad", c->tol_rel_grad, d.tol_rel_grad);
  bayes_csv_kv_num(sb, depth, "tol_param", c->tol_param, d.tol_param);
  bayes_csv_kv_num(sb, depth, "history_size", c->history, d.history);
}

/* ---- the mode (optimize, and laplace's first step) ---- */

typedef struct {
  double *theta;               /* dim */
  double lp;
  long iterations, evals;
  bayes_lbfgs_status status;
} mode_result;

/* Runs L-BFGS; on failure r->failure says why. Returns 0, or an exit code for errors that
 * are not a failure to converge (out of memory, no initial point: 65). */
static int find_mode(run *r, const bayes_lbfgs_cfg *cfg, unsigned flags, mode_result *res)
{
  char err[512];
  res->theta = calloc(r->dim + 1, sizeof *res->theta);
  bayes_optimizer *opt = bayes_optimizer_alloc(r->m, cfg, flags);
  gsl_rng *rng = bayes_rng_alloc(r->seed, STREAM_INIT);
  int rc = 0;
  if (!res->theta || !opt || !rng) {
    rc = oom();
    goto out;
  }
  if (bayes_optimizer_init(opt, r->init, r->radius, rng, err, sizeof err) != 0) {
    fprintf(stderr, "bayesrun: error: %s\n", err);
    rc = EX_DATAERR_;
    goto out;
  }
  bayes_lbfgs_status st;
  while ((st = bayes_optimizer_iterate(opt)) == BAYES_LBFGS_CONTINUE)
    progress(r, "L-BFGS iteration %ld, log density %.6g", bayes_optimizer_iterations(opt),
             bayes_optimizer_lp(opt));
  progress_end(r);
  res->status = st;
  res->lp = bayes_optimizer_lp(opt);
  res->iterations = bayes_optimizer_iterations(opt);
  res->evals = bayes_optimizer_evals(opt);
  memcpy(res->theta, bayes_optimizer_theta(opt), r->dim * sizeof *res->theta);
  size_t coord;
  bayes_ws *ws = bayes_ws_alloc(r->m);
  long p = ws ? bayes_mode_on_boundary(r->m, ws, res->theta, flags, &coord) : -1;
  bayes_ws_free(ws);
  if (p >= 0) {
    const bayes_param_info *pi = bayes_model_param(r->m, (size_t)p);
    char name[256];
    coord_name(r->m, coord, name, sizeof name);
    snprintf(r->failure, sizeof r->failure,
             "the mode of %s is on the boundary of its support (%s transform, unconstrained "
             "value %.3g after %ld iterations): the density keeps increasing towards the "
             "boundary, so there is no mode inside it. This is common for a scale parameter "
             "that the data cannot pin down, e.g. a group-level sd; use NUTS, or a prior that "
             "keeps %s away from its bound.",
             name, pi->transform, res->theta[coord], res->iterations, pi->name);
  } else if (!bayes_lbfgs_converged(st)) {
    snprintf(r->failure, sizeof r->failure, "L-BFGS stopped after %ld iterations without "
             "converging: %s.", res->iterations, bayes_lbfgs_describe(st));
  }
out:
  bayes_optimizer_free(opt);
  bayes_rng_free(rng);
  return rc;
}

/* ---- writing: CSV, summary ---- */

typedef struct {
  const char *file;            /* optimize.csv, ... */
  const char *csv_method;      /* CmdStan's method name: optimize, laplace, variational,
                                * pathfinder */
  const char *summary_method;  /* optimize, laplace, advi, pathfinder */
  const char *config;          /* the method's header block */
  const char *const *lead;
  size_t nlead;
  const char *comment;         /* the result block after the column names, or NULL */
  /* rows: lead values and the unconstrained point of each; a mean row (variational) is
   * written first and not summarised */
  size_t nrows;
  const double *lead_values;   /* nrows * nlead */
  const double *theta;         /* nrows * dim */
  const double *mean_theta;    /* or NULL */
} output;

/* Writes the CSV and the summary; returns the exit code. */
static int finish(run *r, const output *w)
{
  const bayes_model *m = r->m;
  size_t ncol = w->nlead + r->nout;
  char err[512], path[4096];
  int rc = 0;
  double *vals = calloc((w->nrows + 1) * ncol, sizeof *vals);
  double *out = calloc(r->nout + 1, sizeof *out);
  const char **names = calloc(ncol + 1, sizeof *names);
  gsl_rng *rng = bayes_rng_alloc(r->seed, STREAM_GQ);
  bayes_ws *ws = bayes_ws_alloc(m);
  bayes_csv_writer *csv = NULL;
  bayes_run_summary *sum = NULL;
  char *text = NULL;
  if (!vals || !out || !names || !rng || !ws) goto oom;
  for (size_t i = 0; i < w->nlead; i++) names[i] = w->lead[i];
  for (size_t i = 0; i < r->nout; i++) names[w->nlead + i] = bayes_model_out_name(m, i);
  if (w->nrows > 0 || w->mean_theta) {
    snprintf(path, sizeof path, "%s/%s", r->outdir, w->file);
    bayes_csv_header h;
    memset(&h, 0, sizeof h);
    h.model = bayes_model_name(m);
    h.data_file = r->o->data ? r->o->data : "";
    h.init = r->init_text;
    h.output_file = path;
    h.method = w->csv_method;
    h.num_threads = 1;
    h.method_config = w->config;
    h.seed = r->seed;
    h.lead = w->lead;
    h.nlead = w->nlead;
    csv = bayes_csv_open(path, &h, r->nout, names + w->nlead, err, sizeof err);
    if (!csv) {
      fprintf(stderr, "bayesrun: error: %s\n", err);
      rc = EX_IOERR_;
      goto done;
    }
    bayes_sb c;
    bayes_sb_init(&c);
    if (w->comment) bayes_sb_puts(&c, w->comment);
    if (!isnan(r->khat)) {
      bayes_sb_puts(&c, c.len ? "\nPSIS k-hat = " : "PSIS k-hat = ");
      bayes_sb_double(&c, r->khat);
    }
    if (r->resampled) bayes_sb_puts(&c, "\nPSIS resampled = 1");
    if (failed(r)) bayes_sb_printf(&c, "%sDid not converge: %s", c.len ? "\n" : "", r->failure);
    int e = c.len ? bayes_csv_comment(csv, bayes_sb_cstr(&c)) : 0;
    bayes_sb_destroy(&c);
    if (e) goto ioerr;
    if (w->mean_theta) {
      double zero[8] = {0};
      if (bayes_ws_outputs(ws, w->mean_theta, rng, out) != 0)
        for (size_t i = 0; i < r->nout; i++) out[i] = NAN;
      if (bayes_csv_values(csv, zero, out)) goto ioerr;
    }
    for (size_t k = 0; k < w->nrows; k++) {
      if (bayes_ws_outputs(ws, w->theta + k * r->dim, rng, out) != 0)
        for (size_t i = 0; i < r->nout; i++) out[i] = NAN;
      const double *lead = w->lead_values + k * w->nlead;
      if (bayes_csv_values(csv, lead, out)) goto ioerr;
      memcpy(vals + k * ncol, lead, w->nlead * sizeof *lead);
      memcpy(vals + k * ncol + w->nlead, out, r->nout * sizeof *out);
    }
    double secs = cli_now() - r->t0;
    if (bayes_csv_close(csv, 0, secs, err, sizeof err) != 0) {
      csv = NULL;
      fprintf(stderr, "bayesrun: error: %s\n", err);
      rc = EX_IOERR_;
      goto done;
    }
    csv = NULL;
  }
  const double *chains[1] = {vals};
  bayes_summary_input in;
  memset(&in, 0, sizeof in);
  in.method = w->summary_method;
  in.nchains = 1;
  in.ndraws = w->nrows;
  in.ncols = ncol;
  in.names = names;
  in.chains = chains;
  in.warmup = -1;
  in.seed = r->seed;
  in.has_seed = true;
  in.total_seconds = cli_now() - r->t0;
  in.approximate = true;
  in.failure = failed(r) ? r->failure : NULL;
  in.psis_khat = r->khat;
  in.psis_resampled = r->resampled;
  in.details_text = bayes_sb_cstr(&r->text);
  in.details_json = bayes_sb_cstr(&r->json);
  in.notes = (const char *const *)r->notes;
  in.nnotes = r->nnotes;
  sum = bayes_summary_compute(&in, err, sizeof err);
  if (!sum) goto oom;
  text = bayes_summary_text(sum);
  if (!text) goto oom;
  fputs(text, stdout);
  snprintf(path, sizeof path, "%s/summary.json", r->outdir);
  if (bayes_summary_write_json(sum, path, err, sizeof err) != 0) {
    fprintf(stderr, "bayesrun: error: cannot write %s: %s\n", path, err);
    rc = EX_IOERR_;
    goto done;
  }
  if (!r->o->quiet) {
    if (w->nrows > 0)
      fprintf(stderr, "bayesrun: draws in %s/%s, summary in %s\n", r->outdir, w->file, path);
    else
      fprintf(stderr, "bayesrun: summary in %s\n", path);
  }
  if (failed(r)) {
    fprintf(stderr, "bayesrun: error: %s did not converge: %s\n", w->summary_method, r->failure);
    rc = 1;
  } else {
    rc = r->o->fail_on_warnings && sum->nwarnings ? 1 : 0;
  }
  goto done;
ioerr:
  fprintf(stderr, "bayesrun: error: cannot write %s: %s\n", path, strerror(errno ? errno : EIO));
  rc = EX_IOERR_;
  goto done;
oom:
  rc = oom();
done:
  bayes_csv_abort(csv);
  bayes_free(text);
  bayes_summary_free(sum);
  bayes_ws_free(ws);
  bayes_rng_free(rng);
  free(vals);
  free(out);
  free(names);
  return rc;
}

/* Whether to importance-resample: --psis-resample / --no-psis-resample, else the method's
 * default. */
static bool resample_wanted(const run *r, bool dflt)
{
  return r->o->given[CLI_O_PSIS_RESAMPLE] ? r->o->num[CLI_O_PSIS_RESAMPLE] != 0 : dflt;
}

/* PSIS k-hat of the draws; if resample, the draws are replaced by the first keep (all if
 * keep is 0 or more than there are) of as many importance-resampled ones (i.i.d. given the
 * draws). No finite log density at any draw is a failure (r->failure), not an error.
 * Returns 0, or EX_SOFTWARE_ out of memory (not printed). */
static int psis(run *r, bayes_approx_draws *d, bool resample, size_t keep)
{
  gsl_rng *rng = bayes_rng_alloc(r->seed, STREAM_PSIS);
  bayes_approx_draws rs;
  memset(&rs, 0, sizeof rs);
  if (!rng || (resample && bayes_approx_draws_init(&rs, d->dim, d->n) != 0)) {
    bayes_rng_free(rng);
    return EX_SOFTWARE_;
  }
  int e = bayes_approx_psis(d, rng, &r->khat, resample ? &rs : NULL);
  bayes_rng_free(rng);
  if (e == -2) {
    bayes_approx_draws_destroy(&rs);
    return EX_SOFTWARE_;
  }
  if (e == -1) {
    bayes_approx_draws_destroy(&rs);
    r->khat = NAN;
    snprintf(r->failure, sizeof r->failure, "the log density is not finite at any draw from "
             "the approximation, so it cannot be checked or corrected by importance sampling");
    return 0;
  }
  if (resample) {
    if (keep && keep < rs.n) rs.n = keep;
    bayes_approx_draws_destroy(d);
    *d = rs;
    r->resampled = true;
  }
  return 0;
}

/* The share of draws whose log density is not finite, reported when there are any. */
static void nonfinite_note(run *r, const bayes_approx_draws *d)
{
  size_t bad = 0;
  for (size_t k = 0; k < d->n; k++) bad += !isfinite(d->log_p[k]);
  if (!bad) return;
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_printf(&sb, "The log density is not finite at %zu of %zu draws from the "
                       "approximation: it puts mass where the posterior has none.", bad, d->n);
  add_note(r, &sb);
  bayes_sb_destroy(&sb);
}

/* ---- optimize ---- */

static int run_optimize(run *r)
{
  bayes_lbfgs_cfg cfg;
  bayes_lbfgs_defaults(&cfg);
  lbfgs_settings(r->o, &cfg);
  mode_result mr = {0};
  int rc = find_mode(r, &cfg, r->flags, &mr);
  if (rc) {
    free(mr.theta);
    return rc;
  }
  bool jac = (r->flags & BAYES_LD_JACOBIAN) != 0;
  /* Newton refinement with the finite-difference Hessian: L-BFGS's relative tests use its
   * own inverse-Hessian estimate, which on ill-conditioned posteriors stops it far from
   * the mode along a ridge (posteriordb's earn_height: 6 sds away). Up to
   * POLISH_MAX_DIM dimensions (4 dim gradients and an O(dim^3) factorisation per step). */
  int polished = 0;
  if (!failed(r) && r->dim > 0 && r->dim <= POLISH_MAX_DIM) {
    char err[512];
    int st;
    bayes_laplace *l = bayes_laplace_alloc(r->m, mr.theta, r->flags, &st, err, sizeof err);
    if (l && (polished = bayes_laplace_newton_steps(l)) > 0) {
      memcpy(mr.theta, bayes_laplace_mean(l), r->dim * sizeof *mr.theta);
      bayes_ws *ws = bayes_ws_alloc(r->m);
      if (ws) bayes_ws_log_density(ws, mr.theta, r->flags, &mr.lp, NULL);
      bayes_ws_free(ws);
    }
    bayes_laplace_free(l);
  }
  bayes_sb cfgtxt, comment;
  bayes_sb_init(&cfgtxt);
  bayes_sb_init(&comment);
  bayes_csv_section(&cfgtxt, 1, "optimize");
  bayes_csv_kv(&cfgtxt, 2, "algorithm", "lbfgs", true);
  bayes_csv_section(&cfgtxt, 3, "lbfgs");
  lbfgs_config_text(&cfgtxt, 4, &cfg);
  /* CmdStan's default is jacobian = 0; ours is 1 (the posterior mode on the unconstrained
   * scale, which is what a Laplace approximation needs) */
  bayes_csv_kv(&cfgtxt, 2, "jacobian", jac ? "1" : "0", false);
  bayes_csv_kv_num(&cfgtxt, 2, "iter", (double)cfg.max_iter, 2000);
  bayes_csv_kv(&cfgtxt, 2, "save_iterations", "0", true);
  bayes_sb_printf(&comment, "%s after %ld iterations: %s",
                  bayes_lbfgs_converged(mr.status) ? "Optimization terminated normally"
                                                   : "Optimization terminated with error",
                  mr.iterations, bayes_lbfgs_describe(mr.status));
  bayes_sb_printf(&r->text, "Mode of the %s after %ld L-BFGS iterations (%ld gradient "
                            "evaluations): %s.\nLog density at the mode: ",
                  jac ? "posterior on the unconstrained scale (with the log-Jacobian)"
                      : "density on the constrained scale (no log-Jacobian)",
                  mr.iterations, mr.evals, bayes_lbfgs_describe(mr.status));
  bayes_sb_double(&r->text, mr.lp);
  bayes_sb_puts(&r->text, " (lp__).\n");
  if (polished)
    bayes_sb_printf(&r->text, "The mode was refined by %d Newton step%s with the Hessian.\n",
                    polished, polished == 1 ? "" : "s");
  json_num_key(r, "newton_steps", polished);
  json_num_key(r, "log_density", mr.lp);
  json_key(r, "jacobian");
  bayes_sb_puts(&r->json, jac ? "true" : "false");
  json_num_key(r, "iterations", (double)mr.iterations);
  json_num_key(r, "gradient_evaluations", (double)mr.evals);
  json_str_key(r, "termination", bayes_lbfgs_describe(mr.status));
  static const char *const lead[] = {"lp__"};
  output w = {.file = "optimize.csv", .csv_method = "optimize", .summary_method = "optimize",
              .config = bayes_sb_cstr(&cfgtxt), .lead = lead, .nlead = 1,
              .comment = bayes_sb_cstr(&comment), .nrows = 1, .lead_values = &mr.lp,
              .theta = mr.theta};
  rc = finish(r, &w);
  bayes_sb_destroy(&cfgtxt);
  bayes_sb_destroy(&comment);
  free(mr.theta);
  return rc;
}

/* ---- laplace ---- */

static long ndraws(const run *r) { return r->o->has_draws ? r->o->draws : DEFAULT_DRAWS; }

/* the lead columns of each draw, in the method's order */
static double *lead_matrix(const bayes_approx_draws *d, size_t nlead, const int *which)
{
  double *v = calloc(d->n * nlead + 1, sizeof *v);
  if (!v) return NULL;
  for (size_t k = 0; k < d->n; k++)
    for (size_t j = 0; j < nlead; j++)
      v[k * nlead + j] = which[j] == 0 ? 0.0 : which[j] == 1 ? d->log_p[k] : d->log_q[k];
  return v;
}

static int run_laplace(run *r)
{
  bayes_lbfgs_cfg cfg;
  bayes_lbfgs_defaults(&cfg);
  lbfgs_settings(r->o, &cfg);
  mode_result mr = {0};
  bayes_approx_draws d;
  memset(&d, 0, sizeof d);
  bayes_laplace *lap = NULL;
  gsl_rng *rng = NULL;
  double *lead = NULL;
  bayes_sb cfgtxt;
  bayes_sb_init(&cfgtxt);
  int rc = find_mode(r, &cfg, r->flags, &mr);
  if (rc) goto out;
  bool jac = (r->flags & BAYES_LD_JACOBIAN) != 0;
  bayes_csv_section(&cfgtxt, 1, "laplace");
  bayes_csv_kv(&cfgtxt, 2, "mode", "(found by L-BFGS)", false);
  bayes_csv_kv(&cfgtxt, 2, "jacobian", jac ? "1" : "0", jac);
  bayes_csv_kv_num(&cfgtxt, 2, "draws", (double)ndraws(r), DEFAULT_DRAWS);
  bayes_sb_printf(&r->text, "Mode found after %ld L-BFGS iterations (%s); log density there ",
                  mr.iterations, bayes_lbfgs_describe(mr.status));
  bayes_sb_double(&r->text, mr.lp);
  bayes_sb_puts(&r->text, ".\n");
  json_num_key(r, "mode_log_density", mr.lp);
  json_num_key(r, "iterations", (double)mr.iterations);
  json_str_key(r, "termination", bayes_lbfgs_describe(mr.status));
  if (!failed(r)) {
    char err[512];
    int st;
    lap = bayes_laplace_alloc(r->m, mr.theta, r->flags, &st, err, sizeof err);
    if (!lap && st == -2) {
      rc = oom();
      goto out;
    }
    if (!lap) snprintf(r->failure, sizeof r->failure, "%s.", err);
  }
  output w = {.file = "laplace.csv", .csv_method = "laplace", .summary_method = "laplace",
              .config = bayes_sb_cstr(&cfgtxt), .nlead = 2};
  static const char *const names[] = {"log_p__", "log_g__"};
  static const int which[] = {1, 2};
  w.lead = names;
  if (lap) {
    rng = bayes_rng_alloc(r->seed, STREAM_DRAWS);
    if (!rng || bayes_approx_draws_init(&d, r->dim, (size_t)ndraws(r)) != 0) {
      rc = oom();
      goto out;
    }
    bayes_laplace_draws(lap, rng, &d);
    nonfinite_note(r, &d);
    if (psis(r, &d, resample_wanted(r, false), 0) != 0) {
      rc = oom();
      goto out;
    }
    if (!(lead = lead_matrix(&d, 2, which))) {
      rc = oom();
      goto out;
    }
    w.nrows = d.n;
    w.lead_values = lead;
    w.theta = d.theta;
  }
  rc = finish(r, &w);
out:
  bayes_sb_destroy(&cfgtxt);
  bayes_laplace_free(lap);
  bayes_rng_free(rng);
  bayes_approx_draws_destroy(&d);
  free(lead);
  free(mr.theta);
  return rc;
}

/* ---- advi ---- */

static int write_elbo_trace(run *r, const bayes_sb *trace)
{
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/elbo.tsv", r->outdir);
  bayes_afile af;
  if (bayes_afile_open(&af, path, err, sizeof err) != 0) {
    fprintf(stderr, "bayesrun: error: %s\n", err);
    return EX_IOERR_;
  }
  const char *s = trace->s ? trace->s : "";
  if (fputs(s, af.f) == EOF) {
    bayes_afile_abort(&af);
    fprintf(stderr, "bayesrun: error: cannot write %s\n", path);
    return EX_IOERR_;
  }
  if (bayes_afile_commit(&af, err, sizeof err) != 0) {
    fprintf(stderr, "bayesrun: error: %s\n", err);
    return EX_IOERR_;
  }
  return 0;
}

/* The per-coordinate KL check of a mean-field fit. */
static int latent_kl(run *r, bayes_advi *a)
{
  long nkl = r->o->given[CLI_O_KL_DRAWS] ? (long)r->o->num[CLI_O_KL_DRAWS] : DEFAULT_KL_DRAWS;
  if (nkl == 0 || r->dim == 0) return 0;
  double *kl = calloc(r->dim, sizeof *kl);
  gsl_rng *rng = bayes_rng_alloc(r->seed, STREAM_KL);
  if (!kl || !rng || bayes_latent_kl(r->m, bayes_advi_mean(a), bayes_advi_sd(a), (int)nkl, rng, kl) != 0) {
    free(kl);
    bayes_rng_free(rng);
    return oom();
  }
  bayes_rng_free(rng);
  char name[256];
  json_key(r, "latent_kl");
  bayes_sb_putc(&r->json, '{');
  size_t ncollapsed = 0;
  bayes_sb list;
  bayes_sb_init(&list);
  for (size_t i = 0; i < r->dim; i++) {
    coord_name(r->m, i, name, sizeof name);
    if (i) bayes_sb_puts(&r->json, ", ");
    bayes_sb_json_string(&r->json, name);
    bayes_sb_puts(&r->json, ": ");
    bayes_sb_json_number(&r->json, kl[i]);
    if (kl[i] < BAYES_LATENT_KL_COLLAPSED) {
      if (ncollapsed < 5) bayes_sb_printf(&list, "%s%s (%.2g)", ncollapsed ? ", " : "", name, kl[i]);
      ncollapsed++;
    }
  }
  bayes_sb_putc(&r->json, '}');
  json_num_key(r, "collapsed_coordinates", (double)ncollapsed);
  if (ncollapsed) {
    bayes_sb sb;
    bayes_sb_init(&sb);
    bayes_sb_printf(&sb, "The approximation of %zu coordinate%s has collapsed onto %s prior "
                         "(KL of approximation to prior below %g nats): %s%s. The fit learnt "
                         "nothing about %s from the data; this is the \"posterior collapse\" "
                         "of latent-variable models. Check that the data inform %s, or "
                         "compare with NUTS.",
                    ncollapsed, ncollapsed == 1 ? "" : "s", ncollapsed == 1 ? "its" : "their",
                    BAYES_LATENT_KL_COLLAPSED, bayes_sb_cstr(&list),
                    ncollapsed > 5 ? " and more" : "", ncollapsed == 1 ? "it" : "them",
                    ncollapsed == 1 ? "it" : "them");
    add_note(r, &sb);
    bayes_sb_destroy(&sb);
  }
  bayes_sb_destroy(&list);
  free(kl);
  return 0;
}

static int run_advi(run *r)
{
  cli_fit_opts *o = r->o;
  bayes_advi_cfg cfg;
  bayes_advi_defaults(&cfg);
  if (o->str[CLI_O_FAMILY] && !strcmp(o->str[CLI_O_FAMILY], "fullrank"))
    cfg.family = BAYES_ADVI_FULLRANK;
  if (o->given[CLI_O_ITER]) cfg.iter = (long)o->num[CLI_O_ITER];
  if (o->given[CLI_O_TOL_REL_OBJ]) cfg.tol_rel_obj = o->num[CLI_O_TOL_REL_OBJ];
  if (o->given[CLI_O_ETA]) cfg.eta = o->num[CLI_O_ETA], cfg.adapt = false;
  if (o->given[CLI_O_ADAPT_ITER]) cfg.adapt_iter = (long)o->num[CLI_O_ADAPT_ITER];
  if (o->given[CLI_O_GRAD_SAMPLES]) cfg.grad_samples = (int)o->num[CLI_O_GRAD_SAMPLES];
  if (o->given[CLI_O_ELBO_SAMPLES]) cfg.elbo_samples = (int)o->num[CLI_O_ELBO_SAMPLES];
  if (o->given[CLI_O_EVAL_ELBO]) cfg.eval_elbo = (long)o->num[CLI_O_EVAL_ELBO];
  if (o->given[CLI_O_PRECONDITION]) cfg.precondition = o->num[CLI_O_PRECONDITION] != 0;
  cfg.init_radius = r->radius;
  cfg.flags = r->flags;
  cfg.seed = r->seed;
  bool full = cfg.family == BAYES_ADVI_FULLRANK;
  bayes_advi *a = bayes_advi_alloc(r->m, &cfg);
  bayes_approx_draws d;
  memset(&d, 0, sizeof d);
  gsl_rng *rng = NULL;
  double *lead = NULL;
  bayes_sb cfgtxt, trace;
  bayes_sb_init(&cfgtxt);
  bayes_sb_init(&trace);
  int rc = 0;
  char err[512];
  if (!a) {
    return oom();
  }
  if (bayes_advi_init(a, r->init, err, sizeof err) != 0) {
    snprintf(r->failure, sizeof r->failure, "%s", err);
  }
  bayes_advi_status st = BAYES_ADVI_FAILED;
  bayes_advi_record rec = {0};
  double elbo = NAN, rel_mean = NAN, rel_median = NAN;
  bayes_sb_puts(&trace, "iter\telbo\trel_mean\trel_median\tgradient_evaluations\tseconds\n");
  if (!failed(r)) {
    for (;;) {
      rec.elbo = NAN;
      st = bayes_advi_iterate(a, &rec);
      if (!isnan(rec.elbo)) {
        elbo = rec.elbo;
        rel_mean = rec.rel_mean;
        rel_median = rec.rel_median;
        bayes_sb_printf(&trace, "%ld\t", rec.iter);
        bayes_sb_double(&trace, rec.elbo);
        bayes_sb_putc(&trace, '\t');
        bayes_sb_double(&trace, rec.rel_mean);
        bayes_sb_putc(&trace, '\t');
        bayes_sb_double(&trace, rec.rel_median);
        bayes_sb_printf(&trace, "\t%ld\t%.3f\n", rec.grad_evals, cli_now() - r->t0);
        progress(r, "ADVI iteration %ld, ELBO %.6g, relative change %.3g (mean) %.3g (median)",
                 rec.iter, rec.elbo, rec.rel_mean, rec.rel_median);
      }
      if (st != BAYES_ADVI_RUNNING) break;
    }
    progress_end(r);
    if (st == BAYES_ADVI_FAILED)
      snprintf(r->failure, sizeof r->failure, "%s", bayes_advi_error(a));
    else if (st == BAYES_ADVI_MAX_ITER)
      snprintf(r->failure, sizeof r->failure,
               "the ELBO did not converge in %ld iterations (relative ELBO change: mean %.3g, "
               "median %.3g; both must fall below tol_rel_obj %g). The draws are from the "
               "approximation where it stopped. Run longer (--iter), or use NUTS.",
               rec.iter, rel_mean, rel_median, cfg.tol_rel_obj);
    if ((rc = write_elbo_trace(r, &trace)) != 0) goto out;
  }
  static const char *const st_text[] = {"running", "mean relative ELBO change below tol_rel_obj",
                                        "median relative ELBO change below tol_rel_obj",
                                        "maximum iterations reached", "failed"};
  bayes_csv_section(&cfgtxt, 1, "variational");
  bayes_csv_kv(&cfgtxt, 2, "algorithm", full ? "fullrank" : "meanfield", !full);
  bayes_csv_section(&cfgtxt, 3, full ? "fullrank" : "meanfield");
  bayes_advi_cfg dc;
  bayes_advi_defaults(&dc);
  bayes_csv_kv_num(&cfgtxt, 2, "iter", (double)cfg.iter, (double)dc.iter);
  bayes_csv_kv_num(&cfgtxt, 2, "grad_samples", cfg.grad_samples, dc.grad_samples);
  bayes_csv_kv_num(&cfgtxt, 2, "elbo_samples", cfg.elbo_samples, dc.elbo_samples);
  bayes_csv_kv_num(&cfgtxt, 2, "eta", cfg.eta, dc.eta);
  bayes_csv_section(&cfgtxt, 2, "adapt");
  bayes_csv_kv(&cfgtxt, 3, "engaged", cfg.adapt ? "1" : "0", cfg.adapt);
  bayes_csv_kv_num(&cfgtxt, 3, "iter", (double)cfg.adapt_iter, (double)dc.adapt_iter);
  bayes_csv_kv_num(&cfgtxt, 2, "tol_rel_obj", cfg.tol_rel_obj, dc.tol_rel_obj);
  bayes_csv_kv_num(&cfgtxt, 2, "eval_elbo", (double)cfg.eval_elbo, (double)dc.eval_elbo);
  bayes_csv_kv_num(&cfgtxt, 2, "output_samples", (double)ndraws(r), DEFAULT_DRAWS);
  json_str_key(r, "family", full ? "fullrank" : "meanfield");
  json_num_key(r, "eta", bayes_advi_eta(a));
  json_key(r, "preconditioned");
  bayes_sb_puts(&r->json, bayes_advi_preconditioned(a) ? "true" : "false");
  json_num_key(r, "iterations", (double)rec.iter);
  json_num_key(r, "elbo", elbo);
  json_num_key(r, "rel_elbo_change_mean", rel_mean);
  json_num_key(r, "rel_elbo_change_median", rel_median);
  json_num_key(r, "gradient_evaluations", (double)rec.grad_evals);
  json_str_key(r, "termination", st_text[st]);
  json_str_key(r, "elbo_trace", "elbo.tsv");
  bayes_sb_printf(&r->text, "ADVI (%s%s, eta %g): %s after %ld iterations; ELBO ",
                  full ? "full-rank" : "mean-field",
                  bayes_advi_preconditioned(a) ? ", preconditioned by the Laplace approximation" : "",
                  bayes_advi_eta(a), st_text[st], rec.iter);
  bayes_sb_double(&r->text, elbo);
  bayes_sb_printf(&r->text, ". ELBO trace in %s/elbo.tsv.\n", r->outdir);
  char comment[256];
  snprintf(comment, sizeof comment, "Stepsize adaptation %s.\neta = %g",
           cfg.adapt ? "complete" : "off", bayes_advi_eta(a));
  static const char *const names[] = {"lp__", "log_p__", "log_g__"};
  static const int which[] = {0, 1, 2};
  output w = {.file = "advi.csv", .csv_method = "variational", .summary_method = "advi",
              .config = bayes_sb_cstr(&cfgtxt), .lead = names, .nlead = 3, .comment = comment};
  if (st == BAYES_ADVI_CONVERGED_MEAN || st == BAYES_ADVI_CONVERGED_MEDIAN ||
      st == BAYES_ADVI_MAX_ITER) {
    rng = bayes_rng_alloc(r->seed, STREAM_DRAWS);
    if (!rng || bayes_approx_draws_init(&d, r->dim, (size_t)ndraws(r)) != 0 ||
        bayes_advi_draws(a, rng, &d) != 0) {
      rc = oom();
      goto out;
    }
    nonfinite_note(r, &d);
    if (psis(r, &d, resample_wanted(r, false), 0) != 0) {
      rc = oom();
      goto out;
    }
    if (!full && (rc = latent_kl(r, a)) != 0) goto out;
    if (!(lead = lead_matrix(&d, 3, which))) {
      rc = oom();
      goto out;
    }
    w.nrows = d.n;
    w.lead_values = lead;
    w.theta = d.theta;
    w.mean_theta = bayes_advi_mean(a);
  }
  rc = finish(r, &w);
out:
  bayes_sb_destroy(&cfgtxt);
  bayes_sb_destroy(&trace);
  bayes_advi_free(a);
  bayes_rng_free(rng);
  bayes_approx_draws_destroy(&d);
  free(lead);
  return rc;
}

/* ---- pathfinder ---- */

typedef struct {
  const bayes_model *m;
  const bayes_pathfinder_cfg *cfg;
  const double *init;
  int npaths;
  bayes_approx_draws *draws;   /* npaths */
  bayes_pathfinder_info *info; /* npaths */
  int *status;                 /* npaths: 0 ok, else the path failed */
  char (*err)[512];            /* npaths */
  int next;
  pthread_mutex_t lock;
} pf_pool;

static void *pf_worker(void *arg)
{
  pf_pool *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->lock);
    int k = p->next++;
    pthread_mutex_unlock(&p->lock);
    if (k >= p->npaths) break;
    p->status[k] = bayes_pathfinder_path(p->m, p->cfg, k, p->init, &p->draws[k], &p->info[k],
                                         p->err[k], sizeof p->err[k]);
  }
  return NULL;
}

/* Runs the paths in threads and pools their draws (all of them, each with its own path's
 * log_q, as in Zhang et al. 2022, Alg. 5). Returns 0 with *pooled filled (n = 0 when every
 * path failed, with the reason in r->failure), or an exit code. */
static int pathfinder_paths(run *r, const bayes_pathfinder_cfg *cfg, int nthreads,
                            bayes_approx_draws *pooled, pf_pool *p)
{
  p->m = r->m;
  p->cfg = cfg;
  p->init = r->init;
  p->npaths = cfg->num_paths;
  p->draws = calloc((size_t)p->npaths, sizeof *p->draws);
  p->info = calloc((size_t)p->npaths, sizeof *p->info);
  p->status = calloc((size_t)p->npaths, sizeof *p->status);
  p->err = calloc((size_t)p->npaths, sizeof *p->err);
  if (!p->draws || !p->info || !p->status || !p->err) return EX_SOFTWARE_;
  for (int k = 0; k < p->npaths; k++)
    if (bayes_approx_draws_init(&p->draws[k], r->dim, (size_t)cfg->draws_per_path) != 0)
      return EX_SOFTWARE_;
  pthread_mutex_init(&p->lock, NULL);
  pthread_t th[64];
  int started = 0;
  if (nthreads > 64) nthreads = 64;
  for (int i = 0; i < nthreads && i < p->npaths; i++)
    if (pthread_create(&th[i], NULL, pf_worker, p) == 0) started++;
  if (!started) pf_worker(p);
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  pthread_mutex_destroy(&p->lock);
  size_t n = 0;
  int nok = 0;
  for (int k = 0; k < p->npaths; k++) {
    if (p->status[k] == -2) return EX_SOFTWARE_;
    if (p->status[k] == 0) n += p->draws[k].n, nok++;
  }
  if (!nok) {
    snprintf(r->failure, sizeof r->failure, "every path failed; path 1: %s", p->err[0]);
    memset(pooled, 0, sizeof *pooled);
    return 0;
  }
  if (bayes_approx_draws_init(pooled, r->dim, n) != 0) return EX_SOFTWARE_;
  size_t at = 0;
  for (int k = 0; k < p->npaths; k++) {
    if (p->status[k] != 0) continue;
    const bayes_approx_draws *d = &p->draws[k];
    memcpy(pooled->theta + at * r->dim, d->theta, d->n * r->dim * sizeof(double));
    memcpy(pooled->log_p + at, d->log_p, d->n * sizeof(double));
    memcpy(pooled->log_q + at, d->log_q, d->n * sizeof(double));
    at += d->n;
  }
  return 0;
}

static void pf_pool_free(pf_pool *p)
{
  if (p->draws)
    for (int k = 0; k < p->npaths; k++) bayes_approx_draws_destroy(&p->draws[k]);
  free(p->draws);
  free(p->info);
  free(p->status);
  free(p->err);
}

static void pathfinder_settings(const run *r, bayes_pathfinder_cfg *cfg)
{
  const cli_fit_opts *o = r->o;
  bayes_pathfinder_defaults(cfg);
  lbfgs_settings(o, &cfg->lbfgs);
  if (o->given[CLI_O_PATHS]) cfg->num_paths = (int)o->num[CLI_O_PATHS];
  if (o->given[CLI_O_DRAWS_PER_PATH]) cfg->draws_per_path = (long)o->num[CLI_O_DRAWS_PER_PATH];
  if (o->given[CLI_O_ELBO_DRAWS]) cfg->num_elbo_draws = (int)o->num[CLI_O_ELBO_DRAWS];
  if (o->given[CLI_O_HISTORY]) cfg->history = (int)o->num[CLI_O_HISTORY];
  if (o->has_draws) cfg->num_draws = o->draws;
  cfg->init_radius = r->radius;
  cfg->flags = r->flags;
  cfg->seed = r->seed;
}

static int threads_for(const cli_fit_opts *o, int n)
{
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) ncpu = 1;
  int t = o->has_threads ? (int)o->threads : (int)ncpu;
  return t < n ? t : n;
}

static int run_pathfinder(run *r)
{
  bayes_pathfinder_cfg cfg;
  pathfinder_settings(r, &cfg);
  pf_pool p;
  memset(&p, 0, sizeof p);
  bayes_approx_draws pooled;
  memset(&pooled, 0, sizeof pooled);
  double *lead = NULL;
  bayes_sb cfgtxt;
  bayes_sb_init(&cfgtxt);
  int rc = 0;
  if (!r->o->quiet && !r->tty)
    fprintf(stderr, "bayesrun: running %d Pathfinder path%s\n", cfg.num_paths,
            cfg.num_paths == 1 ? "" : "s");
  rc = pathfinder_paths(r, &cfg, threads_for(r->o, cfg.num_paths), &pooled, &p);
  if (rc) goto oom;
  if (pooled.n) {
    /* CmdStan resamples only when several paths are pooled, unless asked */
    bool resample = resample_wanted(r, cfg.num_paths > 1 && cfg.psis_resample);
    if ((rc = psis(r, &pooled, resample, (size_t)cfg.num_draws)) != 0) goto oom;
    nonfinite_note(r, &pooled);
  }
  bayes_pathfinder_cfg dc;
  bayes_pathfinder_defaults(&dc);
  bayes_csv_section(&cfgtxt, 1, "pathfinder");
  lbfgs_config_text(&cfgtxt, 2, &cfg.lbfgs);
  bayes_csv_kv_num(&cfgtxt, 2, "num_psis_draws", (double)cfg.num_draws, (double)dc.num_draws);
  bayes_csv_kv_num(&cfgtxt, 2, "num_paths", cfg.num_paths, dc.num_paths);
  bayes_csv_kv(&cfgtxt, 2, "save_single_paths", "0", true);
  bayes_csv_kv(&cfgtxt, 2, "psis_resample", r->resampled ? "1" : "0", r->resampled == dc.psis_resample);
  bayes_csv_kv(&cfgtxt, 2, "calculate_lp", "1", true);
  bayes_csv_kv_num(&cfgtxt, 2, "max_lbfgs_iters", (double)cfg.lbfgs.max_iter, (double)dc.lbfgs.max_iter);
  bayes_csv_kv_num(&cfgtxt, 2, "num_draws", (double)cfg.draws_per_path, (double)dc.draws_per_path);
  bayes_csv_kv_num(&cfgtxt, 2, "num_elbo_draws", cfg.num_elbo_draws, dc.num_elbo_draws);
  int nok = 0;
  long evals = 0;
  json_num_key(r, "paths", cfg.num_paths);
  json_key(r, "per_path");
  bayes_sb_putc(&r->json, '[');
  for (int k = 0; k < p.npaths; k++) {
    const bayes_pathfinder_info *pi = &p.info[k];
    evals += pi->grad_evals;
    bayes_sb_printf(&r->json, "%s{\"ok\": %s, ", k ? ", " : "", p.status[k] ? "false" : "true");
    if (p.status[k]) {
      bayes_sb_puts(&r->json, "\"error\": ");
      bayes_sb_json_string(&r->json, p.err[k]);
    } else {
      nok++;
      bayes_sb_printf(&r->json, "\"lbfgs_iterations\": %ld, \"best_iteration\": %ld, \"elbo\": ",
                      pi->lbfgs_iter, pi->best_iter);
      bayes_sb_json_number(&r->json, pi->best_elbo);
      bayes_sb_printf(&r->json, ", \"gradient_evaluations\": %ld", pi->grad_evals);
    }
    bayes_sb_putc(&r->json, '}');
  }
  bayes_sb_putc(&r->json, ']');
  json_num_key(r, "gradient_evaluations", (double)evals);
  bayes_sb_printf(&r->text, "Pathfinder: %d of %d paths succeeded, %ld gradient evaluations%s.\n",
                  nok, cfg.num_paths, evals,
                  r->resampled ? "; draws importance-resampled from the pooled paths" : "");
  for (int k = 0; k < p.npaths; k++)
    if (p.status[k] && nok) {
      bayes_sb sb;
      bayes_sb_init(&sb);
      bayes_sb_printf(&sb, "Path %d failed: %s", k + 1, p.err[k]);
      add_note(r, &sb);
      bayes_sb_destroy(&sb);
    }
  static const char *const names[] = {"lp_approx__", "lp__"};
  static const int which[] = {2, 1};
  output w = {.file = "pathfinder.csv", .csv_method = "pathfinder",
              .summary_method = "pathfinder", .config = bayes_sb_cstr(&cfgtxt), .lead = names,
              .nlead = 2};
  if (pooled.n) {
    if (!(lead = lead_matrix(&pooled, 2, which))) goto oom;
    w.nrows = pooled.n;
    w.lead_values = lead;
    w.theta = pooled.theta;
  }
  rc = finish(r, &w);
  goto out;
oom:
  rc = oom();
out:
  bayes_sb_destroy(&cfgtxt);
  pf_pool_free(&p);
  bayes_approx_draws_destroy(&pooled);
  free(lead);
  return rc;
}

/* ---- entry points ---- */

static int setup(run *r, const bayes_model *m, cli_fit_opts *o, uint64_t seed)
{
  memset(r, 0, sizeof *r);
  r->m = m;
  r->o = o;
  r->dim = bayes_model_dim(m);
  r->nout = bayes_model_nout(m);
  r->seed = seed;
  r->outdir = o->outdir ? o->outdir : bayes_model_name(m);
  r->radius = 2;
  r->khat = NAN;
  r->t0 = cli_now();
  r->tty = isatty(2);
  r->last_progress = r->t0; /* the first progress line after a period, not at once */
  bayes_sb_init(&r->text);
  bayes_sb_init(&r->json);
  r->flags = BAYES_LD_JACOBIAN | (o->prior ? BAYES_LD_PRIOR_ONLY : 0);
  if (o->given[CLI_O_JACOBIAN] && o->num[CLI_O_JACOBIAN] == 0) r->flags &= ~(unsigned)BAYES_LD_JACOBIAN;
  r->init_text = o->init && strcmp(o->init, "pathfinder") ? o->init : "2";
  if (o->init && strcmp(o->init, "pathfinder"))
    return cli_init_values(m, o->init, &r->radius, &r->init);
  return 0;
}

static void teardown(run *r)
{
  free(r->init);
  bayes_sb_destroy(&r->text);
  bayes_sb_destroy(&r->json);
  for (size_t i = 0; i < r->nnotes; i++) bayes_free(r->notes[i]);
}

int cli_fit_approx(const bayes_model *m, cli_fit_opts *o)
{
  run r;
  int rc = setup(&r, m, o, cli_seed(o));
  if (rc) goto out;
  if (cli_make_dir(r.outdir) != 0) {
    fprintf(stderr, "bayesrun: error: cannot create the output folder '%s': %s\n", r.outdir,
            strerror(errno));
    rc = EX_CANTCREAT_;
    goto out;
  }
  switch (o->mbit) {
  case CLI_M_OPTIMIZE: rc = run_optimize(&r); break;
  case CLI_M_LAPLACE: rc = run_laplace(&r); break;
  case CLI_M_ADVI: rc = run_advi(&r); break;
  case CLI_M_PATHFINDER: rc = run_pathfinder(&r); break;
  default:
    fprintf(stderr, "bayesrun: internal error: method %s is not an approximation; please "
                    "report\n", o->method);
    rc = EX_SOFTWARE_;
  }
out:
  teardown(&r);
  return rc;
}

int cli_pathfinder_inits(const bayes_model *m, const cli_fit_opts *o, uint64_t seed,
                         int nchains, double **thetas)
{
  run r;
  cli_fit_opts po = *o;
  po.has_draws = false;
  int rc = setup(&r, m, &po, seed);
  bayes_approx_draws pooled;
  memset(&pooled, 0, sizeof pooled);
  pf_pool p;
  memset(&p, 0, sizeof p);
  *thetas = NULL;
  if (rc) goto out;
  bayes_pathfinder_cfg cfg;
  pathfinder_settings(&r, &cfg);
  if (!o->quiet) fprintf(stderr, "bayesrun: initial values from %d Pathfinder paths\n", cfg.num_paths);
  if ((rc = pathfinder_paths(&r, &cfg, threads_for(o, cfg.num_paths), &pooled, &p)) != 0) goto out;
  if (!failed(&r) && (rc = psis(&r, &pooled, true, (size_t)cfg.num_draws)) != 0)
    goto out;
  if (failed(&r)) {
    fprintf(stderr, "bayesrun: error: --init pathfinder: %s\n", r.failure);
    rc = EX_DATAERR_;
    goto out;
  }
  *thetas = calloc((size_t)nchains * r.dim + 1, sizeof **thetas);
  if (!*thetas) {
    rc = EX_SOFTWARE_;
    goto out;
  }
  /* chain c starts at resampled draw c * n / nchains: independent draws */
  for (int c = 0; c < nchains; c++) {
    size_t k = (size_t)c * pooled.n / (size_t)nchains;
    memcpy(*thetas + (size_t)c * r.dim, pooled.theta + k * r.dim, r.dim * sizeof(double));
  }
  if (!o->quiet && r.khat > BAYES_PSIS_KHAT_BAD)
    fprintf(stderr, "bayesrun: note: Pathfinder's k-hat is %.2f: its draws are rough "
                    "initial values only; warmup will move away from them\n", r.khat);
out:
  if (rc == EX_SOFTWARE_) fprintf(stderr, "bayesrun: out of memory\n");
  pf_pool_free(&p);
  bayes_approx_draws_destroy(&pooled);
  teardown(&r);
  return rc;
}
