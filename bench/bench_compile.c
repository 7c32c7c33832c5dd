/* bench_compile.c — for each model file: time from process start to a compiled model
 * (median wall time of `bayesrun check` run as a child process, and the in-process
 * bayes_model_load time), and microseconds per log density + gradient evaluation.
 * A benchmark, not a test: it prints figures and asserts nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "bayes.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmpd);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* wall time of `bayesrun check MODEL` with output discarded */
static double run_check(const char *exe, const char *model)
{
  double t0 = now();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(exe, exe, "check", model, (char *)NULL);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  double t = now() - t0;
  return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? t : NAN;
}

int main(int argc, char **argv)
{
  const char *exe = getenv("BAYESRUN") ? getenv("BAYESRUN") : "./bayesrun";
  double min_time = getenv("BENCH_SECONDS") ? atof(getenv("BENCH_SECONDS")) : 0.5;
  bayes_blas_threads(1); /* as the CLI does */
  printf("%-28s %6s %12s %12s %14s %10s\n", "model", "dim", "check_ms", "load_ms",
         "us_per_grad", "evals");
  for (int a = 1; a < argc; a++) {
    const char *path = argv[a];
    double runs[21];
    int nr = 0;
    for (int i = 0; i < 21; i++) {
      double t = run_check(exe, path);
      if (!isnan(t)) runs[nr++] = t;
    }
    double loads[21];
    bayes_model *m = NULL;
    for (int i = 0; i < 21; i++) {
      double t0 = now();
      char *msgs = NULL;
      bayes_model *mm = NULL;
      int rc = bayes_model_load(path, NULL, &mm, &msgs);
      loads[i] = now() - t0;
      bayes_string_free(msgs);
      if (rc) {
        fprintf(stderr, "%s: does not compile (status %d)\n", path, rc);
        break;
      }
      if (i == 20)
        m = mm;
      else
        bayes_model_free(mm);
    }
    if (!m) continue;
    size_t dim = bayes_model_dim(m);
    bayes_ws *w = bayes_ws_alloc(m);
    double *th = calloc(dim + 1, sizeof *th), *g = calloc(dim + 1, sizeof *g);
    unsigned seed = 1;
    for (size_t i = 0; i < dim; i++) {
      seed = seed * 1103515245u + 12345u;
      th[i] = ((seed >> 8) & 0xffff) / 65536.0 - 0.5;
    }
    long evals = 0;
    double lp, sink = 0, t0 = now(), el;
    do {
      for (int k = 0; k < 100; k++) {
        th[0] += 1e-9;
        bayes_ws_log_density(w, th, BAYES_LD_JACOBIAN, &lp, g);
        sink += lp + g[0];
      }
      evals += 100;
      el = now() - t0;
    } while (el < min_time);
    printf("%-28s %6zu %12.2f %12.3f %14.3f %10ld%s\n", bayes_model_name(m), dim,
           nr ? 1e3 * median(runs, nr) : NAN, 1e3 * median(loads, 21), 1e6 * el / evals, evals,
           isfinite(sink) ? "" : " (non-finite density at the test point)");
    bayes_ws_free(w);
    bayes_model_free(m);
    free(th);
    free(g);
  }
  return 0;
}
