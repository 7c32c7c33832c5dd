/* cli.h — the bayesrun command-line program: subcommands, shared option handling and
 * output helpers. The CLI prints and exits; the library never does. */
#ifndef BAYES_CLI_H
#define BAYES_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "bayes.h"
#include "util.h"

/* sysexits.h values */
#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_DATAERR_ 65
#define EX_NOINPUT_ 66
#define EX_UNAVAILABLE_ 69
#define EX_SOFTWARE_ 70

typedef struct {
  const char *model;
  const char *data;
  bool verbose;
} cli_common;

int cli_check(int argc, char **argv);
int cli_logdensity(int argc, char **argv);
int cli_graph(int argc, char **argv);
int cli_fit(int argc, char **argv);      /* cmd_fit.c: bayesrun MODEL.yaml */
int cli_summary(int argc, char **argv);  /* cmd_summary.c: bayesrun summary */

/* Load a model, printing diagnostics to stderr. Returns 0 or the exit code. */
int cli_load(const cli_common *o, bayes_model **m);
/* "bayesrun: error: ..." on stderr; returns code */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_json_number(bayes_sb *sb, double x);

#endif
