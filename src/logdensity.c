/* logdensity.c — reading evaluation points (parameter values by name from CmdStan-style
 * JSON) into the unconstrained vector, with located errors. Used by `bayesrun logdensity
 * --at` and by initial values. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"

int bayes_ws_read_point(bayes_ws *w, const char *path, bool unconstrained, double *theta,
                        char **messages)
{
  const bayes_model *m = w->m;
  bayes_diag d;
  bayes_diag_init(&d);
  bayes_src src;
  memset(&src, 0, sizeof src);
  bayes_arena a;
  bayes_arena_init(&a);
  bayes_dataset ds;
  memset(&ds, 0, sizeof ds);
  double **vals = bayes_calloc(m->nparams + 1, sizeof *vals);
  int rc = BAYES_OK;
  if (messages) *messages = NULL;
  if (!vals) {
    rc = BAYES_EINTERNAL;
    goto done;
  }
  int r = bayes_src_read(&src, path);
  if (r != 0) {
    bayes_error(&d, NULL, 0, 0, 0, "cannot read point file '%s': %s", path,
                r == -2 ? "out of memory" : strerror(errno));
    rc = r == -2 ? BAYES_EINTERNAL : BAYES_ENOINPUT;
    goto done;
  }
  if (bayes_data_load_json(&a, &src, &ds, &d) != 0) {
    rc = BAYES_EDATA;
    goto done;
  }
  for (size_t k = 0; k < ds.n; k++) {
    size_t i;
    for (i = 0; i < m->nparams; i++)
      if (strcmp(m->pinfo[i].name, ds.v[k].name) == 0) break;
    if (i == m->nparams) {
      const char *cands[512];
      size_t n = 0;
      for (size_t j = 0; j < m->nparams && n < 511; j++) cands[n++] = m->pinfo[j].name;
      cands[n] = NULL;
      const char *s = bayes_suggest(ds.v[k].name, cands);
      bayes_error(&d, &src, ds.v[k].line, ds.v[k].col, (int)strlen(ds.v[k].name),
                  "'%s' is not a parameter of the model%s%s%s", ds.v[k].name,
                  s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
      continue;
    }
    const bayes_param_info *p = &m->pinfo[i];
    if (ds.v[k].bad) {
      bayes_dataset_explain(&a, &ds, &ds.v[k], &d);
      continue;
    }
    const bayes_value *v = &ds.v[k].val;
    size_t want = unconstrained ? p->unc_size : p->size;
    bool shape_ok = v->n == want;
    if (shape_ok && !unconstrained && v->shape.rank == p->rank)
      for (int j = 0; j < p->rank; j++) shape_ok &= v->shape.dim[j] == p->dim[j];
    else if (shape_ok && !unconstrained && v->shape.rank != p->rank)
      shape_ok = v->shape.rank <= 1 && p->rank <= 1;
    if (!shape_ok) {
      char b1[64];
      bayes_shape ps = bayes_shape_scalar();
      if (unconstrained) {
        if (p->unc_size != 1 || p->rank) ps = bayes_shape_vec(p->unc_size);
      } else {
        ps.rank = p->rank;
        for (int j = 0; j < p->rank; j++) ps.dim[j] = p->dim[j];
      }
      char b2[64];
      bayes_error(&d, &src, v->line ? v->line : ds.v[k].line, v->line ? v->col : ds.v[k].col, 1,
                  "'%s' has %sshape %s, but the value given has shape %s", p->name,
                  unconstrained ? "unconstrained " : "", bayes_shape_str(&ps, b1, sizeof b1),
                  bayes_shape_str(&v->shape, b2, sizeof b2));
      continue;
    }
    for (size_t j = 0; j < v->n; j++)
      if (!isfinite(v->v[j])) {
        bayes_error(&d, &src, v->line ? v->line : ds.v[k].line, v->line ? v->col : ds.v[k].col, 1,
                    "'%s' has a value that is not finite", p->name);
        break;
      }
    vals[i] = v->v;
  }
  for (size_t i = 0; i < m->nparams; i++)
    if (!vals[i] && d.nerr == 0)
      bayes_error(&d, &src, 1, 1, 1, "no value for parameter '%s'", m->pinfo[i].name);
  if (d.nerr) {
    rc = BAYES_EDATA;
    goto done;
  }
  if (unconstrained) {
    for (size_t i = 0; i < m->nparams; i++)
      memcpy(theta + m->pinfo[i].unc_offset, vals[i], m->pinfo[i].unc_size * sizeof(double));
  } else {
    char err[320];
    if (bayes_ws_unconstrain(w, (const double *const *)vals, theta, err, sizeof err) != 0) {
      /* name the parameter's line in the point file */
      const char *colon = strchr(err, ':');
      const bayes_named_value *nv = NULL;
      if (colon) {
        char name[128];
        size_t len = (size_t)(colon - err) < sizeof name - 1 ? (size_t)(colon - err) : sizeof name - 1;
        memcpy(name, err, len);
        name[len] = '\0';
        nv = bayes_dataset_get(&ds, name);
      }
      if (nv)
        bayes_error(&d, &src, nv->val.line ? nv->val.line : nv->line,
                    nv->val.line ? nv->val.col : nv->col, 1,
                    "'%s' is outside its support:%s", nv->name, colon + 1);
      else
        bayes_error(&d, &src, 0, 0, 0, "%s", err);
      rc = BAYES_EDATA;
    }
  }
done:
  if (messages && d.n) {
    bayes_sb sb;
    bayes_sb_init(&sb);
    bayes_diag_format(&d, &sb);
    *messages = sb.oom ? NULL : sb.s;
  }
  bayes_diag_destroy(&d);
  bayes_dataset_destroy(&ds);
  bayes_arena_destroy(&a);
  bayes_src_destroy(&src);
  bayes_free(vals);
  return rc;
}
