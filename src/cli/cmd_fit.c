/* cmd_fit.c — `bayesrun MODEL.yaml`: fit a model with the NUTS or static HMC backend.
 * Settings come from the file's `inference:` section, overridden by flags; chains run in
 * threads (each chain's draws depend only on the seed and its chain id, never on the
 * thread count); each chain writes CmdStan CSV through the atomic writer; progress is
 * shown on stderr; the summary is printed and written as summary.json. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nuts.h"
#include "stancsv.h"
#include "summary.h"

#define MAX_CHAINS 1024

typedef struct fit_run fit_run;

typedef struct {
  fit_run *run;
  int chain;                   /* 1-based */
  bayes_sampler *s;
  bayes_ws *ws;
  bayes_csv_writer *csv;
  double *out;                 /* nout values of the current draw */
  double *kept;                /* draws x (7 + nout): what the summary needs */
  long nkept;
  double warmup_s, sampling_s;
  atomic_long iter;            /* progress, read by the main thread */
  atomic_long divergences;
  atomic_long grad_evals;
  atomic_long start_ns;        /* when the chain started (0: waiting for a thread) */
  atomic_int done;             /* 1 finished, -1 failed */
  _Atomic double stepsize;     /* last step size (progress display) */
  char err[512];
} fit_chain;

struct fit_run {
  const bayes_model *m;
  bayes_sampler_cfg cfg;
  int nchains, nthreads;
  size_t nout;
  const char *outdir;
  const char *data_file;
  const char *init;            /* radius as text, or a file */
  double *init_theta;          /* from an init file, or NULL */
  double *init_chains;         /* --init pathfinder: one point per chain, or NULL */
  fit_chain *chains;
  atomic_int next_chain;
  /* a finished chain wakes the main thread (no polling delay at the end of a run) */
  pthread_mutex_t lock;
  pthread_cond_t finished;
  int nfinished;
};

double cli_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int run_chain(fit_chain *c)
{
  fit_run *r = c->run;
  const bayes_model *m = r->m;
  atomic_store(&c->start_ns, (long)(cli_now() * 1e9));
  bayes_sampler_cfg cfg = r->cfg;
  cfg.chain = c->chain;
  c->s = bayes_sampler_alloc(m, &cfg);
  c->ws = bayes_ws_alloc(m);
  size_t ncol = 7 + r->nout;
  c->out = calloc(r->nout + 1, sizeof *c->out);
  long nkeep = cfg.thin > 0 ? (cfg.draws + cfg.thin - 1) / cfg.thin : cfg.draws;
  c->kept = calloc((size_t)(nkeep + 1) * ncol, sizeof *c->kept);
  if (!c->s || !c->ws || !c->out || !c->kept) {
    snprintf(c->err, sizeof c->err, "chain %d: out of memory", c->chain);
    return -1;
  }
  const double *init = r->init_chains ? r->init_chains + (size_t)(c->chain - 1) * bayes_model_dim(m)
                                      : r->init_theta;
  if (bayes_sampler_init(c->s, init, c->err, sizeof c->err) != 0) return -1;
  char path[4096];
  snprintf(path, sizeof path, "%s/chain_%d.csv", r->outdir, c->chain);
  const char **names = malloc((r->nout + 1) * sizeof *names);
  if (!names) {
    snprintf(c->err, sizeof c->err, "chain %d: out of memory", c->chain);
    return -1;
  }
  for (size_t i = 0; i < r->nout; i++) names[i] = bayes_model_out_name(m, i);
  bayes_csv_header h;
  memset(&h, 0, sizeof h);
  h.model = bayes_model_name(m);
  h.cfg = &cfg;
  h.num_chains = r->nchains;
  h.data_file = r->data_file ? r->data_file : "";
  h.init = r->init;
  h.output_file = path;
  h.method = "sample";
  h.num_threads = r->nthreads;
  c->csv = bayes_csv_open(path, &h, r->nout, names, c->err, sizeof c->err);
  free(names);
  if (!c->csv) return -1;
  /* The elapsed times (CSV footer, summary.json) are the sampler's and the generated
   * quantities' time, as rstan's get_elapsed_time and CmdStan's report them, without the
   * time spent formatting the CSV rows (done as the chain runs, so that draws reach the
   * file early). The wall time of the whole command is what the user waits for. */
  double warmup_s = 0, sampling_s = 0;
  bool adaptation_written = false;
  bayes_draw d;
  long kept = 0;
  for (;;) {
    double ta = cli_now();
    int more = bayes_sampler_iterate(c->s, &d);
    if (more < 0) {
      snprintf(c->err, sizeof c->err, "chain %d: the sampler failed (please report)", c->chain);
      return -1;
    }
    atomic_store(&c->iter, d.iteration + 1);
    atomic_store(&c->grad_evals, bayes_sampler_grad_evals(c->s));
    if (d.divergent && !d.warmup) atomic_fetch_add(&c->divergences, 1);
    atomic_store(&c->stepsize, d.stepsize);
    if (d.warmup) {
      warmup_s += cli_now() - ta;
    } else {
      if (!adaptation_written) {
        if (cfg.adapt && cfg.warmup > 0 &&
            bayes_csv_adaptation(c->csv, bayes_sampler_stepsize(c->s),
                                 bayes_sampler_inv_metric(c->s), bayes_model_dim(m),
                                 cfg.metric == BAYES_METRIC_DENSE) != 0) {
          snprintf(c->err, sizeof c->err, "chain %d: cannot write %.400s", c->chain, path);
          return -1;
        }
        adaptation_written = true;
      }
      long k = d.iteration - cfg.warmup;
      if (k % cfg.thin == 0) {
        if (bayes_ws_outputs(c->ws, d.theta, bayes_sampler_rng(c->s), c->out) != 0) {
          /* a generated quantity failed (e.g. an rng with invalid parameters): the draw
           * is still written, with NaN where the outputs could not be computed */
          for (size_t i = 0; i < r->nout; i++) c->out[i] = NAN;
        }
        sampling_s += cli_now() - ta;
        if (bayes_csv_row(c->csv, &d, c->out) != 0) {
          snprintf(c->err, sizeof c->err, "chain %d: cannot write %.400s", c->chain, path);
          return -1;
        }
        double *row = c->kept + (size_t)kept * ncol;
        row[0] = d.lp;
        row[1] = d.accept_stat;
        row[2] = d.stepsize;
        row[3] = d.treedepth;
        row[4] = d.n_leapfrog;
        row[5] = d.divergent;
        row[6] = d.energy;
        memcpy(row + 7, c->out, r->nout * sizeof *c->out);
        kept++;
      } else {
        sampling_s += cli_now() - ta;
      }
    }
    if (more == 0) break;
  }
  c->warmup_s = warmup_s;
  c->sampling_s = sampling_s;
  c->nkept = kept;
  if (bayes_csv_close(c->csv, c->warmup_s, c->sampling_s, c->err, sizeof c->err) != 0) {
    c->csv = NULL;
    return -1;
  }
  c->csv = NULL;
  return 0;
}

static void *worker(void *arg)
{
  fit_run *r = arg;
  for (;;) {
    int k = atomic_fetch_add(&r->next_chain, 1);
    if (k >= r->nchains) break;
    fit_chain *c = &r->chains[k];
    int rc = run_chain(c);
    atomic_store(&c->done, rc == 0 ? 1 : -1);
    pthread_mutex_lock(&r->lock);
    r->nfinished++;
    pthread_cond_signal(&r->finished);
    pthread_mutex_unlock(&r->lock);
  }
  return NULL;
}

/* ---- progress ---- */

/* One line per chain, redrawn in place on a terminal; a plain line now and then
 * otherwise (logs, CI). */
static void progress(fit_run *r, bool tty, double t0, int *lines)
{
  long total = r->cfg.warmup + r->cfg.draws;
  double el = cli_now() - t0;
  if (!tty) {
    long sum = 0;
    for (int i = 0; i < r->nchains; i++) sum += atomic_load(&r->chains[i].iter);
    long all = total * r->nchains;
    fprintf(stderr, "bayesrun: %3.0f%% of %ld iterations (%d chain%s), %.1f s\n",
            all ? 100.0 * (double)sum / (double)all : 100.0, all, r->nchains,
            r->nchains == 1 ? "" : "s", el);
    return;
  }
  if (*lines) fprintf(stderr, "\033[%dA", *lines);
  *lines = 0;
  for (int i = 0; i < r->nchains; i++) {
    fit_chain *c = &r->chains[i];
    long it = atomic_load(&c->iter), start = atomic_load(&c->start_ns);
    int done = atomic_load(&c->done);
    if (!start) {
      fprintf(stderr, "\033[2Kchain %d: waiting for a thread\n", c->chain);
      (*lines)++;
      continue;
    }
    double run = cli_now() - (double)start * 1e-9;
    double frac = total ? (double)it / (double)total : 1;
    char eta[32] = "";
    if (!done && frac > 0.01) snprintf(eta, sizeof eta, ", ETA %.0f s", run * (1 - frac) / frac);
    fprintf(stderr, "\033[2Kchain %d: %ld/%ld %s, %ld divergent, step size %.3g, %.0f gradients/s%s\n",
            c->chain, it, total,
            done > 0 ? "done" : done < 0 ? "failed" : it <= r->cfg.warmup ? "warmup" : "sampling",
            (long)atomic_load(&c->divergences), atomic_load(&c->stepsize),
            run > 0 ? (double)atomic_load(&c->grad_evals) / run : 0.0, eta);
    (*lines)++;
  }
}

/* ---- settings ---- */

typedef cli_fit_opts fit_opts;

/* The approximate methods' settings (cli.h): flag (without "--"), `inference:` key, type
 * ('l' whole number, 'd' number, 'b' boolean with a --no- form, 's' one of a list), range
 * and the methods they apply to. */
typedef struct {
  const char *flag, *key;
  char type;
  double lo, hi;
  unsigned methods;
  const char *choices;         /* 's': "a|b" */
} opt_spec;

#define M_LBFGS (CLI_M_OPTIMIZE | CLI_M_LAPLACE | CLI_M_PATHFINDER)
static const opt_spec specs[CLI_NOPT] = {
    [CLI_O_FAMILY] = {"family", "family", 's', 0, 0, CLI_M_ADVI, "meanfield|fullrank"},
    [CLI_O_ITER] = {"iter", "iter", 'l', 1, 1e9, M_LBFGS | CLI_M_ADVI, NULL},
    [CLI_O_TOL_OBJ] = {"tol-obj", "tol_obj", 'd', 0, INFINITY, M_LBFGS, NULL},
    [CLI_O_TOL_REL_OBJ] = {"tol-rel-obj", "tol_rel_obj", 'd', 0, INFINITY, M_LBFGS | CLI_M_ADVI, NULL},
    [CLI_O_TOL_GRAD] = {"tol-grad", "tol_grad", 'd', 0, INFINITY, M_LBFGS, NULL},
    [CLI_O_TOL_REL_GRAD] = {"tol-rel-grad", "tol_rel_grad", 'd', 0, INFINITY, M_LBFGS, NULL},
    [CLI_O_TOL_PARAM] = {"tol-param", "tol_param", 'd', 0, INFINITY, M_LBFGS, NULL},
    [CLI_O_HISTORY] = {"history", "history_size", 'l', 1, 1000, M_LBFGS, NULL},
    [CLI_O_INIT_ALPHA] = {"init-alpha", "init_alpha", 'd', 1e-300, INFINITY, M_LBFGS, NULL},
    [CLI_O_JACOBIAN] = {"jacobian", "jacobian", 'b', 0, 1, CLI_M_OPTIMIZE | CLI_M_LAPLACE, NULL},
    [CLI_O_ETA] = {"eta", "eta", 'd', 1e-300, INFINITY, CLI_M_ADVI, NULL},
    [CLI_O_ADAPT_ITER] = {"adapt-iter", "adapt_iter", 'l', 1, 1e9, CLI_M_ADVI, NULL},
    [CLI_O_GRAD_SAMPLES] = {"grad-samples", "grad_samples", 'l', 1, 1e6, CLI_M_ADVI, NULL},
    [CLI_O_ELBO_SAMPLES] = {"elbo-samples", "elbo_samples", 'l', 1, 1e7, CLI_M_ADVI, NULL},
    [CLI_O_EVAL_ELBO] = {"eval-elbo", "eval_elbo", 'l', 1, 1e9, CLI_M_ADVI, NULL},
    [CLI_O_PATHS] = {"paths", "num_paths", 'l', 1, 1024, CLI_M_PATHFINDER, NULL},
    [CLI_O_DRAWS_PER_PATH] = {"draws-per-path", "draws_per_path", 'l', 1, 1e8, CLI_M_PATHFINDER, NULL},
    [CLI_O_ELBO_DRAWS] = {"elbo-draws", "num_elbo_draws", 'l', 1, 1e6, CLI_M_PATHFINDER, NULL},
    [CLI_O_PSIS_RESAMPLE] = {"psis-resample", "psis_resample", 'b', 0, 1, CLI_M_LAPLACE | CLI_M_ADVI | CLI_M_PATHFINDER, NULL},
    [CLI_O_KL_DRAWS] = {"kl-draws", "kl_draws", 'l', 0, 1e6, CLI_M_ADVI, NULL},
    [CLI_O_PRECONDITION] = {"precondition", "precondition", 'b', 0, 1, CLI_M_ADVI, NULL},
};

static const struct {
  const char *name;
  unsigned bit;
} methods[] = {{"nuts", CLI_M_NUTS},         {"hmc", CLI_M_HMC},
               {"optimize", CLI_M_OPTIMIZE}, {"laplace", CLI_M_LAPLACE},
               {"advi", CLI_M_ADVI},         {"pathfinder", CLI_M_PATHFINDER},
               {"smc", CLI_M_SMC},           {"sequential", CLI_M_SEQUENTIAL}};

static unsigned method_bit(const char *name)
{
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (!strcmp(methods[i].name, name)) return methods[i].bit;
  return 0;
}

/* "nuts and hmc", "optimize, laplace and pathfinder" */
static void method_list(char *buf, size_t n, unsigned mask)
{
  size_t k = 0, count = 0, total = 0;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) total += !!(mask & methods[i].bit);
  buf[0] = 0;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0] && k < n; i++)
    if (mask & methods[i].bit) {
      count++;
      k += (size_t)snprintf(buf + k, n - k, "%s%s",
                            count == 1 ? "" : count == total ? " and " : ", ", methods[i].name);
    }
}

/* Parses the value of setting id; returns 0 or -1 with a reason in why. */
static int parse_spec(cli_opt_id id, const char *v, fit_opts *o, char *why, size_t n)
{
  const opt_spec *sp = &specs[id];
  char *end;
  errno = 0;
  switch (sp->type) {
  case 's': {
    size_t len = strlen(v);
    for (const char *c = sp->choices; *c;) {
      size_t k = strcspn(c, "|");
      if (k == len && !strncmp(c, v, k)) {
        o->str[id] = v;
        return 0;
      }
      c += k + (c[k] == '|');
    }
    snprintf(why, n, "one of %s", sp->choices);
    return -1;
  }
  case 'b':
    if (!strcmp(v, "true") || !strcmp(v, "1")) o->num[id] = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0")) o->num[id] = 0;
    else {
      snprintf(why, n, "true or false");
      return -1;
    }
    return 0;
  default: {
    double x = strtod(v, &end);
    if (!*v || *end || errno || isnan(x) || x < sp->lo || x > sp->hi ||
        (sp->type == 'l' && x != floor(x))) {
      if (sp->type == 'l')
        snprintf(why, n, "a whole number from %.0f to %.0f", sp->lo, sp->hi);
      else
        snprintf(why, n, sp->lo > 0 ? "a positive number" : "a number >= 0");
      return -1;
    }
    o->num[id] = x;
    return 0;
  }
  }
}

static int bad_setting(const bayes_model *m, const bayes_setting *st, const char *fmt,
                       const char *what)
{
  char *msg = bayes_model_message(m, "error", st->line, st->col, st->len, fmt, st->key, what);
  if (msg) fputs(msg, stderr);
  bayes_string_free(msg);
  return EX_DATAERR_;
}

static int parse_long(const char *s, long lo, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < lo) return -1;
  *out = v;
  return 0;
}

static int parse_double(const char *s, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* A setting for the file's own method when --method chose another one: not an error (the
 * file is written for its method), but said, since nothing written may be ignored
 * silently. */
static bool skip_other_method(const bayes_model *m, const bayes_setting *st, const fit_opts *o)
{
  const char *fm = bayes_model_inference(m)->method;
  if (!o->method_from_flag || !fm || !strcmp(fm, o->method)) return false;
  if (!o->quiet) {
    char *msg = bayes_model_message(m, "note", st->line, st->col, st->len,
                                    "'%s' is a setting for method %s; --method %s does not "
                                    "use it", st->key, fm, o->method);
    if (msg) fputs(msg, stderr);
    bayes_string_free(msg);
  }
  return true;
}

/* The file's settings, under the flags (a flag given wins). */
static int apply_file_settings(const bayes_model *m, fit_opts *o)
{
  const bayes_inference_info *inf = bayes_model_inference(m);
  for (size_t i = 0; i < inf->nsettings; i++) {
    const bayes_setting *st = &inf->settings[i];
    if (strcmp(st->key, "method") == 0 && !o->method) {
      if (!method_bit(st->value))
        return bad_setting(m, st, "%s must be one of nuts, hmc, optimize, laplace, advi, "
                           "pathfinder, smc, sequential%s", "");
      o->method = st->value;
    }
  }
  if (!o->method) o->method = "nuts";
  o->mbit = method_bit(o->method);
  for (size_t i = 0; i < inf->nsettings; i++) {
    const bayes_setting *st = &inf->settings[i];
    const char *k = st->key, *v = st->value;
    long l;
    double x;
    int id = -1;
    for (int j = 0; j < CLI_NOPT; j++)
      if (!strcmp(k, specs[j].key)) id = j;
    if (id >= 0) {
      char why[128], ms[128];
      if (!(specs[id].methods & o->mbit) && skip_other_method(m, st, o)) continue;
      if (!(specs[id].methods & o->mbit)) {
        method_list(ms, sizeof ms, specs[id].methods);
        char *msg = bayes_model_message(m, "error", st->line, st->col, st->len,
                                        "the setting '%s' does not apply to method %s (only "
                                        "to %s)", k, o->method, ms);
        if (msg) fputs(msg, stderr);
        bayes_string_free(msg);
        return EX_DATAERR_;
      }
      if (o->given[id]) continue; /* the flag wins */
      if (parse_spec((cli_opt_id)id, v, o, why, sizeof why) != 0) {
        char *msg = bayes_model_message(m, "error", st->line, st->col, st->len,
                                        "%s must be %s", k, why);
        if (msg) fputs(msg, stderr);
        bayes_string_free(msg);
        return EX_DATAERR_;
      }
      o->given[id] = true;
      continue;
    }
    if (strcmp(k, "method") == 0) {
      continue;
    } else if (strcmp(k, "chains") == 0 || strcmp(k, "warmup") == 0 ||
               strcmp(k, "draws") == 0 || strcmp(k, "thin") == 0 ||
               strcmp(k, "seed") == 0) {
      /* validated by the model reader */
      if (parse_long(v, 0, &l)) return bad_setting(m, st, "%s must be a whole number%s", "");
      if (strcmp(k, "chains") == 0 && !o->has_chains) o->chains = l, o->has_chains = true;
      if (strcmp(k, "warmup") == 0 && !o->has_warmup) o->warmup = l, o->has_warmup = true;
      if (strcmp(k, "draws") == 0 && !o->has_draws) o->draws = l, o->has_draws = true;
      if (strcmp(k, "thin") == 0 && !o->has_thin) o->thin = l, o->has_thin = true;
      if (strcmp(k, "seed") == 0 && !o->has_seed) o->seed = l, o->has_seed = true;
    } else if (strcmp(k, "adapt_delta") == 0) {
      if (parse_double(v, &x) || !(x > 0 && x < 1))
        return bad_setting(m, st, "%s must be a number between 0 and 1%s", "");
      if (!o->has_adapt_delta) o->adapt_delta = x, o->has_adapt_delta = true;
    } else if (strcmp(k, "max_depth") == 0) {
      if (parse_long(v, 1, &l) || l > 30)
        return bad_setting(m, st, "%s must be a whole number from 1 to 30%s", "");
      if (!o->has_max_depth) o->max_depth = l, o->has_max_depth = true;
    } else if (strcmp(k, "threads") == 0) {
      if (parse_long(v, 1, &l)) return bad_setting(m, st, "%s must be a whole number of at least 1%s", "");
      if (!o->has_threads) o->threads = l, o->has_threads = true;
    } else if (strcmp(k, "metric") == 0) {
      if (strcmp(v, "diag") && strcmp(v, "dense") && strcmp(v, "unit"))
        return bad_setting(m, st, "%s must be diag, dense or unit%s", "");
      if (!o->metric) o->metric = v;
    } else if (strcmp(k, "init") == 0) {
      if (!o->init) o->init = v;
    } else if (strcmp(k, "refresh") == 0) {
      if (parse_long(v, 0, &l)) return bad_setting(m, st, "%s must be a whole number%s", "");
      /* progress is shown by time, not by iteration count: refresh 0 silences it */
      if (l == 0) o->quiet = true;
    } else {
      return bad_setting(m, st, "the setting '%s' does not apply to method %s",
                         o->method ? o->method : "nuts");
    }
    /* the sampler settings above apply to NUTS and HMC; draws also to the approximations */
    unsigned ok = !strcmp(k, "draws") ? CLI_M_ALL & ~CLI_M_OPTIMIZE
                  : !strcmp(k, "seed") || !strcmp(k, "init") || !strcmp(k, "refresh")
                      ? CLI_M_ALL
                  : !strcmp(k, "threads") ? CLI_M_SAMPLE | CLI_M_PATHFINDER
                                          : CLI_M_SAMPLE;
    if (!(ok & o->mbit) && !skip_other_method(m, st, o))
      return bad_setting(m, st, "the setting '%s' does not apply to method %s", o->method);
  }
  return 0;
}

int cli_make_dir(const char *path)
{
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
  struct stat st;
  return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* The summary of the kept draws: printed, and written as summary.json. */
static int fit_summary(fit_run *r, const fit_opts *o, double total_s)
{
  static const char *const sampler_cols[] = {"lp__",        "accept_stat__", "stepsize__",
                                             "treedepth__", "n_leapfrog__",  "divergent__",
                                             "energy__"};
  size_t ncol = 7 + r->nout;
  const char **names = calloc(ncol, sizeof *names);
  const double **chains = calloc((size_t)r->nchains, sizeof *chains);
  double *ws = calloc((size_t)r->nchains, sizeof *ws), *ss = calloc((size_t)r->nchains, sizeof *ss);
  int rc = EX_SOFTWARE_;
  bayes_run_summary *sum = NULL;
  char *text = NULL, err[512] = "";
  if (!names || !chains || !ws || !ss) goto oom;
  for (size_t i = 0; i < 7; i++) names[i] = sampler_cols[i];
  for (size_t i = 0; i < r->nout; i++) names[7 + i] = bayes_model_out_name(r->m, i);
  for (int c = 0; c < r->nchains; c++) {
    chains[c] = r->chains[c].kept;
    ws[c] = r->chains[c].warmup_s;
    ss[c] = r->chains[c].sampling_s;
  }
  bayes_summary_input in;
  memset(&in, 0, sizeof in);
  in.method = o->method;
  in.nchains = (size_t)r->nchains;
  in.ndraws = (size_t)r->chains[0].nkept;
  in.ncols = ncol;
  in.names = names;
  in.chains = chains;
  in.warmup = r->cfg.warmup;
  in.seed = r->cfg.seed;
  in.has_seed = true;
  in.max_depth = r->cfg.algo == BAYES_ALGO_NUTS ? r->cfg.max_depth : 0;
  in.warmup_seconds = ws;
  in.sampling_seconds = ss;
  in.total_seconds = total_s;
  sum = bayes_summary_compute(&in, err, sizeof err);
  if (!sum) {
    fprintf(stderr, "bayesrun: error: cannot summarise the draws: %s\n", err);
    goto out;
  }
  text = bayes_summary_text(sum);
  if (!text) goto oom;
  fputs(text, stdout);
  char path[4096];
  snprintf(path, sizeof path, "%s/summary.json", r->outdir);
  if (bayes_summary_write_json(sum, path, err, sizeof err) != 0) {
    fprintf(stderr, "bayesrun: error: cannot write %s: %s\n", path, err);
    rc = 74; /* EX_IOERR */
    goto out;
  }
  if (!o->quiet)
    fprintf(stderr, "bayesrun: draws in %s/chain_1.csv .. chain_%d.csv, summary in %s\n",
            r->outdir, r->nchains, path);
  rc = o->fail_on_warnings && sum->nwarnings ? 1 : 0;
  goto out;
oom:
  fprintf(stderr, "bayesrun: out of memory\n");
out:
  bayes_free(text);
  bayes_summary_free(sum);
  free(names);
  free(chains);
  free(ws);
  free(ss);
  return rc;
}

static void free_chains(fit_run *r)
{
  for (int i = 0; i < r->nchains; i++) {
    fit_chain *c = &r->chains[i];
    if (c->csv) bayes_csv_abort(c->csv);
    bayes_sampler_free(c->s);
    bayes_ws_free(c->ws);
    free(c->out);
    free(c->kept);
  }
  free(r->chains);
  free(r->init_theta);
  free(r->init_chains);
}

uint64_t cli_seed(const cli_fit_opts *o)
{
  if (o->has_seed) return (uint64_t)o->seed;
  /* no seed given: a new one, printed so that the run can be repeated */
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  uint64_t seed = ((uint64_t)t.tv_sec * 1000003u ^ (uint64_t)t.tv_nsec ^ (uint64_t)getpid()) %
                  4294967296u;
  if (!o->quiet)
    fprintf(stderr, "bayesrun: seed = %llu (use --seed to repeat this run)\n",
            (unsigned long long)seed);
  return seed;
}

int cli_init_values(const bayes_model *m, const char *init, double *radius, double **theta)
{
  double x;
  if (parse_double(init, &x) == 0) {
    if (x < 0) return cli_usage_error(NULL, "--init takes a radius >= 0 or a JSON file of values");
    *radius = x;
    return 0;
  }
  bayes_ws *w = bayes_ws_alloc(m);
  *theta = calloc(bayes_model_dim(m) + 1, sizeof(double));
  char *msgs = NULL;
  int e = w && *theta ? bayes_ws_read_point(w, init, false, *theta, &msgs) : BAYES_EINTERNAL;
  if (msgs) fputs(msgs, stderr);
  bayes_string_free(msgs);
  bayes_ws_free(w);
  if (e) {
    free(*theta);
    *theta = NULL;
  }
  return e;
}

static int fit_run_all(const bayes_model *m, fit_opts *o)
{
  fit_run r;
  memset(&r, 0, sizeof r);
  r.m = m;
  bayes_sampler_cfg *cfg = &r.cfg;
  bayes_sampler_defaults(cfg);
  cfg->algo = strcmp(o->method, "hmc") == 0 ? BAYES_ALGO_HMC : BAYES_ALGO_NUTS;
  if (o->metric)
    cfg->metric = strcmp(o->metric, "dense") == 0  ? BAYES_METRIC_DENSE
                  : strcmp(o->metric, "unit") == 0 ? BAYES_METRIC_UNIT
                                                   : BAYES_METRIC_DIAG;
  if (o->has_warmup) cfg->warmup = o->warmup;
  if (o->has_draws) cfg->draws = o->draws;
  if (o->has_thin) cfg->thin = o->thin;
  if (o->has_max_depth) cfg->max_depth = (int)o->max_depth;
  if (o->has_adapt_delta) cfg->delta = o->adapt_delta;
  if (o->has_stepsize) cfg->stepsize = o->stepsize;
  if (cfg->warmup == 0) cfg->adapt = false;
  cfg->flags = BAYES_LD_JACOBIAN | (o->prior ? BAYES_LD_PRIOR_ONLY : 0);
  cfg->seed = cli_seed(o);
  r.nchains = o->has_chains ? (int)o->chains : 4;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) ncpu = 1;
  r.nthreads = o->has_threads ? (int)o->threads : (int)(r.nchains < ncpu ? r.nchains : ncpu);
  if (r.nthreads > r.nchains) r.nthreads = r.nchains;
  r.nout = bayes_model_nout(m);
  r.outdir = o->outdir ? o->outdir : bayes_model_name(m);
  r.data_file = o->data;
  int rc = 0;
  r.init = o->init ? o->init : "2";
  if (o->init && !strcmp(o->init, "pathfinder")) {
    int e = cli_pathfinder_inits(m, o, cfg->seed, r.nchains, &r.init_chains);
    if (e) return e;
  } else if (o->init) {
    int e = cli_init_values(m, o->init, &cfg->init_radius, &r.init_theta);
    if (e) return e;
  }
  if (cli_make_dir(r.outdir) != 0) {
    fprintf(stderr, "bayesrun: error: cannot create the output folder '%s': %s\n", r.outdir,
            strerror(errno));
    free(r.init_theta);
    free(r.init_chains);
    return 73; /* EX_CANTCREAT */
  }
  r.chains = calloc((size_t)r.nchains, sizeof *r.chains);
  if (!r.chains) {
    free(r.init_theta);
    free(r.init_chains);
    fprintf(stderr, "bayesrun: out of memory\n");
    return EX_SOFTWARE_;
  }
  for (int i = 0; i < r.nchains; i++) {
    r.chains[i].run = &r;
    r.chains[i].chain = i + 1;
  }
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.finished, NULL);
  pthread_t th[MAX_CHAINS];
  int started = 0;
  double t0 = cli_now();
  for (int i = 0; i < r.nthreads; i++)
    if (pthread_create(&th[i], NULL, worker, &r) == 0) started++;
  if (started == 0) worker(&r); /* no threads to be had: run the chains here */
  bool tty = isatty(2);
  int lines = 0;
  /* wait for the chains, waking for a progress update every 0.2 s on a terminal (10 s
   * otherwise) and at once when the last chain finishes */
  double period = tty ? 0.2 : 10.0;
  pthread_mutex_lock(&r.lock);
  while (r.nfinished < r.nchains) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long ns = until.tv_nsec + (long)(period * 1e9);
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec = ns % 1000000000L;
    int w = pthread_cond_timedwait(&r.finished, &r.lock, &until);
    if (w == ETIMEDOUT && !o->quiet) {
      pthread_mutex_unlock(&r.lock);
      progress(&r, tty, t0, &lines);
      pthread_mutex_lock(&r.lock);
    }
  }
  pthread_mutex_unlock(&r.lock);
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  if (!o->quiet && tty) progress(&r, tty, t0, &lines);
  /* failures: one message per kind of problem (chains that failed to start for the same
   * reason differ only in the random values they tried) */
  int failed = 0, same = 0;
  const char *first = NULL;
  for (int i = 0; i < r.nchains; i++) {
    fit_chain *c = &r.chains[i];
    if (atomic_load(&c->done) > 0) continue;
    failed++;
    size_t k = strcspn(c->err, "(");
    if (first && strncmp(first, c->err, k) == 0 && strlen(first) >= k) {
      same++;
      continue;
    }
    if (!first) first = c->err;
    fprintf(stderr, "bayesrun: error: %s\n", c->err);
  }
  if (same)
    fprintf(stderr, "bayesrun: note: %d more chain%s failed the same way\n", same,
            same == 1 ? "" : "s");
  if (failed) {
    rc = EX_DATAERR_;
    goto done;
  }
  rc = fit_summary(&r, o, cli_now() - t0);
done:
  pthread_cond_destroy(&r.finished);
  pthread_mutex_destroy(&r.lock);
  free_chains(&r);
  return rc;
}

/* Flags given for a method they do not apply to are usage errors (exit 64). */
static int check_flags(const fit_opts *o, unsigned mbit)
{
  char ms[128];
  for (int i = 0; i < CLI_NOPT; i++)
    if (o->given[i] && !(specs[i].methods & mbit)) {
      method_list(ms, sizeof ms, specs[i].methods);
      return cli_usage_error(NULL, "--%s%s applies to --method %s only, not to %s",
                             specs[i].type == 'b' && o->num[i] == 0 ? "no-" : "",
                             specs[i].flag, ms, o->method);
    }
  const struct {
    const char *flag;
    bool given;
    unsigned methods;
  } base[] = {{"chains", o->has_chains, CLI_M_SAMPLE},
              {"warmup", o->has_warmup, CLI_M_SAMPLE},
              {"thin", o->has_thin, CLI_M_SAMPLE},
              {"adapt-delta", o->has_adapt_delta, CLI_M_SAMPLE},
              {"max-depth", o->has_max_depth, CLI_M_NUTS},
              {"metric", o->metric != NULL, CLI_M_SAMPLE},
              {"stepsize", o->has_stepsize, CLI_M_SAMPLE},
              {"threads", o->has_threads, CLI_M_SAMPLE | CLI_M_PATHFINDER},
              {"draws", o->has_draws, CLI_M_ALL & ~CLI_M_OPTIMIZE}};
  for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
    if (base[i].given && !(base[i].methods & mbit)) {
      method_list(ms, sizeof ms, base[i].methods);
      return cli_usage_error(NULL, "--%s applies to --method %s only, not to %s", base[i].flag,
                             ms, o->method);
    }
  if (o->init && !strcmp(o->init, "pathfinder") && !(mbit & CLI_M_SAMPLE))
    return cli_usage_error(NULL, "--init pathfinder applies to --method nuts and hmc only");
  return 0;
}

static const char usage_fit[] =
    "usage: bayesrun MODEL.yaml [options]\n"
    "  --method M             nuts, hmc, optimize, laplace, advi or pathfinder (default:\n"
    "                         the file's, else nuts)\n"
    "NUTS and HMC:\n"
    "  --chains N             number of chains (4)\n"
    "  --threads N            threads running chains (min(chains, cores))\n"
    "  --warmup N             warmup iterations per chain (1000)\n"
    "  --draws N              kept iterations per chain (1000)\n"
    "  --thin N               keep every N-th draw (1)\n"
    "  --seed N               random seed (a new one is chosen and printed if absent)\n"
    "  --adapt-delta X        target acceptance rate of step-size adaptation (0.8)\n"
    "  --max-depth N          maximum NUTS tree depth (10)\n"
    "  --metric diag|dense|unit   mass matrix (diag)\n"
    "  --stepsize X           initial step size (1)\n"
    "  --init R|FILE|pathfinder   inits uniform(-R, R) on the unconstrained scale (2),\n"
    "                         values from a JSON file of parameter values, or (NUTS, HMC)\n"
    "                         one draw of multi-path Pathfinder per chain\n"
    "  --data FILE            data in CmdStan JSON format\n"
    "  -o, --output DIR       output folder (default: the model's name)\n"
    "  --prior                sample the prior (leave out the likelihood)\n"
    "  --fail-on-warnings     exit with status 1 if the summary warns\n"
    "  --quiet                no progress display\n"
    "  --verbose              more notes (e.g. unused data keys)\n"
    "optimize (L-BFGS), laplace (Gaussian at the mode), pathfinder:\n"
    "  --jacobian, --no-jacobian   optimize/laplace: include the log-Jacobian of the\n"
    "                         constraining transforms (default: yes; --no-jacobian gives\n"
    "                         the mode on the constrained scale, CmdStan's jacobian=0)\n"
    "  --iter N               maximum L-BFGS iterations (2000; pathfinder 1000)\n"
    "  --history N            L-BFGS history size (5)\n"
    "  --init-alpha X         first line-search step (0.001)\n"
    "  --tol-obj X  --tol-rel-obj X  --tol-grad X  --tol-rel-grad X  --tol-param X\n"
    "                         L-BFGS convergence tolerances (1e-12, 1e4, 1e-8, 1e7, 1e-8;\n"
    "                         the relative ones in units of machine epsilon)\n"
    "  --draws N              laplace, advi, pathfinder: draws written (1000)\n"
    "advi:\n"
    "  --family meanfield|fullrank   the Gaussian family (meanfield)\n"
    "  --iter N               maximum iterations (10000)\n"
    "  --tol-rel-obj X        relative ELBO change for convergence (0.01)\n"
    "  --eta X                step-size scale (default: chosen by adaptation)\n"
    "  --adapt-iter N         iterations per step-size scale tried (50)\n"
    "  --grad-samples N  --elbo-samples N  --eval-elbo N   (1, 100, 100)\n"
    "  --kl-draws N           draws for the per-coordinate KL check (20; 0: off)\n"
    "  --precondition, --no-precondition   run on the scale of the Laplace approximation\n"
    "                         (default); --no-precondition is Stan's ADVI exactly\n"
    "pathfinder:\n"
    "  --paths N              independent paths (4)\n"
    "  --draws-per-path N     draws from each path's approximation (1000)\n"
    "  --elbo-draws N         draws per ELBO estimate (25)\n"
    "laplace, advi, pathfinder:\n"
    "  --psis-resample, --no-psis-resample   importance-resample the draws with Pareto-\n"
    "                         smoothed weights (default: pathfinder yes, others no)\n";

int cli_fit(int argc, char **argv)
{
  static const struct option base[] = {
      {"method", required_argument, 0, 'm'},     {"chains", required_argument, 0, 'c'},
      {"threads", required_argument, 0, 'T'},    {"warmup", required_argument, 0, 'w'},
      {"draws", required_argument, 0, 'n'},      {"thin", required_argument, 0, 't'},
      {"seed", required_argument, 0, 's'},       {"adapt-delta", required_argument, 0, 'a'},
      {"max-depth", required_argument, 0, 'D'},  {"metric", required_argument, 0, 'M'},
      {"stepsize", required_argument, 0, 'e'},   {"init", required_argument, 0, 'i'},
      {"data", required_argument, 0, 'd'},       {"output", required_argument, 0, 'o'},
      {"prior", no_argument, 0, 'P'},            {"fail-on-warnings", no_argument, 0, 'F'},
      {"quiet", no_argument, 0, 'q'},            {"verbose", no_argument, 0, 'v'},
      {"help", no_argument, 0, 'h'}};
  /* the approximate methods' flags from the table, booleans also as --no-X */
  enum { NBASE = sizeof base / sizeof base[0] };
  struct option opts[NBASE + 2 * CLI_NOPT + 1];
  char noflag[CLI_NOPT][40];
  size_t no = 0;
  memcpy(opts, base, sizeof base);
  no = NBASE;
  for (int i = 0; i < CLI_NOPT; i++) {
    opts[no++] = (struct option){specs[i].flag, specs[i].type == 'b' ? no_argument : required_argument,
                                 0, 1000 + i};
    if (specs[i].type == 'b') {
      snprintf(noflag[i], sizeof noflag[i], "no-%s", specs[i].flag);
      opts[no++] = (struct option){noflag[i], no_argument, 0, 2000 + i};
    }
  }
  opts[no] = (struct option){0, 0, 0, 0};
  fit_opts o;
  memset(&o, 0, sizeof o);
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "o:qvh", opts, NULL)) != -1) {
    const char *a = optarg;
    switch (ch) {
    case 'm': o.method = a; break;
    case 'c':
      if (parse_long(a, 1, &o.chains) || o.chains > MAX_CHAINS)
        return cli_usage_error(NULL, "--chains takes a whole number from 1 to %d", MAX_CHAINS);
      o.has_chains = true;
      break;
    case 'T':
      if (parse_long(a, 1, &o.threads)) return cli_usage_error(NULL, "--threads takes a whole number of at least 1");
      o.has_threads = true;
      break;
    case 'w':
      if (parse_long(a, 0, &o.warmup)) return cli_usage_error(NULL, "--warmup takes a whole number");
      o.has_warmup = true;
      break;
    case 'n':
      if (parse_long(a, 0, &o.draws)) return cli_usage_error(NULL, "--draws takes a whole number");
      o.has_draws = true;
      break;
    case 't':
      if (parse_long(a, 1, &o.thin)) return cli_usage_error(NULL, "--thin takes a whole number of at least 1");
      o.has_thin = true;
      break;
    case 's':
      if (parse_long(a, 0, &o.seed)) return cli_usage_error(NULL, "--seed takes a non-negative whole number");
      o.has_seed = true;
      break;
    case 'a':
      if (parse_double(a, &o.adapt_delta) || !(o.adapt_delta > 0 && o.adapt_delta < 1))
        return cli_usage_error(NULL, "--adapt-delta takes a number between 0 and 1");
      o.has_adapt_delta = true;
      break;
    case 'D':
      if (parse_long(a, 1, &o.max_depth) || o.max_depth > 30)
        return cli_usage_error(NULL, "--max-depth takes a whole number from 1 to 30");
      o.has_max_depth = true;
      break;
    case 'M':
      if (strcmp(a, "diag") && strcmp(a, "dense") && strcmp(a, "unit"))
        return cli_usage_error(NULL, "--metric takes diag, dense or unit");
      o.metric = a;
      break;
    case 'e':
      if (parse_double(a, &o.stepsize) || !(o.stepsize > 0))
        return cli_usage_error(NULL, "--stepsize takes a positive number");
      o.has_stepsize = true;
      break;
    case 'i': o.init = a; break;
    case 'd': o.data = a; break;
    case 'o': o.outdir = a; break;
    case 'P': o.prior = true; break;
    case 'F': o.fail_on_warnings = true; break;
    case 'q': o.quiet = true; break;
    case 'v': o.verbose = true; break;
    case 'h': fputs(usage_fit, stdout); return 0;
    default:
      if (ch >= 1000 && ch < 1000 + CLI_NOPT) {
        int id = ch - 1000;
        char why[128];
        if (specs[id].type == 'b') {
          o.num[id] = 1;
        } else if (parse_spec((cli_opt_id)id, a, &o, why, sizeof why) != 0) {
          return cli_usage_error(NULL, "--%s takes %s", specs[id].flag, why);
        }
        o.given[id] = true;
        break;
      }
      if (ch >= 2000 && ch < 2000 + CLI_NOPT) {
        o.num[ch - 2000] = 0;
        o.given[ch - 2000] = true;
        break;
      }
      if (optopt)
        return cli_usage_error(NULL, "option '-%c' %s", optopt,
                               strchr("o", optopt) ? "needs an argument" : "is not known");
      return cli_usage_error(NULL, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc) return cli_usage_error(NULL, "no model file given");
  if (optind + 1 < argc) return cli_usage_error(NULL, "unexpected argument '%s'", argv[optind + 1]);
  if (o.method) {
    if (!method_bit(o.method))
      return cli_usage_error(NULL, "unknown method '%s' (nuts, hmc, optimize, laplace, advi, "
                                   "pathfinder, smc, sequential)", o.method);
    o.method_from_flag = true;
    int rc = check_flags(&o, method_bit(o.method));
    if (rc) return rc;
  }
  o.model_path = argv[optind];
  cli_common co = {argv[optind], o.data, o.verbose};
  bayes_model *m = NULL;
  int rc = cli_load(&co, &m);
  if (rc) return rc;
  rc = apply_file_settings(m, &o);
  if (rc) goto out;
  if (!o.method_from_flag && (rc = check_flags(&o, o.mbit)) != 0) goto out;
  if (o.mbit & (CLI_M_SMC | CLI_M_SEQUENTIAL)) {
    fprintf(stderr, "bayesrun: error: method '%s' is not available in this build of bayesrun "
                    "yet; use nuts, hmc, optimize, laplace, advi or pathfinder\n", o.method);
    rc = EX_UNAVAILABLE_;
    goto out;
  }
  rc = o.mbit & CLI_M_SAMPLE ? fit_run_all(m, &o) : cli_fit_approx(m, &o);
out:
  bayes_model_free(m);
  return rc;
}
