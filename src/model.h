/* model.h — a model file read into declarations (data, parameters, transformed,
 * likelihood, factors, generated, inference settings) with every expression parsed and
 * every position kept. model.c builds it from the YAML tree; compile.c turns it into a
 * program. Nothing here evaluates anything. */
#ifndef BAYES_MODEL_H
#define BAYES_MODEL_H

#include <stdbool.h>

#include "ast.h"
#include "bayes.h"
#include "data.h"
#include "diag.h"
#include "yamltree.h"

typedef enum {
  BAYES_DECL_DATA,
  BAYES_DECL_PARAM,
  BAYES_DECL_TRANSFORMED,
  BAYES_DECL_GENERATED
} bayes_decl_kind;

typedef struct bayes_decl {
  const char *name;
  bayes_decl_kind kind;
  int line, col, len;            /* the key */
  int index;                     /* order within its section */

  /* data */
  bool has_value;                /* inline or from a file */
  bayes_value value;
  bool declared;                 /* has a type declaration */
  bool decl_int;
  int ndims;                     /* -1: no shape declared; 0: scalar */
  bayes_ast *dims[BAYES_MAX_RANK];  /* NULL entry: unknown length ("real[]") */
  bayes_ast *lower, *upper;      /* also for parameters */
  bool allow_nan;
  const char *csv_path, *csv_column;  /* {csv: , column: } */
  const bayes_ynode *csv_node;

  /* parameters: prior (a distribution expression), explicit shape and constraint;
   * transformed / generated: expr (a distribution for a generated draw) */
  bayes_ast *expr;
  const char *expr_text;
  const char *constraint;        /* "ordered", "simplex", ... or NULL */
  int cline, ccol;               /* position of the constraint value */

  /* compiler state */
  int state;                     /* 0 new, 1 compiling, 2 done, 3 failed */
  bool used;                     /* referred to by something else in the model */
  int slot;                      /* compiled value */
  int param_index;
} bayes_decl;

typedef struct {
  const char *lhs;               /* data or data-only transformed name */
  int line, col, len;
  bayes_ast *dist;
  const char *text;
} bayes_lik;

typedef struct {
  bayes_ast *expr;
  const char *text;
  int line, col;
} bayes_factor;

typedef struct {
  bayes_inference_info info;
  const bayes_ynode *node;
  bayes_setting settings[64];
} bayes_inference;

typedef struct bayes_mdef {
  bayes_arena arena;
  bayes_src src;
  const char *name;
  int name_line, name_col;
  const char *description;
  bayes_decl **decls;            /* all declarations, in file order per section */
  size_t ndecls, decls_cap;
  bayes_lik *lik;
  size_t nlik, lik_cap;
  bayes_factor *factors;
  size_t nfactors, factors_cap;
  bayes_inference inference;
  bayes_dataset data_file;       /* --data */
  bayes_src data_src;
  bayes_dataset inline_file;     /* data: {file: ...} */
  bayes_src inline_src;
  bool have_data_file, have_inline_file;
  bayes_src *extra_srcs[64];     /* CSV files, kept for messages */
  int nextra;
  /* After errors, compiling still finds independent errors (unknown names, shapes) in
   * the declarations that were read cleanly; a failed declaration has state 3, so using
   * it reports nothing more. `stop` says a whole section or data file was lost, so that
   * compiling would only report the consequences (every name in it "unknown"). */
  bool stop;
  bool missing_input;            /* a file the model names could not be read (exit 66) */
} bayes_mdef;

/* Reads and checks the structure of the model file (keys, expression syntax, data
 * declarations and values). Returns BAYES_OK, BAYES_EDATA (errors in d; compiling may
 * go on unless m->stop), BAYES_ENOINPUT (a file cannot be read) or BAYES_EINTERNAL. */
int bayes_mdef_read(bayes_mdef *m, const char *path, const bayes_load_opts *opts,
                    bayes_diag *d);
void bayes_mdef_destroy(bayes_mdef *m);
bayes_decl *bayes_mdef_find(const bayes_mdef *m, const char *name);

#endif
