/* data.h — data values and their loading: CmdStan JSON files (read with libyaml, so no
 * extra JSON library), CSV columns, and YAML inline values. Positions of every value are
 * kept so that bound violations can point at the data file. */
#ifndef BAYES_DATA_H
#define BAYES_DATA_H

#include <stdbool.h>

#include "diag.h"
#include "tape.h"
#include "yamltree.h"

typedef struct {
  bayes_shape shape;   /* shape as written: nested lists of rows give row-major order */
  bool is_int;         /* every element an integer literal */
  double *v;           /* arena-owned, row-major */
  size_t n;
  const bayes_src *src;  /* where it came from (for messages), may be NULL */
  int line, col;
} bayes_value;

/* Turn a YAML node (scalar or nested sequences of equal lengths) into a value. Scalars
 * are numbers ("1", "-2.5e3", "inf", "nan", "Infinity", "NaN", also as strings the way
 * CmdStan writes them). Ragged or non-numeric input is a located error. */
int bayes_value_from_yaml(bayes_arena *a, const bayes_ynode *n, const bayes_src *src,
                          bayes_value *out, bayes_diag *d);

/* A named set of values, e.g. one JSON data file. */
typedef struct {
  const char *name;
  bayes_value val;
  int line, col;           /* of the key */
  bool used;               /* set by the compiler; unused keys are listed by --verbose */
  /* A key whose value is not numeric data (a string, a boolean, a CmdStan tuple) is kept
   * unconverted: data files may hold keys the model does not use. bad is set and the
   * problem is reported only if the model asks for it (bayes_dataset_explain). */
  bool bad;
  const bayes_ynode *node;
} bayes_named_value;

typedef struct {
  bayes_named_value *v;
  size_t n, cap;
  const bayes_src *src;
} bayes_dataset;

/* Load a CmdStan JSON data file (a top-level object of name -> number | nested arrays).
 * `src` must outlive the dataset (it is kept for messages). Returns 0 or -1 (reported). */
int bayes_data_load_json(bayes_arena *a, bayes_src *src, bayes_dataset *ds, bayes_diag *d);
/* One numeric column of a CSV file with a header row (comma-separated, optional quotes).
 * The value is a vector. Errors (missing column, bad number at row r) are located in
 * the CSV file. */
int bayes_data_load_csv_column(bayes_arena *a, bayes_src *src, const char *column,
                               bayes_value *out, bayes_diag *d);
void bayes_dataset_destroy(bayes_dataset *ds);
/* Reports (located in the data file) why a bad entry is not usable data. */
void bayes_dataset_explain(bayes_arena *a, const bayes_dataset *ds,
                           const bayes_named_value *nv, bayes_diag *d);   /* frees the array, not the arena */
const bayes_named_value *bayes_dataset_get(const bayes_dataset *ds, const char *name);

#endif
