/*
 * Tests of every function of include/inr.h, on files made by the `inr` CLI
 * (see gen_data.cmake): real values against what `inr info --json` and
 * `inr probe` say, consistency between the functions (points vs grids vs
 * mesh nodes, sub-extents vs whole grids, memory vs path), and every error
 * path (NULL pointers, bad indices and extents, wrong buffer lengths,
 * damaged files) with the "outputs are written only on success" and
 * "last error message" contracts.
 *
 *   test_capi image  IMG.inr IMG.expect IMG.probe VERSION.expect
 *   test_capi mesh   MESH.inr MESH.expect MESH.probe tets|hexes CX,CY,CZ
 *   test_capi errors IMG.inr MESH.inr
 *   test_capi files  IMG.inr IMG.expect MESH.inr MESH.expect TMPDIR
 *   test_capi progress IMG.inr MESH.inr
 *   test_capi detail ECNR.inr IMG.inr
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#define MAX_VARS 8

/* A model that answers inr_variable_count successfully: CHECK_FAILS runs
 * it to see that successful calls leave the last error message alone. */
static inr_model *g_good;
static void succeed(void)
{
  size_t n = 0;
  if (g_good && inr_variable_count(g_good, &n) != INR_OK)
    t_fail(__FILE__, __LINE__, "inr_variable_count failed on the reference model");
}

static inr_model *open_or_die(const char *path)
{
  inr_model *m = NULL;
  inr_status s = inr_open(path, &m);
  if (s != INR_OK || m == NULL) {
    fprintf(stderr, "cannot open %s: %s: %s\n", path, t_status_name(s), inr_last_error_message());
    exit(1);
  }
  return m;
}

/* ------------------------------------------------------------------ */
/* What the .expect file says about the variables.                    */

typedef struct {
  char name[64];
  uint32_t components;
  inr_association association;
  char units[64]; /* "-": none */
  double range[16][2];
} var_fact;

typedef struct {
  size_t n;
  var_fact v[MAX_VARS];
  uint32_t total_components;
} var_facts;

static var_facts load_vars(const t_facts *ex)
{
  var_facts vf;
  memset(&vf, 0, sizeof vf);
  vf.n = (size_t)t_num(t_require_fact(ex, "variables", 0), 1);
  REQUIRE(vf.n > 0 && vf.n <= MAX_VARS);
  for (size_t i = 0; i < vf.n; i++) {
    const t_line *l = t_require_fact(ex, "var", (int)i);
    var_fact *v = &vf.v[i];
    snprintf(v->name, sizeof v->name, "%s", l->tok[1]);
    v->components = (uint32_t)t_num(l, 2);
    REQUIRE(v->components >= 1 && v->components <= 16);
    REQUIRE(strcmp(l->tok[3], "point") == 0 || strcmp(l->tok[3], "cell") == 0);
    v->association = strcmp(l->tok[3], "point") == 0 ? INR_ASSOCIATION_POINT : INR_ASSOCIATION_CELL;
    snprintf(v->units, sizeof v->units, "%s", l->tok[4]);
    for (uint32_t c = 0; c < v->components; c++) {
      v->range[c][0] = t_num(l, 5 + 2 * (int)c);
      v->range[c][1] = t_num(l, 6 + 2 * (int)c);
    }
    vf.total_components += v->components;
  }
  return vf;
}

/* Variables, time axis, model: the same for every kind of domain. */
static void check_description(const inr_model *m, const t_facts *ex, const var_facts *vf, const char *path)
{
  size_t n = 0;
  CHECK_OK(inr_variable_count(m, &n));
  CHECK_EQ_U64(n, vf->n);
  for (size_t i = 0; i < vf->n; i++) {
    const var_fact *v = &vf->v[i];
    const char *name = NULL, *units = (const char *)1;
    CHECK_OK(inr_variable_name(m, i, &name));
    CHECK_EQ_STR(name, v->name);
    const char *again = NULL;
    CHECK_OK(inr_variable_name(m, i, &again));
    CHECK(again == name); /* owned by the model: the same string each time */
    CHECK_OK(inr_variable_units(m, i, &units));
    if (strcmp(v->units, "-") == 0)
      CHECK(units == NULL);
    else
      CHECK_EQ_STR(units, v->units);
    size_t index = 99;
    CHECK_OK(inr_variable_find(m, v->name, &index));
    CHECK_EQ_U64(index, i);
    uint32_t comps = 0;
    CHECK_OK(inr_variable_components(m, i, &comps));
    CHECK_EQ_U64(comps, v->components);
    inr_association a;
    FILL(a);
    CHECK_OK(inr_variable_association(m, i, &a));
    CHECK(a == v->association);
    for (uint32_t c = 0; c < v->components; c++) {
      double r[3] = {0, 0, -7.0};
      CHECK_OK(inr_variable_range(m, i, c, r));
      CHECK_SAME_F64(r[0], v->range[c][0]);
      CHECK_SAME_F64(r[1], v->range[c][1]);
      CHECK_SAME_F64(r[2], -7.0); /* exactly two values written */
      double bound = -1.0;
      CHECK_OK(inr_error_bound(m, i, c, &bound));
      CHECK_SAME_F64(bound, 0.0); /* no corrections: no bound */
    }
    size_t qc = 0;
    CHECK_OK(inr_query_components(m, &i, 1, &qc));
    CHECK_EQ_U64(qc, v->components);
  }
  size_t qc = 0;
  CHECK_OK(inr_query_components(m, NULL, 0, &qc));
  CHECK_EQ_U64(qc, vf->total_components);

  const t_line *tl = t_require_fact(ex, "times", 0);
  size_t nt = (size_t)t_num(tl, 1), steps = 99;
  CHECK_OK(inr_time_step_count(m, &steps));
  CHECK_EQ_U64(steps, nt);
  double tv[16];
  REQUIRE(nt + 1 < 16);
  FILL(tv);
  CHECK_OK(inr_time_values(m, tv, nt));
  for (size_t i = 0; i < nt; i++) CHECK_SAME_F64(tv[i], t_num(tl, 2 + (int)i));
  CHECK_UNTOUCHED_N(tv + nt, 16 - nt);
  FILL(tv);
  CHECK_OK(inr_time_values(m, tv, 16)); /* a larger buffer: only nt written */
  for (size_t i = 0; i < nt; i++) CHECK_SAME_F64(tv[i], t_num(tl, 2 + (int)i));
  CHECK_UNTOUCHED_N(tv + nt, 16 - nt);

  const char *family = NULL;
  CHECK_OK(inr_model_family(m, &family));
  CHECK_EQ_STR(family, t_require_fact(ex, "family", 0)->tok[1]);
  uint64_t params = 0;
  CHECK_OK(inr_parameter_count(m, &params));
  CHECK_EQ_U64(params, (uint64_t)t_num(t_require_fact(ex, "parameters", 0), 1));
  uint64_t size = 0;
  CHECK_OK(inr_file_size(m, &size));
  CHECK_EQ_U64(size, (uint64_t)t_num(t_require_fact(ex, "file_size", 0), 1));
  struct stat st;
  REQUIRE(stat(path, &st) == 0);
  CHECK_EQ_U64(size, (uint64_t)st.st_size);
}

/* ------------------------------------------------------------------ */
/* Decoding helpers.                                                   */

static const inr_decode_options ONE_THREAD = {1, NULL, NULL, 0, 0, 0.0};

/* n points, all variables (or `vars`), one time for all. */
static float *query(const inr_model *m, const double *xyz, size_t n, const double *times, double t,
                    const size_t *vars, size_t nv, const inr_decode_options *o, size_t *len_out)
{
  size_t c = 0;
  CHECK_OK(inr_query_components(m, vars, nv, &c));
  float *out = t_xmalloc(n * c * sizeof(float));
  FILL_N(out, n * c);
  CHECK_OK(inr_query_points(m, xyz, n, times, t, vars, nv, out, n * c, o));
  if (len_out) *len_out = n * c;
  return out;
}

typedef struct {
  size_t n;
  size_t vars[MAX_VARS];
  float *buf[MAX_VARS];
  size_t len[MAX_VARS];
} decoded;

static void free_decoded(decoded *d)
{
  for (size_t i = 0; i < d->n; i++) free(d->buf[i]);
  d->n = 0;
}

static size_t all_vars(const inr_model *m, size_t *vars)
{
  size_t n = 0;
  CHECK_OK(inr_variable_count(m, &n));
  REQUIRE(n <= MAX_VARS);
  for (size_t i = 0; i < n; i++) vars[i] = i;
  return n;
}

/* Decodes a grid (vars NULL: all variables) into new buffers sized by
 * inr_grid_value_count. */
static decoded decode_grid(const inr_model *m, const uint64_t *dims, const int64_t *extent,
                           const size_t *vars, size_t nv, double time, const inr_decode_options *o)
{
  decoded d;
  memset(&d, 0, sizeof d);
  if (nv == 0) {
    d.n = all_vars(m, d.vars);
  } else {
    d.n = nv;
    memcpy(d.vars, vars, nv * sizeof *vars);
  }
  for (size_t i = 0; i < d.n; i++) {
    CHECK_OK(inr_grid_value_count(m, dims, extent, d.vars[i], &d.len[i]));
    d.buf[i] = t_xmalloc(d.len[i] * sizeof(float));
    FILL_N(d.buf[i], d.len[i]);
  }
  CHECK_OK(inr_decode_grid(m, dims, extent, nv ? vars : NULL, nv, time, d.buf, d.len, o));
  return d;
}

static decoded decode_nodes(const inr_model *m, const size_t *vars, size_t nv, double time,
                            const inr_decode_options *o)
{
  decoded d;
  memset(&d, 0, sizeof d);
  if (nv == 0) {
    d.n = all_vars(m, d.vars);
  } else {
    d.n = nv;
    memcpy(d.vars, vars, nv * sizeof *vars);
  }
  for (size_t i = 0; i < d.n; i++) {
    CHECK_OK(inr_node_value_count(m, d.vars[i], &d.len[i]));
    d.buf[i] = t_xmalloc(d.len[i] * sizeof(float));
    FILL_N(d.buf[i], d.len[i]);
  }
  CHECK_OK(inr_decode_nodes(m, nv ? vars : NULL, nv, time, d.buf, d.len, o));
  return d;
}

static bool same_decoded(const decoded *a, const decoded *b)
{
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++)
    if (a->len[i] != b->len[i] || !t_same_floats(a->buf[i], b->buf[i], a->len[i])) return false;
  return true;
}

/* The probe lines: `inr probe` at a point equals inr_query_points there
 * (within 1e-6 relative; reported when not bit-exact). */
static void check_probes(const inr_model *m, const t_facts *probes, const var_facts *vf)
{
  int exact = 0, total = 0;
  for (int p = 0; p < probes->n; p++) {
    const t_line *l = &probes->lines[p];
    REQUIRE(l->n == 5 + (int)vf->total_components);
    double xyz[3] = {t_num(l, 1), t_num(l, 2), t_num(l, 3)};
    double t = t_num(l, 4);
    const inr_decode_options *opts[2] = {&ONE_THREAD, NULL};
    for (int o = 0; o < 2; o++) {
      /* one time for all points, and the same time as a per-point array */
      for (int per_point = 0; per_point < 2; per_point++) {
        if (per_point && isnan(t)) continue;
        float *v = query(m, xyz, 1, per_point ? &t : NULL, per_point ? 0.0 : t, NULL, 0, opts[o], NULL);
        for (uint32_t c = 0; c < vf->total_components; c++) {
          float want = (float)t_num(l, 5 + (int)c);
          double tol = 1e-6 * fmax(fabs((double)want), fabs((double)v[c]));
          CHECKF(fabs((double)v[c] - (double)want) <= tol,
                 "probe line %d component %u: inr_query_points %.9g, inr probe %.9g", p + 1, c,
                 (double)v[c], (double)want);
          exact += memcmp(&v[c], &want, sizeof want) == 0;
          total++;
        }
        free(v);
      }
    }
  }
  printf("  inr_query_points vs `inr probe`: %d of %d values bit-identical\n", exact, total);
  CHECKF(exact == total, "inr_query_points differs from `inr probe` in the last bits (%d of %d exact)",
         exact, total);
}

/* ------------------------------------------------------------------ */
/* Progress callbacks.                                                 */

typedef struct {
  int calls;
  double first, last, min, max;
  bool decreasing;
  int ones; /* calls with 1.0 */
  bool back_after_one; /* a fraction below 1.0 after a 1.0 */
  bool other_thread;
  pthread_t caller;
  int cancel_after; /* return false from this call on (0: never) */
  bool cancel_at_end; /* return false when called with 1.0 */
} progress_log;

static bool on_progress(void *user_data, double fraction)
{
  progress_log *p = user_data;
  if (!pthread_equal(pthread_self(), p->caller)) p->other_thread = true;
  if (p->calls == 0) {
    p->first = p->min = p->max = fraction;
  } else {
    if (fraction < p->last) p->decreasing = true;
    if (p->ones > 0 && fraction < 1.0) p->back_after_one = true;
    p->min = fmin(p->min, fraction);
    p->max = fmax(p->max, fraction);
  }
  p->last = fraction;
  p->calls++;
  if (fraction == 1.0) p->ones++;
  if (p->cancel_at_end && fraction == 1.0) return false;
  return p->cancel_after == 0 || p->calls < p->cancel_after;
}

static progress_log new_log(int cancel_after)
{
  progress_log p;
  memset(&p, 0, sizeof p);
  p.caller = pthread_self();
  p.cancel_after = cancel_after;
  return p;
}

static void check_completed_progress(const progress_log *p, const char *what)
{
  CHECKF(p->calls >= 1, "%s: the progress callback was not called", what);
  CHECKF(p->last == 1.0, "%s: the last progress call was %g, not 1.0", what, p->last);
  /* 1.0 may come more than once: from periodic calls once all tiles are
   * done (before the workers return), then the final one */
  CHECKF(p->ones >= 1, "%s: no progress call with 1.0", what);
  CHECKF(p->min >= 0.0 && p->max <= 1.0, "%s: progress outside [0, 1]: %g .. %g", what, p->min, p->max);
  CHECKF(!p->decreasing, "%s: progress went backwards", what);
  CHECKF(!p->other_thread, "%s: the progress callback ran on another thread", what);
}

/* ------------------------------------------------------------------ */
/* Image files.                                                        */

static void check_grid_geometry_over_bounds(const inr_model *m, const double *b)
{
  const uint64_t dims_list[][3] = {{7, 5, 3}, {2, 2, 2}, {1, 4, 1}, {33, 1, 9}};
  for (size_t k = 0; k < sizeof dims_list / sizeof dims_list[0]; k++) {
    const uint64_t *d = dims_list[k];
    double o[3], s[3];
    CHECK_OK(inr_grid_geometry(m, d, o, s));
    for (int a = 0; a < 3; a++) {
      CHECK_SAME_F64(o[a], b[2 * a]);
      double want = d[a] > 1 ? (b[2 * a + 1] - b[2 * a]) / (double)(d[a] - 1) : 1.0;
      CHECK_SAME_F64(s[a], want);
    }
  }
}

/* Sub-extents decode to the same bits as the same region of the whole grid. */
static void check_sub_extents(const inr_model *m, const uint64_t *dims, double time)
{
  uint64_t d[3];
  if (dims) {
    memcpy(d, dims, sizeof d);
  } else {
    CHECK_OK(inr_native_dims(m, d));
  }
  decoded whole = decode_grid(m, dims, NULL, NULL, 0, time, &ONE_THREAD);
  /* the whole extent given explicitly */
  int64_t we[6] = {0, (int64_t)d[0] - 1, 0, (int64_t)d[1] - 1, 0, (int64_t)d[2] - 1};
  decoded again = decode_grid(m, dims, we, NULL, 0, time, NULL);
  CHECK(same_decoded(&whole, &again));
  free_decoded(&again);

  int64_t extents[6][6] = {
      {0, 0, 0, 0, 0, 0},
      {1, (int64_t)d[0] - 1, 0, (int64_t)d[1] / 2, (int64_t)d[2] / 3, (int64_t)d[2] - 1},
      {(int64_t)d[0] / 2, (int64_t)d[0] / 2, 0, (int64_t)d[1] - 1, 0, (int64_t)d[2] - 1},
      {0, (int64_t)d[0] - 1, (int64_t)d[1] - 1, (int64_t)d[1] - 1, 1, (int64_t)d[2] - 1},
      {(int64_t)d[0] / 3, (int64_t)d[0] - 2, 1, (int64_t)d[1] - 1, 0, (int64_t)d[2] / 2},
      {(int64_t)d[0] - 1, (int64_t)d[0] - 1, (int64_t)d[1] - 1, (int64_t)d[1] - 1, (int64_t)d[2] - 1,
       (int64_t)d[2] - 1},
  };
  for (int k = 0; k < 6; k++) {
    int64_t *e = extents[k];
    for (int a = 0; a < 3; a++) /* keep the extent valid for thin grids */
      if (e[2 * a] > e[2 * a + 1]) e[2 * a] = e[2 * a + 1];
    decoded part = decode_grid(m, dims, e, NULL, 0, time, k % 2 ? NULL : &ONE_THREAD);
    for (size_t v = 0; v < part.n; v++) {
      inr_association assoc;
      uint32_t comps;
      CHECK_OK(inr_variable_association(m, part.vars[v], &assoc));
      CHECK_OK(inr_variable_components(m, part.vars[v], &comps));
      /* point extents, or the cells between their points */
      uint64_t lo[3], hi[3], wd[3];
      bool empty = false;
      for (int a = 0; a < 3; a++) {
        lo[a] = (uint64_t)e[2 * a];
        hi[a] = (uint64_t)e[2 * a + 1];
        wd[a] = d[a];
        if (assoc == INR_ASSOCIATION_CELL && d[a] > 1) {
          wd[a] = d[a] - 1;
          if (hi[a] == lo[a])
            empty = true;
          else
            hi[a]--;
        }
      }
      size_t expected = empty ? 0 : (size_t)((hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1)) * comps;
      CHECKF(part.len[v] == expected, "extent %d variable %zu: %zu values, expected %zu", k, v, part.len[v],
             expected);
      if (part.len[v] != expected) continue;
      size_t q = 0;
      bool same = true;
      for (uint64_t z = lo[2]; !empty && z <= hi[2]; z++)
        for (uint64_t y = lo[1]; y <= hi[1]; y++)
          for (uint64_t x = lo[0]; x <= hi[0]; x++, q++) {
            size_t w = (size_t)(x + wd[0] * (y + wd[1] * z));
            if (memcmp(&part.buf[v][q * comps], &whole.buf[v][w * comps], comps * sizeof(float)) != 0)
              same = false;
          }
      CHECKF(same, "extent %d (%" PRId64 "..%" PRId64 ", %" PRId64 "..%" PRId64 ", %" PRId64 "..%" PRId64
                   ") of variable %zu differs from the whole grid",
             k, e[0], e[1], e[2], e[3], e[4], e[5], v);
    }
    free_decoded(&part);
  }
  free_decoded(&whole);
}

/* Point data at grid points and cell data at cell centers, queried as
 * points, equal the grid decode bit for bit. `origin`/`spacing`: the grid's. */
static void check_points_vs_grid(const inr_model *m, const uint64_t *dims, const uint64_t *d,
                                 const double *origin, const double *spacing, double time)
{
  decoded g = decode_grid(m, dims, NULL, NULL, 0, time, NULL);
  const uint64_t picks[][3] = {{0, 0, 0}, {1, 2, 1}, {3, 1, 2}, {5, 4, 2}, {6, 0, 1}, {2, 3, 0}, {23, 19, 15}, {11, 7, 9}};
  size_t n = 0;
  double xyz[3 * 8], cxyz[3 * 8];
  size_t pidx[8], cidx[8];
  for (size_t k = 0; k < 8; k++) {
    uint64_t i[3];
    for (int a = 0; a < 3; a++) i[a] = picks[k][a] % d[a];
    for (int a = 0; a < 3; a++) {
      xyz[3 * n + a] = origin[a] + (double)i[a] * spacing[a];
      /* the cell whose low corner is i (clamped), at its center */
      uint64_t ci = d[a] > 1 ? (i[a] < d[a] - 1 ? i[a] : d[a] - 2) : 0;
      double x0 = origin[a] + (double)ci * spacing[a];
      double x1 = origin[a] + (double)(ci + 1) * spacing[a];
      cxyz[3 * n + a] = d[a] > 1 ? 0.5 * (x0 + x1) : x0;
      i[a] = ci; /* for the cell index below */
    }
    pidx[n] = (size_t)(picks[k][0] % d[0] + d[0] * (picks[k][1] % d[1] + d[1] * (picks[k][2] % d[2])));
    uint64_t cd[3] = {d[0] > 1 ? d[0] - 1 : 1, d[1] > 1 ? d[1] - 1 : 1, d[2] > 1 ? d[2] - 1 : 1};
    cidx[n] = (size_t)(i[0] + cd[0] * (i[1] + cd[1] * i[2]));
    n++;
  }
  for (size_t v = 0; v < g.n; v++) {
    inr_association assoc;
    uint32_t comps;
    CHECK_OK(inr_variable_association(m, v, &assoc));
    CHECK_OK(inr_variable_components(m, v, &comps));
    const double *pts = assoc == INR_ASSOCIATION_POINT ? xyz : cxyz;
    const size_t *idx = assoc == INR_ASSOCIATION_POINT ? pidx : cidx;
    float *q = query(m, pts, n, NULL, time, &v, 1, NULL, NULL);
    for (size_t k = 0; k < n; k++) {
      bool same = memcmp(&q[k * comps], &g.buf[v][idx[k] * comps], comps * sizeof(float)) == 0;
      CHECKF(same,
             "variable %zu at %s %zu (%.17g, %.17g, %.17g): inr_query_points %.9g != inr_decode_grid %.9g",
             v, assoc == INR_ASSOCIATION_POINT ? "grid point" : "cell center", idx[k], pts[3 * k],
             pts[3 * k + 1], pts[3 * k + 2], (double)q[k * comps], (double)g.buf[v][idx[k] * comps]);
    }
    free(q);
  }
  free_decoded(&g);
}

static void check_times(const inr_model *m, const double *steps, size_t nt)
{
  REQUIRE(nt >= 2);
  double first = steps[0], last = steps[nt - 1];
  const double xyz[6] = {0.1, 1.2, 15.0, 2.75, 3.5, 26.0};
  float *at_first = query(m, xyz, 2, NULL, first, NULL, 0, NULL, NULL);
  float *at_last = query(m, xyz, 2, NULL, last, NULL, 0, NULL, NULL);
  size_t len = 0;
  float *nan_t = query(m, xyz, 2, NULL, NAN, NULL, 0, NULL, &len);
  CHECKF(t_same_floats(nan_t, at_first, len), "time NaN differs from the first step");
  const double before[] = {first - 1.0, -1e300, -INFINITY};
  const double after[] = {last + 0.001, 1e300, INFINITY};
  for (int k = 0; k < 3; k++) {
    float *b = query(m, xyz, 2, NULL, before[k], NULL, 0, NULL, NULL);
    CHECKF(t_same_floats(b, at_first, len), "time %g is not clamped to the first step", before[k]);
    float *a = query(m, xyz, 2, NULL, after[k], NULL, 0, NULL, NULL);
    CHECKF(t_same_floats(a, at_last, len), "time %g is not clamped to the last step", after[k]);
    free(a);
    free(b);
  }
  CHECKF(!t_same_floats(at_first, at_last, len), "the first and last steps decode to the same values");
  /* a time in between is neither */
  float *mid = query(m, xyz, 2, NULL, 0.5 * (first + last), NULL, 0, NULL, NULL);
  CHECK(!t_same_floats(mid, at_first, len) && !t_same_floats(mid, at_last, len));

  /* grid decodes: NaN = first step, clamping */
  uint64_t dims[3] = {4, 3, 2};
  decoded g_nan = decode_grid(m, dims, NULL, NULL, 0, NAN, NULL);
  decoded g_first = decode_grid(m, dims, NULL, NULL, 0, first, NULL);
  decoded g_before = decode_grid(m, dims, NULL, NULL, 0, first - 10.0, NULL);
  decoded g_last = decode_grid(m, dims, NULL, NULL, 0, last, NULL);
  decoded g_after = decode_grid(m, dims, NULL, NULL, 0, INFINITY, NULL);
  CHECK(same_decoded(&g_nan, &g_first));
  CHECK(same_decoded(&g_before, &g_first));
  CHECK(same_decoded(&g_after, &g_last));
  CHECK(!same_decoded(&g_first, &g_last));
  free_decoded(&g_nan);
  free_decoded(&g_first);
  free_decoded(&g_before);
  free_decoded(&g_last);
  free_decoded(&g_after);

  /* per-point times: each point as if queried alone at its time */
  enum { N = 7 };
  double pts[3 * N], times[N] = {first, last, 0.5 * (first + last), first - 3.0, last + 3.0, INFINITY, steps[1]};
  for (int i = 0; i < N; i++) {
    pts[3 * i] = -1.5 + 0.7 * i;
    pts[3 * i + 1] = 0.25 + 0.3 * i;
    pts[3 * i + 2] = 10.0 + 2.5 * i;
  }
  size_t c = 0;
  CHECK_OK(inr_query_components(m, NULL, 0, &c));
  float *per = query(m, pts, N, times, NAN, NULL, 0, NULL, NULL);
  for (int i = 0; i < N; i++) {
    float *one = query(m, &pts[3 * i], 1, NULL, times[i], NULL, 0, NULL, NULL);
    CHECKF(t_same_floats(one, &per[(size_t)i * c], c), "per-point time %g (point %d) differs", times[i], i);
    free(one);
  }
  /* the per-point array wins over `time` */
  float *per2 = query(m, pts, N, times, last, NULL, 0, NULL, NULL);
  CHECK(t_same_floats(per, per2, N * c));
  free(per);
  free(per2);
  free(mid);
  free(nan_t);
  free(at_first);
  free(at_last);
}

/* Subsets and orders of variables in points and grids. */
static void check_variable_subsets(const inr_model *m, const var_facts *vf)
{
  enum { N = 5 };
  double xyz[3 * N];
  for (int i = 0; i < N; i++) {
    xyz[3 * i] = 0.3 * i - 0.9;
    xyz[3 * i + 1] = 0.1 * i + 0.05;
    xyz[3 * i + 2] = 2.2 + 0.15 * i + 10.0 * (i % 2);
  }
  size_t call = vf->total_components;
  float *all = query(m, xyz, N, NULL, 0.5, NULL, 0, NULL, NULL);
  /* first component of variable v in the all-variables layout */
  size_t first[MAX_VARS], acc = 0;
  for (size_t v = 0; v < vf->n; v++) {
    first[v] = acc;
    acc += vf->v[v].components;
  }
  const size_t subsets[][4] = {{1, 0, 0, 0}, {2, 2, 0, 0}, {2, 0, 2, 0}, {3, 2, 1, 0}, {2, 1, 1, 0}, {1, 2, 0, 0}};
  for (size_t k = 0; k < sizeof subsets / sizeof subsets[0]; k++) {
    size_t nv = subsets[k][0];
    const size_t *vars = &subsets[k][1];
    bool ok = true;
    for (size_t i = 0; i < nv; i++) ok = ok && vars[i] < vf->n;
    if (!ok) continue;
    size_t c = 0;
    CHECK_OK(inr_query_components(m, vars, nv, &c));
    size_t want_c = 0;
    for (size_t i = 0; i < nv; i++) want_c += vf->v[vars[i]].components;
    CHECK_EQ_U64(c, want_c);
    float *sub = query(m, xyz, N, NULL, 0.5, vars, nv, &ONE_THREAD, NULL);
    bool same = true;
    for (int p = 0; p < N; p++) {
      size_t at = 0;
      for (size_t i = 0; i < nv; i++) {
        uint32_t vc = vf->v[vars[i]].components;
        if (memcmp(&sub[(size_t)p * c + at], &all[(size_t)p * call + first[vars[i]]], vc * sizeof(float)) != 0)
          same = false;
        at += vc;
      }
    }
    CHECKF(same, "variable subset %zu differs from the all-variables query", k);
    free(sub);
  }
  free(all);
}

static void check_grid_subsets(const inr_model *m, const uint64_t *dims)
{
  decoded whole = decode_grid(m, dims, NULL, NULL, 0, 0.5, NULL);
  const size_t orders[][3] = {{2, 0, 1}, {1, 0, 0}, {2, 0, 0}};
  const size_t counts[] = {3, 1, 1};
  for (int k = 0; k < 3; k++) {
    bool ok = true;
    for (size_t i = 0; i < counts[k]; i++) ok = ok && orders[k][i] < whole.n;
    if (!ok) continue;
    decoded part = decode_grid(m, dims, NULL, orders[k], counts[k], 0.5, &ONE_THREAD);
    for (size_t i = 0; i < part.n; i++) {
      size_t v = orders[k][i];
      CHECKF(part.len[i] == whole.len[v] && t_same_floats(part.buf[i], whole.buf[v], part.len[i]),
             "grid subset %d: variable %zu differs from the all-variables decode", k, v);
    }
    free_decoded(&part);
  }
  free_decoded(&whole);
}

/* The thread count changes nothing in the results. */
static void check_threads_option(const inr_model *m, const uint64_t *dims)
{
  decoded ref = decode_grid(m, dims, NULL, NULL, 0, 1.0, &ONE_THREAD);
  const uint32_t counts[] = {2, 3, 0, 16};
  for (int k = 0; k < 4; k++) {
    inr_decode_options o = {counts[k], NULL, NULL, 0, 0, 0.0};
    decoded d = decode_grid(m, dims, NULL, NULL, 0, 1.0, &o);
    CHECKF(same_decoded(&ref, &d), "decode_grid with %u threads differs from 1 thread", counts[k]);
    free_decoded(&d);
  }
  decoded d = decode_grid(m, dims, NULL, NULL, 0, 1.0, NULL);
  CHECK(same_decoded(&ref, &d));
  free_decoded(&d);
  free_decoded(&ref);

  enum { N = 1500 };
  double *xyz = t_xmalloc(3 * N * sizeof(double));
  for (int i = 0; i < 3 * N; i++) xyz[i] = sin(0.37 * i) * 3.0 + (i % 3 == 2 ? 12.0 : 0.5);
  size_t len = 0;
  float *q1 = query(m, xyz, N, NULL, 0.25, NULL, 0, &ONE_THREAD, &len);
  for (int k = 0; k < 4; k++) {
    inr_decode_options o = {counts[k], NULL, NULL, 0, 0, 0.0};
    float *q = query(m, xyz, N, NULL, 0.25, NULL, 0, &o, NULL);
    CHECKF(t_same_floats(q1, q, len), "query_points with %u threads differs from 1 thread", counts[k]);
    free(q);
  }
  free(q1);
  free(xyz);
}

/* open_memory of the file's bytes behaves as open from the path. */
static void check_open_memory(const inr_model *from_path, const char *path, const uint64_t *dims)
{
  size_t len = 0;
  unsigned char *bytes = t_read_file(path, &len);
  REQUIRE(bytes != NULL);
  inr_model *mm = NULL;
  REQUIRE_OK(inr_open_memory(bytes, len, &mm));
  memset(bytes, 0, len); /* the library copied them */
  free(bytes);
  uint64_t a = 0, b = 1;
  CHECK_OK(inr_file_size(mm, &a));
  CHECK_EQ_U64(a, len);
  CHECK_OK(inr_parameter_count(mm, &a));
  CHECK_OK(inr_parameter_count(from_path, &b));
  CHECK_EQ_U64(a, b);
  inr_domain k1, k2;
  CHECK_OK(inr_domain_kind(mm, &k1));
  CHECK_OK(inr_domain_kind(from_path, &k2));
  CHECK(k1 == k2);
  double b1[6], b2[6];
  CHECK_OK(inr_bounds(mm, b1));
  CHECK_OK(inr_bounds(from_path, b2));
  CHECK(memcmp(b1, b2, sizeof b1) == 0);
  size_t n1 = 0, n2 = 0;
  CHECK_OK(inr_variable_count(mm, &n1));
  CHECK_OK(inr_variable_count(from_path, &n2));
  CHECK_EQ_U64(n1, n2);
  for (size_t i = 0; i < n1 && i < n2; i++) {
    const char *s1, *s2;
    CHECK_OK(inr_variable_name(mm, i, &s1));
    CHECK_OK(inr_variable_name(from_path, i, &s2));
    CHECK_EQ_STR(s1, s2);
  }
  decoded g1 = decode_grid(mm, dims, NULL, NULL, 0, 0.75, NULL);
  decoded g2 = decode_grid(from_path, dims, NULL, NULL, 0, 0.75, NULL);
  CHECKF(same_decoded(&g1, &g2), "inr_open_memory decodes differently from inr_open");
  free_decoded(&g1);
  free_decoded(&g2);
  if (k1 == INR_DOMAIN_UNSTRUCTURED) {
    uint64_t s1[3], s2[3];
    CHECK_OK(inr_mesh_sizes(mm, &s1[0], &s1[1], &s1[2]));
    CHECK_OK(inr_mesh_sizes(from_path, &s2[0], &s2[1], &s2[2]));
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    decoded d1 = decode_nodes(mm, NULL, 0, 2.0, NULL);
    decoded d2 = decode_nodes(from_path, NULL, 0, 2.0, NULL);
    CHECKF(same_decoded(&d1, &d2), "inr_open_memory decodes nodes differently from inr_open");
    free_decoded(&d1);
    free_decoded(&d2);
  }
  inr_close(mm);
}

static int test_image(const char *path, const char *expect_path, const char *probe_path, const char *version_path)
{
  t_facts ex = t_load_facts(expect_path);
  t_facts probes = t_load_facts(probe_path);
  t_facts version = t_load_facts(version_path);
  var_facts vf = load_vars(&ex);
  REQUIRE(strcmp(t_require_fact(&ex, "domain", 0)->tok[1], "image") == 0);

  /* library and ABI versions */
  const t_line *vl = t_require_fact(&version, "inr", 0);
  CHECK_EQ_STR(inr_version(), vl->tok[1]);
  CHECK(inr_version() == inr_version());
  CHECK_EQ_U64(inr_abi_version(), ((uint32_t)INR_ABI_VERSION_MAJOR << 16) | (uint32_t)INR_ABI_VERSION_MINOR);
  CHECK_EQ_U64(inr_abi_version() >> 16, INR_ABI_VERSION_MAJOR);

  inr_model *m = open_or_die(path);
  check_description(m, &ex, &vf, path);

  inr_domain kind;
  FILL(kind);
  CHECK_OK(inr_domain_kind(m, &kind));
  CHECK(kind == INR_DOMAIN_IMAGE);

  const t_line *dl = t_require_fact(&ex, "dims", 0), *ol = t_require_fact(&ex, "origin", 0),
               *sl = t_require_fact(&ex, "spacing", 0);
  uint64_t dims[3], d[4];
  double origin[3], spacing[3];
  for (int a = 0; a < 3; a++) {
    dims[a] = (uint64_t)t_num(dl, a + 1);
    origin[a] = t_num(ol, a + 1);
    spacing[a] = t_num(sl, a + 1);
  }
  FILL(d);
  CHECK_OK(inr_native_dims(m, d));
  CHECK(memcmp(d, dims, sizeof dims) == 0);
  CHECK_UNTOUCHED(d[3]);
  double o[4], s[4];
  FILL(o);
  FILL(s);
  CHECK_OK(inr_image_geometry(m, o, s));
  for (int a = 0; a < 3; a++) {
    CHECK_SAME_F64(o[a], origin[a]);
    CHECK_SAME_F64(s[a], spacing[a]);
  }
  CHECK_UNTOUCHED(o[3]);
  CHECK_UNTOUCHED(s[3]);
  double b[7];
  FILL(b);
  CHECK_OK(inr_bounds(m, b));
  for (int a = 0; a < 3; a++) {
    CHECK_SAME_F64(b[2 * a], origin[a]);
    CHECK_SAME_F64(b[2 * a + 1], origin[a] + (double)(dims[a] - 1) * spacing[a]);
  }
  CHECK_UNTOUCHED(b[6]);

  /* the sampling grid: stored geometry at NULL / native dims, spread over
   * the bounds otherwise */
  double go[3], gs[3];
  CHECK_OK(inr_grid_geometry(m, NULL, go, gs));
  CHECK(memcmp(go, origin, sizeof go) == 0 && memcmp(gs, spacing, sizeof gs) == 0);
  FILL(go);
  FILL(gs);
  CHECK_OK(inr_grid_geometry(m, dims, go, gs));
  CHECK(memcmp(go, origin, sizeof go) == 0 && memcmp(gs, spacing, sizeof gs) == 0);
  check_grid_geometry_over_bounds(m, b);

  /* the stored grid's coordinates */
  for (uint32_t a = 0; a < 3; a++) {
    size_t count = 0;
    CHECK_OK(inr_grid_coordinates(m, a, NULL, 0, &count)); /* size query */
    CHECK_EQ_U64(count, dims[a]);
    double *c = t_xmalloc((count + 2) * sizeof(double));
    FILL_N(c, count + 2);
    count = 0;
    CHECK_OK(inr_grid_coordinates(m, a, c, dims[a] + 2, &count));
    CHECK_EQ_U64(count, dims[a]);
    bool exact = true;
    for (size_t i = 0; i < dims[a]; i++) {
      double want = origin[a] + (double)i * spacing[a];
      exact = exact && memcmp(&c[i], &want, sizeof want) == 0;
    }
    CHECKF(exact, "axis %u coordinates are not origin + i * spacing", a);
    CHECK_UNTOUCHED_N(c + dims[a], 2);
    FILL_N(c, count + 2);
    CHECK_OK(inr_grid_coordinates(m, a, c, dims[a], &count)); /* exact capacity */
    CHECK_SAME_F64(c[dims[a] - 1], b[2 * a + 1]);
    free(c);
  }

  /* cell data counts: (nx-1)(ny-1)(nz-1); point data: nx ny nz */
  for (size_t v = 0; v < vf.n; v++) {
    size_t n = 0;
    CHECK_OK(inr_grid_value_count(m, NULL, NULL, v, &n));
    size_t tuples = vf.v[v].association == INR_ASSOCIATION_POINT
                        ? (size_t)(dims[0] * dims[1] * dims[2])
                        : (size_t)((dims[0] - 1) * (dims[1] - 1) * (dims[2] - 1));
    CHECK_EQ_U64(n, tuples * vf.v[v].components);
    CHECK_OK(inr_grid_value_count(m, dims, NULL, v, &n));
    CHECK_EQ_U64(n, tuples * vf.v[v].components);
    /* a flat grid keeps one cell across its single point */
    const uint64_t flat[3] = {5, 4, 1};
    CHECK_OK(inr_grid_value_count(m, flat, NULL, v, &n));
    CHECK_EQ_U64(n, (vf.v[v].association == INR_ASSOCIATION_POINT ? 20u : 12u) * vf.v[v].components);
    /* an extent one point thick owns no cells */
    const int64_t slab[6] = {2, 5, 3, 3, 0, 4};
    CHECK_OK(inr_grid_value_count(m, NULL, slab, v, &n));
    CHECK_EQ_U64(n, (vf.v[v].association == INR_ASSOCIATION_POINT ? 4u * 5u : 0u) * vf.v[v].components);
    const int64_t box[6] = {2, 5, 3, 4, 1, 4};
    CHECK_OK(inr_grid_value_count(m, NULL, box, v, &n));
    CHECK_EQ_U64(n, (vf.v[v].association == INR_ASSOCIATION_POINT ? 4u * 2u * 4u : 3u * 1u * 3u) *
                        vf.v[v].components);
  }

  check_probes(m, &probes, &vf);
  check_points_vs_grid(m, NULL, dims, origin, spacing, 0.5);
  check_points_vs_grid(m, dims, dims, origin, spacing, 2.0);
  {
    const uint64_t other[3] = {7, 5, 3};
    double oo[3], os[3];
    CHECK_OK(inr_grid_geometry(m, other, oo, os));
    check_points_vs_grid(m, other, other, oo, os, 1.25);
  }
  check_sub_extents(m, NULL, 0.5);
  {
    const uint64_t other[3] = {9, 6, 5}, flat[3] = {6, 1, 4};
    check_sub_extents(m, other, NAN);
    check_sub_extents(m, flat, 2.0);
  }
  double steps[16];
  size_t nt = 0;
  CHECK_OK(inr_time_step_count(m, &nt));
  REQUIRE(nt >= 2 && nt < 16);
  CHECK_OK(inr_time_values(m, steps, 16));
  check_times(m, steps, nt);
  check_variable_subsets(m, &vf);
  check_grid_subsets(m, NULL);
  {
    const uint64_t small[3] = {12, 9, 8};
    check_threads_option(m, small);
  }
  check_open_memory(m, path, NULL);

  /* n_points = 0: nothing to do, the pointers are not needed */
  float untouched[2];
  FILL(untouched);
  CHECK_OK(inr_query_points(m, NULL, 0, NULL, NAN, NULL, 0, NULL, 0, NULL));
  CHECK_OK(inr_query_points(m, NULL, 0, NULL, NAN, NULL, 0, untouched, 0, NULL));
  CHECK_UNTOUCHED(untouched);

  inr_close(m);
  t_free_facts(&ex);
  t_free_facts(&probes);
  t_free_facts(&version);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Unstructured files.                                                 */

static double tet_volume(const double *p0, const double *p1, const double *p2, const double *p3)
{
  double a[3], b[3], c[3];
  for (int i = 0; i < 3; i++) {
    a[i] = p1[i] - p0[i];
    b[i] = p2[i] - p0[i];
    c[i] = p3[i] - p0[i];
  }
  return (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
          a[2] * (b[0] * c[1] - b[1] * c[0])) /
         6.0;
}

static void check_mesh_views(inr_model *m, uint64_t np, uint64_t nc, const double *pts);

static int test_mesh(const char *path, const char *expect_path, const char *probe_path, const char *kind_arg,
                     const char *cells_arg)
{
  t_facts ex = t_load_facts(expect_path);
  t_facts probes = t_load_facts(probe_path);
  var_facts vf = load_vars(&ex);
  REQUIRE(strcmp(t_require_fact(&ex, "domain", 0)->tok[1], "unstructured") == 0);
  bool tets = strcmp(kind_arg, "tets") == 0;
  REQUIRE(tets || strcmp(kind_arg, "hexes") == 0);
  unsigned cells[3];
  REQUIRE(sscanf(cells_arg, "%u,%u,%u", &cells[0], &cells[1], &cells[2]) == 3);
  /* the box of `inr synthetic --mesh` */
  const double lo[3] = {-1.0, 0.0, 2.0}, hi[3] = {1.0, 0.5, 3.0};

  inr_model *m = open_or_die(path);
  check_description(m, &ex, &vf, path);
  inr_domain kind;
  CHECK_OK(inr_domain_kind(m, &kind));
  CHECK(kind == INR_DOMAIN_UNSTRUCTURED);
  double b[6];
  CHECK_OK(inr_bounds(m, b));
  const t_line *bl = t_require_fact(&ex, "bounds", 0);
  for (int i = 0; i < 6; i++) CHECK_SAME_F64(b[i], t_num(bl, i + 1));
  for (int a = 0; a < 3; a++) {
    CHECK_SAME_F64(b[2 * a], lo[a]);
    CHECK_SAME_F64(b[2 * a + 1], hi[a]);
  }
  check_grid_geometry_over_bounds(m, b);

  /* sizes */
  uint64_t np = 0, nc = 0, nconn = 0;
  CHECK_OK(inr_mesh_sizes(m, &np, &nc, &nconn));
  uint64_t boxes = (uint64_t)cells[0] * cells[1] * cells[2];
  uint64_t per_cell = tets ? 4 : 8;
  CHECK_EQ_U64(np, (uint64_t)(cells[0] + 1) * (cells[1] + 1) * (cells[2] + 1));
  CHECK_EQ_U64(nc, tets ? 6 * boxes : boxes);
  CHECK_EQ_U64(nconn, per_cell * nc);
  CHECK_EQ_U64(np, (uint64_t)t_num(t_require_fact(&ex, "num_points", 0), 1));
  CHECK_EQ_U64(nc, (uint64_t)t_num(t_require_fact(&ex, "num_cells", 0), 1));

  /* points, exactly as `box_mesh` makes them (f32 values) */
  double *pts = t_xmalloc((size_t)(3 * np + 1) * sizeof(double));
  FILL_N(pts, 3 * np + 1);
  CHECK_OK(inr_mesh_points(m, pts, (size_t)(3 * np)));
  CHECK_UNTOUCHED(pts[3 * np]);
  bool exact = true;
  size_t q = 0;
  for (unsigned k = 0; k <= cells[2]; k++)
    for (unsigned j = 0; j <= cells[1]; j++)
      for (unsigned i = 0; i <= cells[0]; i++, q++) {
        unsigned idx[3] = {i, j, k};
        for (int a = 0; a < 3; a++) {
          double x = lo[a] + (hi[a] - lo[a]) * (double)idx[a] / (double)cells[a];
          double want = (double)(float)x;
          exact = exact && memcmp(&pts[3 * q + a], &want, sizeof want) == 0;
        }
      }
  CHECKF(exact, "mesh points differ from the box's");

  /* cells */
  int64_t *offsets = t_xmalloc((size_t)(nc + 2) * sizeof(int64_t));
  int64_t *conn = t_xmalloc((size_t)(nconn + 1) * sizeof(int64_t));
  uint8_t *types = t_xmalloc((size_t)(nc + 1));
  FILL_N(offsets, nc + 2);
  FILL_N(conn, nconn + 1);
  FILL_N(types, nc + 1);
  CHECK_OK(inr_mesh_cells(m, offsets, (size_t)nc + 1, conn, (size_t)nconn, types, (size_t)nc));
  CHECK_UNTOUCHED(offsets[nc + 1]);
  CHECK_UNTOUCHED(conn[nconn]);
  CHECK_UNTOUCHED(types[nc]);
  bool offsets_ok = true, types_ok = true, ids_ok = true;
  for (uint64_t c = 0; c <= nc; c++) offsets_ok = offsets_ok && offsets[c] == (int64_t)(per_cell * c);
  for (uint64_t c = 0; c < nc; c++) types_ok = types_ok && types[c] == (tets ? 10 : 12);
  for (uint64_t i = 0; i < nconn; i++) ids_ok = ids_ok && conn[i] >= 0 && (uint64_t)conn[i] < np;
  CHECKF(offsets_ok, "offsets are not 0, %u, %u, ...", (unsigned)per_cell, (unsigned)(2 * per_cell));
  CHECKF(types_ok, "cell types are not all %d", tets ? 10 : 12);
  CHECKF(ids_ok, "connectivity has ids outside 0..%" PRIu64, np - 1);
  if (tets) {
    /* the tetrahedra fill the box: volumes add up to the box's */
    double total = 0.0;
    bool positive = true;
    for (uint64_t c = 0; c < nc && ids_ok; c++) {
      const int64_t *t = &conn[4 * c];
      double v = fabs(tet_volume(&pts[3 * t[0]], &pts[3 * t[1]], &pts[3 * t[2]], &pts[3 * t[3]]));
      positive = positive && v > 0.0;
      total += v;
    }
    double box = (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
    CHECKF(positive, "a degenerate tetrahedron");
    CHECKF(fabs(total - box) <= 1e-6 * box, "tetrahedra volumes add up to %.17g, box %.17g", total, box);
  } else {
    /* VTK hexahedron order: bottom face counter-clockwise, then the top */
    bool order_ok = true;
    uint64_t c = 0;
    unsigned n0 = cells[0] + 1, n1 = cells[1] + 1;
    for (unsigned k = 0; k < cells[2]; k++)
      for (unsigned j = 0; j < cells[1]; j++)
        for (unsigned i = 0; i < cells[0]; i++, c++) {
          const unsigned di[8] = {0, 1, 1, 0, 0, 1, 1, 0}, dj[8] = {0, 0, 1, 1, 0, 0, 1, 1},
                         dk[8] = {0, 0, 0, 0, 1, 1, 1, 1};
          for (int v = 0; v < 8; v++)
            order_ok = order_ok && conn[8 * c + v] == (int64_t)((i + di[v]) + n0 * ((j + dj[v]) + n1 * (k + dk[v])));
        }
    CHECKF(order_ok, "hexahedra connectivity is not the box's in VTK order");
  }

  /* values at the nodes and cell centroids */
  for (size_t v = 0; v < vf.n; v++) {
    size_t n = 0;
    CHECK_OK(inr_node_value_count(m, v, &n));
    CHECK_EQ_U64(n, (vf.v[v].association == INR_ASSOCIATION_POINT ? np : nc) * vf.v[v].components);
  }
  double *centroids = t_xmalloc((size_t)(3 * nc) * sizeof(double));
  for (uint64_t c = 0; c < nc; c++)
    for (int a = 0; a < 3; a++) {
      double sum = 0.0;
      for (int64_t i = offsets[c]; i < offsets[c + 1]; i++) sum += pts[3 * conn[i] + a];
      centroids[3 * c + a] = sum / (double)(offsets[c + 1] - offsets[c]);
    }
  decoded nodes = decode_nodes(m, NULL, 0, 0.5, NULL);
  for (size_t v = 0; v < nodes.n; v++) {
    bool point = vf.v[v].association == INR_ASSOCIATION_POINT;
    float *qv = query(m, point ? pts : centroids, (size_t)(point ? np : nc), NULL, 0.5, &v, 1, NULL, NULL);
    CHECKF(t_same_floats(qv, nodes.buf[v], nodes.len[v]),
           "decode_nodes of variable %zu differs from inr_query_points at the %s", v,
           point ? "nodes" : "cell centroids");
    free(qv);
  }
  decoded nodes1 = decode_nodes(m, NULL, 0, 0.5, &ONE_THREAD);
  CHECK(same_decoded(&nodes, &nodes1));
  inr_decode_options three = {3, NULL, NULL, 0, 0, 0.0};
  decoded nodes3 = decode_nodes(m, NULL, 0, 0.5, &three);
  CHECK(same_decoded(&nodes, &nodes3));
  /* times: NaN = first step, clamping */
  decoded n_nan = decode_nodes(m, NULL, 0, NAN, NULL), n_first = decode_nodes(m, NULL, 0, 0.0, NULL),
          n_before = decode_nodes(m, NULL, 0, -4.0, NULL), n_last = decode_nodes(m, NULL, 0, 2.0, NULL),
          n_after = decode_nodes(m, NULL, 0, 1e9, NULL);
  CHECK(same_decoded(&n_nan, &n_first));
  CHECK(same_decoded(&n_before, &n_first));
  CHECK(same_decoded(&n_after, &n_last));
  CHECK(!same_decoded(&n_first, &n_last));
  /* subsets in any order */
  const size_t order[2] = {2, 0};
  decoded sub = decode_nodes(m, order, 2, 0.5, NULL);
  CHECK(sub.len[0] == nodes.len[2] && t_same_floats(sub.buf[0], nodes.buf[2], sub.len[0]));
  CHECK(sub.len[1] == nodes.len[0] && t_same_floats(sub.buf[1], nodes.buf[0], sub.len[1]));
  /* progress */
  progress_log log = new_log(0);
  inr_decode_options po = {0, on_progress, &log, 0, 0, 0.0};
  decoded np_ = decode_nodes(m, NULL, 0, 0.5, &po);
  CHECK(same_decoded(&nodes, &np_));
  check_completed_progress(&log, "inr_decode_nodes");
  free_decoded(&np_);
  free_decoded(&sub);
  free_decoded(&n_nan);
  free_decoded(&n_first);
  free_decoded(&n_before);
  free_decoded(&n_last);
  free_decoded(&n_after);
  free_decoded(&nodes3);
  free_decoded(&nodes1);
  free_decoded(&nodes);

  check_probes(m, &probes, &vf);
  /* grids over the mesh's bounds */
  const uint64_t gd[3] = {6, 5, 4};
  double go[3], gs[3];
  CHECK_OK(inr_grid_geometry(m, gd, go, gs));
  check_points_vs_grid(m, gd, gd, go, gs, 0.5);
  check_sub_extents(m, gd, 1.0);
  check_grid_subsets(m, gd);
  check_threads_option(m, gd);
  check_variable_subsets(m, &vf);
  check_open_memory(m, path, gd);

  check_mesh_views(m, np, nc, pts);

  /* a second handle on the same file reads its own copy of the mesh */
  inr_model *m2 = open_or_die(path);
  double *pts2 = t_xmalloc((size_t)(3 * np) * sizeof(double));
  CHECK_OK(inr_mesh_points(m2, pts2, (size_t)(3 * np)));
  CHECK(memcmp(pts, pts2, (size_t)(3 * np) * sizeof(double)) == 0);
  inr_close(m2);

  free(pts2);
  free(centroids);
  free(offsets);
  free(conn);
  free(types);
  free(pts);
  inr_close(m);
  t_free_facts(&ex);
  t_free_facts(&probes);
  return 0;
}

/* Mesh views: pieces (together every cell once, values equal the whole
 * mesh's bit for bit), a refined mesh (values equal point queries at its
 * points), and resampling onto a grid over the mesh's bounds (the box mesh
 * fills its bounds: every point inside, values equal point queries). */
static void check_mesh_views(inr_model *m, uint64_t np, uint64_t nc, const double *pts)
{
  decoded whole = decode_nodes(m, NULL, 0, 0.5, NULL);
  size_t nvars = whole.n;
  int64_t *cell_seen = t_xmalloc((size_t)nc * sizeof(int64_t));
  memset(cell_seen, 0, (size_t)nc * sizeof(int64_t));
  for (uint64_t piece = 0; piece < 3; piece++) {
    inr_mesh_view *v = NULL;
    REQUIRE_OK(inr_mesh_view_new(m, 0, piece, 3, &v));
    uint64_t vp = 0, vc = 0, vconn = 0;
    CHECK_OK(inr_mesh_view_sizes(v, &vp, &vc, &vconn));
    CHECK(vp > 0 && vp <= np && vc > 0 && vc <= nc);
    double *vpts = t_xmalloc((size_t)(3 * vp) * sizeof(double));
    int64_t *psrc = t_xmalloc((size_t)vp * sizeof(int64_t)), *csrc = t_xmalloc((size_t)vc * sizeof(int64_t));
    CHECK_OK(inr_mesh_view_points(v, vpts, (size_t)(3 * vp)));
    CHECK_OK(inr_mesh_view_sources(v, psrc, (size_t)vp, csrc, (size_t)vc));
    bool same_points = true;
    for (uint64_t i = 0; i < vp; i++)
      same_points = same_points && psrc[i] >= 0 && (uint64_t)psrc[i] < np &&
                    memcmp(&vpts[3 * i], &pts[3 * psrc[i]], 3 * sizeof(double)) == 0;
    CHECKF(same_points, "piece %" PRIu64 ": points differ from the stored ones", piece);
    for (uint64_t c = 0; c < vc; c++)
      if (csrc[c] >= 0 && (uint64_t)csrc[c] < nc) cell_seen[csrc[c]]++;
    /* values at the piece's nodes and cells equal the whole mesh's */
    float **bufs = t_xmalloc(nvars * sizeof(float *));
    size_t *lens = t_xmalloc(nvars * sizeof(size_t));
    for (size_t k = 0; k < nvars; k++) {
      CHECK_OK(inr_mesh_view_value_count(m, v, k, &lens[k]));
      bufs[k] = t_xmalloc((lens[k] + 1) * sizeof(float));
    }
    CHECK_OK(inr_decode_mesh_view(m, v, NULL, 0, 0.5, bufs, lens, NULL));
    for (size_t k = 0; k < nvars; k++) {
      bool point = lens[k] % vp == 0 && lens[k] / vp == whole.len[k] / np && whole.len[k] % np == 0 &&
                   (whole.len[k] / np) * vc != lens[k];
      size_t comps = whole.len[k] / (point ? np : nc);
      bool same = true;
      uint64_t n = point ? vp : vc;
      for (uint64_t i = 0; i < n; i++) {
        int64_t src = point ? psrc[i] : csrc[i];
        same = same && memcmp(&bufs[k][comps * i], &whole.buf[k][comps * (size_t)src], comps * sizeof(float)) == 0;
      }
      CHECKF(same, "piece %" PRIu64 ": variable %zu differs from the whole mesh's", piece, k);
      free(bufs[k]);
    }
    free(bufs);
    free(lens);
    free(vpts);
    free(psrc);
    free(csrc);
    inr_mesh_view_free(v);
  }
  bool once = true;
  for (uint64_t c = 0; c < nc; c++) once = once && cell_seen[c] == 1;
  CHECKF(once, "the 3 pieces do not hold every cell exactly once");
  free(cell_seen);

  /* refined once: 8 cells per cell, the stored points first */
  inr_mesh_view *r = NULL;
  REQUIRE_OK(inr_mesh_view_new(m, 1, 0, 1, &r));
  uint64_t rp = 0, rc = 0, rconn = 0;
  CHECK_OK(inr_mesh_view_sizes(r, &rp, &rc, &rconn));
  CHECK_EQ_U64(rc, 8 * nc);
  CHECK(rp > np);
  double *rpts = t_xmalloc((size_t)(3 * rp) * sizeof(double));
  CHECK_OK(inr_mesh_view_points(r, rpts, (size_t)(3 * rp)));
  CHECK(memcmp(rpts, pts, (size_t)(3 * np) * sizeof(double)) == 0);
  int64_t *off = t_xmalloc((size_t)(rc + 1) * sizeof(int64_t)), *conn = t_xmalloc((size_t)rconn * sizeof(int64_t));
  uint8_t *types = t_xmalloc((size_t)rc);
  CHECK_OK(inr_mesh_view_cells(r, off, (size_t)rc + 1, conn, (size_t)rconn, types, (size_t)rc));
  CHECK(off[0] == 0 && off[rc] == (int64_t)rconn);
  size_t first = 0, n0 = 0;
  CHECK_OK(inr_mesh_view_value_count(m, r, first, &n0));
  CHECK_EQ_U64(n0 % rp, 0);
  float *rv = t_xmalloc(n0 * sizeof(float));
  CHECK_OK(inr_decode_mesh_view(m, r, &first, 1, 0.5, &rv, &n0, &ONE_THREAD));
  float *qv = query(m, rpts, (size_t)rp, NULL, 0.5, &first, 1, NULL, NULL);
  CHECKF(t_same_floats(rv, qv, n0), "refined mesh values differ from point queries at its points");
  free(qv);
  free(rv);
  free(off);
  free(conn);
  free(types);
  free(rpts);
  inr_mesh_view_free(r);

  /* resampling: the box mesh fills its bounds */
  const uint64_t gd[3] = {7, 6, 5};
  const size_t ng = 7 * 6 * 5;
  double go[3], gs[3];
  REQUIRE_OK(inr_grid_geometry(m, gd, go, gs));
  uint8_t *mask = t_xmalloc(ng + 1);
  FILL_N(mask, ng + 1);
  CHECK_OK(inr_grid_inside_mask(m, gd, NULL, mask, ng, NULL));
  CHECK_UNTOUCHED(mask[ng]);
  bool all_in = true;
  for (size_t i = 0; i < ng; i++) all_in = all_in && mask[i] == 1;
  CHECKF(all_in, "grid points over the box mesh's bounds found outside it");
  double *gp = t_xmalloc(3 * ng * sizeof(double));
  size_t q = 0;
  for (uint64_t k = 0; k < gd[2]; k++)
    for (uint64_t j = 0; j < gd[1]; j++)
      for (uint64_t i = 0; i < gd[0]; i++, q++) {
        gp[3 * q] = go[0] + gs[0] * (double)i;
        gp[3 * q + 1] = go[1] + gs[1] * (double)j;
        gp[3 * q + 2] = go[2] + gs[2] * (double)k;
      }
  for (size_t k = 0; k < nvars; k++) {
    size_t n = 0;
    CHECK_OK(inr_resample_value_count(m, gd, NULL, k, &n));
    CHECK_EQ_U64(n % ng, 0);
    float *rs = t_xmalloc((n + 1) * sizeof(float));
    FILL_N(rs, n + 1);
    uint8_t *mk = t_xmalloc(ng);
    CHECK_OK(inr_resample_grid(m, gd, NULL, &k, 1, 0.5, NAN, &rs, &n, mk, ng, NULL));
    CHECK_UNTOUCHED(rs[n]);
    CHECK(memcmp(mk, mask, ng) == 0);
    float *want = query(m, gp, ng, NULL, 0.5, &k, 1, NULL, NULL);
    CHECKF(t_same_floats(rs, want, n), "resampled variable %zu differs from point queries", k);
    /* without a mask, and a sub-extent */
    float *rs2 = t_xmalloc(n * sizeof(float));
    CHECK_OK(inr_resample_grid(m, gd, NULL, &k, 1, 0.5, NAN, &rs2, &n, NULL, 0, &ONE_THREAD));
    CHECK(t_same_floats(rs, rs2, n));
    const int64_t e[6] = {1, 5, 0, 3, 2, 4};
    size_t ns = 0, comps = n / ng;
    CHECK_OK(inr_resample_value_count(m, gd, e, k, &ns));
    CHECK_EQ_U64(ns, 5 * 4 * 3 * comps);
    float *part = t_xmalloc(ns * sizeof(float));
    CHECK_OK(inr_resample_grid(m, gd, e, &k, 1, 0.5, 0.0f, &part, &ns, NULL, 0, NULL));
    bool same = true;
    size_t p = 0;
    for (int64_t kk = e[4]; kk <= e[5]; kk++)
      for (int64_t jj = e[2]; jj <= e[3]; jj++)
        for (int64_t ii = e[0]; ii <= e[1]; ii++, p++) {
          size_t w = (size_t)(ii + 7 * (jj + 6 * kk));
          same = same && memcmp(&part[comps * p], &rs[comps * w], comps * sizeof(float)) == 0;
        }
    CHECKF(same, "a resampled sub-extent differs from the whole grid");
    free(part);
    free(rs2);
    free(want);
    free(mk);
    free(rs);
  }
  free(gp);
  free(mask);
  free_decoded(&whole);
}

/* Argument errors of mesh views and resampling, and both on an image. */
static void check_mesh_view_errors(inr_model *img, inr_model *m)
{
  inr_mesh_view *v = (inr_mesh_view *)(uintptr_t)1;
  inr_mesh_view *const untouched = v;
  CHECK_FAILS(inr_mesh_view_new(NULL, 0, 0, 1, &v), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_new(m, 0, 0, 1, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_new(m, 0, 1, 1, &v), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_new(m, 0, 0, 0, &v), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_new(m, 40, 0, 1, &v), INR_ERROR_LIMIT);
  CHECK_FAILS(inr_mesh_view_new(img, 0, 0, 1, &v), INR_ERROR_INVALID_ARGUMENT);
  CHECK(v == untouched);
  inr_mesh_view_free(NULL);
  REQUIRE_OK(inr_mesh_view_new(m, 0, 1, 2, &v));
  uint64_t a, b, c;
  CHECK_FAILS(inr_mesh_view_sizes(NULL, &a, &b, &c), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_sizes(v, &a, NULL, &c), INR_ERROR_NULL_ARGUMENT);
  REQUIRE_OK(inr_mesh_view_sizes(v, &a, &b, &c));
  double pts[3];
  CHECK_FAILS(inr_mesh_view_points(v, NULL, (size_t)(3 * a)), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_points(v, pts, 3), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_points(NULL, pts, 3), INR_ERROR_NULL_ARGUMENT);
  int64_t off[2], conn[2], src[2];
  uint8_t ty[2];
  CHECK_FAILS(inr_mesh_view_cells(v, off, 1, conn, 1, ty, 1), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_cells(v, NULL, 1, conn, 1, ty, 1), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_sources(v, src, 1, NULL, 0), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_sources(v, NULL, 0, src, 1), INR_ERROR_INVALID_ARGUMENT);
  CHECK_OK(inr_mesh_view_sources(v, NULL, 0, NULL, 0));
  CHECK_FAILS(inr_mesh_view_sources(NULL, NULL, 0, NULL, 0), INR_ERROR_NULL_ARGUMENT);
  size_t n = 0;
  CHECK_FAILS(inr_mesh_view_value_count(m, v, 99, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_value_count(m, NULL, 0, &n), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_view_value_count(m, v, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  REQUIRE_OK(inr_mesh_view_value_count(m, v, 0, &n));
  float *buf = t_xmalloc((n + 1) * sizeof(float));
  size_t short_len = n - 1, zero = 0;
  CHECK_FAILS(inr_decode_mesh_view(m, v, &zero, 1, 0.5, &buf, &short_len, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_decode_mesh_view(m, NULL, &zero, 1, 0.5, &buf, &n, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_mesh_view(img, v, &zero, 1, 0.5, &buf, &n, NULL), INR_ERROR_INVALID_ARGUMENT);
  free(buf);
  inr_mesh_view_free(v);

  /* resampling */
  const uint64_t gd[3] = {4, 4, 4}, zero_dims[3] = {0, 4, 4};
  uint8_t mask[64];
  float vals[64 * 3];
  float *out = vals;
  size_t len = 64;
  const int64_t outside[6] = {0, 4, 0, 3, 0, 3};
  CHECK_FAILS(inr_resample_value_count(m, NULL, NULL, 0, &n), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_resample_value_count(m, gd, outside, 0, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_resample_value_count(m, gd, NULL, 99, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_resample_value_count(img, gd, NULL, 0, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_inside_mask(m, gd, NULL, NULL, 64, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_inside_mask(m, gd, NULL, mask, 63, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_inside_mask(m, zero_dims, NULL, mask, 64, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_inside_mask(img, gd, NULL, mask, 64, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_inside_mask(NULL, gd, NULL, mask, 64, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_resample_grid(m, gd, NULL, &zero, 1, 0.5, 0.0f, &out, &len, NULL, 5, NULL),
              INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_resample_grid(m, gd, NULL, &zero, 1, 0.5, 0.0f, &out, &len, mask, 63, NULL),
              INR_ERROR_INVALID_ARGUMENT);
  size_t bad_len = 63;
  CHECK_FAILS(inr_resample_grid(m, gd, NULL, &zero, 1, 0.5, 0.0f, &out, &bad_len, mask, 64, NULL),
              INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_resample_grid(m, gd, NULL, &zero, 1, 0.5, 0.0f, NULL, &len, mask, 64, NULL),
              INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_resample_grid(img, gd, NULL, &zero, 1, 0.5, 0.0f, &out, &len, mask, 64, NULL),
              INR_ERROR_INVALID_ARGUMENT);
  /* cancelled by the progress callback (a pass that ends before the first
   * progress interval reports only its end, which cannot cancel it) */
  progress_log log = new_log(1);
  inr_decode_options po = {0, on_progress, &log, 0, 0, 0.0};
  const uint64_t big[3] = {128, 128, 128};
  size_t big_len = 128 * 128 * 128;
  float *big_out = t_xmalloc(big_len * sizeof(float));
  inr_status st = inr_resample_grid(m, big, NULL, &zero, 1, 0.5, 0.0f, &big_out, &big_len, NULL, 0, &po);
  CHECKF(st == INR_ERROR_CANCELLED || (st == INR_OK && log.calls <= 2),
         "cancelling a resample: %s after %d progress calls", inr_status_name(st), log.calls);
  free(big_out);
}

/* ------------------------------------------------------------------ */
/* Error paths of every function.                                      */

static inr_model *const BAD_HANDLE = (inr_model *)(uintptr_t)0xA5A5A5A5A5A5A5A5u;

static void check_status_names(void)
{
  static const struct {
    int code;
    const char *name;
  } names[] = {
      {INR_OK, "INR_OK"},
      {INR_ERROR_NULL_ARGUMENT, "INR_ERROR_NULL_ARGUMENT"},
      {INR_ERROR_INVALID_ARGUMENT, "INR_ERROR_INVALID_ARGUMENT"},
      {INR_ERROR_BUFFER_TOO_SMALL, "INR_ERROR_BUFFER_TOO_SMALL"},
      {INR_ERROR_IO, "INR_ERROR_IO"},
      {INR_ERROR_NOT_INR, "INR_ERROR_NOT_INR"},
      {INR_ERROR_UNSUPPORTED_VERSION, "INR_ERROR_UNSUPPORTED_VERSION"},
      {INR_ERROR_TRUNCATED, "INR_ERROR_TRUNCATED"},
      {INR_ERROR_CHECKSUM, "INR_ERROR_CHECKSUM"},
      {INR_ERROR_CORRUPT, "INR_ERROR_CORRUPT"},
      {INR_ERROR_LIMIT, "INR_ERROR_LIMIT"},
      {INR_ERROR_UNSUPPORTED, "INR_ERROR_UNSUPPORTED"},
      {INR_ERROR_CANCELLED, "INR_ERROR_CANCELLED"},
      {INR_ERROR_INTERNAL, "INR_ERROR_INTERNAL"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    CHECK_EQ_STR(inr_status_name(names[i].code), names[i].name);
    CHECK(inr_status_name(names[i].code) == inr_status_name(names[i].code)); /* static */
    CHECK_EQ_U64(names[i].code, i); /* the codes are 0..13 in order */
  }
  const int32_t unknown[] = {-1, 14, 15, 100, 999, INT32_MIN, INT32_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
    CHECK_EQ_STR(inr_status_name(unknown[i]), "INR_UNKNOWN_STATUS");
}

/* Argument errors of the functions that describe a model. */
static void check_description_errors(inr_model *m, inr_model *mesh)
{
  size_t nvars = 0;
  REQUIRE_OK(inr_variable_count(m, &nvars));
  REQUIRE(nvars == 3); /* pressure (1, point), velocity (3, point), density (1, cell) */

  inr_domain dk;
  FILL(dk);
  CHECK_FAILS(inr_domain_kind(NULL, &dk), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(dk);
  CHECK_FAILS(inr_domain_kind(m, NULL), INR_ERROR_NULL_ARGUMENT);

  double b6[6];
  FILL(b6);
  CHECK_FAILS(inr_bounds(NULL, b6), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(b6);
  CHECK_FAILS(inr_bounds(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_bounds(mesh, NULL), INR_ERROR_NULL_ARGUMENT);

  uint64_t d3[3];
  FILL(d3);
  CHECK_FAILS(inr_native_dims(NULL, d3), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_native_dims(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_native_dims(mesh, d3), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(d3);

  double o3[3], s3[3];
  FILL(o3);
  FILL(s3);
  CHECK_FAILS(inr_image_geometry(NULL, o3, s3), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_image_geometry(m, NULL, s3), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(s3);
  CHECK_FAILS(inr_image_geometry(m, o3, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(o3);
  CHECK_FAILS(inr_image_geometry(mesh, o3, s3), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(o3);
  CHECK_UNTOUCHED(s3);

  /* inr_grid_geometry: NULLs, dims 0 or too many points, a mesh without dims */
  const uint64_t good_dims[3] = {4, 4, 4};
  CHECK_FAILS(inr_grid_geometry(NULL, good_dims, o3, s3), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_geometry(m, good_dims, NULL, s3), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_geometry(m, NULL, o3, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(o3);
  CHECK_UNTOUCHED(s3);
  const uint64_t bad_dims[][3] = {{0, 4, 4}, {4, 0, 4}, {4, 4, 0}, {0, 0, 0},
                                  {(uint64_t)1 << 25, 2, 2}, {(uint64_t)1 << 24, (uint64_t)1 << 24, (uint64_t)1 << 24},
                                  {UINT64_MAX, 1, 1}};
  for (size_t k = 0; k < sizeof bad_dims / sizeof bad_dims[0]; k++) {
    CHECK_FAILS(inr_grid_geometry(m, bad_dims[k], o3, s3), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_grid_geometry(mesh, bad_dims[k], o3, s3), INR_ERROR_INVALID_ARGUMENT);
    size_t n;
    FILL(n);
    CHECK_FAILS(inr_grid_value_count(m, bad_dims[k], NULL, 0, &n), INR_ERROR_INVALID_ARGUMENT);
    CHECK_UNTOUCHED(n);
  }
  CHECK_FAILS(inr_grid_geometry(mesh, NULL, o3, s3), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(o3);
  CHECK_UNTOUCHED(s3);

  /* inr_grid_coordinates */
  size_t count;
  double coords[64];
  FILL(count);
  FILL(coords);
  CHECK_FAILS(inr_grid_coordinates(NULL, 0, NULL, 0, &count), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_coordinates(m, 0, NULL, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_coordinates(m, 0, coords, 64, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(coords);
  CHECK_FAILS(inr_grid_coordinates(m, 0, NULL, 64, &count), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(count);
  CHECK_FAILS(inr_grid_coordinates(m, 3, coords, 64, &count), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_coordinates(m, UINT32_MAX, NULL, 0, &count), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_coordinates(m, 0, coords, 23, &count), INR_ERROR_BUFFER_TOO_SMALL); /* 24 points */
  CHECK_FAILS(inr_grid_coordinates(m, 2, coords, 1, &count), INR_ERROR_BUFFER_TOO_SMALL);  /* 16 points */
  CHECK_UNTOUCHED(coords);
  CHECK_UNTOUCHED(count);
  CHECK_FAILS(inr_grid_coordinates(mesh, 0, coords, 64, &count), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_coordinates(mesh, 0, NULL, 0, &count), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(coords);
  CHECK_UNTOUCHED(count);

  /* variables */
  size_t sz;
  FILL(sz);
  CHECK_FAILS(inr_variable_count(NULL, &sz), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_count(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(sz);
  const size_t bad_index[] = {3, 4, 1000, SIZE_MAX};
  const char *str;
  FILL(str);
  CHECK_FAILS(inr_variable_name(NULL, 0, &str), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_name(m, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_units(NULL, 0, &str), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_units(m, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  uint32_t u32;
  FILL(u32);
  CHECK_FAILS(inr_variable_components(NULL, 0, &u32), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_components(m, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  inr_association assoc;
  FILL(assoc);
  CHECK_FAILS(inr_variable_association(NULL, 0, &assoc), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_association(m, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  double r2[2];
  FILL(r2);
  CHECK_FAILS(inr_variable_range(NULL, 0, 0, r2), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_range(m, 0, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  double b2;
  FILL(b2);
  CHECK_FAILS(inr_error_bound(NULL, 0, 0, &b2), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_error_bound(m, 0, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  for (size_t k = 0; k < sizeof bad_index / sizeof bad_index[0]; k++) {
    size_t i = bad_index[k];
    CHECK_FAILS(inr_variable_name(m, i, &str), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_variable_units(m, i, &str), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_variable_components(m, i, &u32), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_variable_association(m, i, &assoc), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_variable_range(m, i, 0, r2), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_error_bound(m, i, 0, &b2), INR_ERROR_INVALID_ARGUMENT);
    CHECK_FAILS(inr_variable_name(mesh, i, &str), INR_ERROR_INVALID_ARGUMENT);
  }
  /* components: pressure has 1, velocity 3 */
  CHECK_FAILS(inr_variable_range(m, 0, 1, r2), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_variable_range(m, 1, 3, r2), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_variable_range(m, 2, UINT32_MAX, r2), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_error_bound(m, 1, 3, &b2), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(b2);
  CHECK_UNTOUCHED(str);
  CHECK_UNTOUCHED(u32);
  CHECK_UNTOUCHED(assoc);
  CHECK_UNTOUCHED(r2);

  CHECK_FAILS(inr_variable_find(NULL, "pressure", &sz), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_find(m, NULL, &sz), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_variable_find(m, "pressure", NULL), INR_ERROR_NULL_ARGUMENT);
  const char *bad_names[] = {"", "nope", "Pressure", "pressure ", " pressure", "pressur", "\xff\xfe"};
  for (size_t k = 0; k < sizeof bad_names / sizeof bad_names[0]; k++)
    CHECK_FAILS(inr_variable_find(m, bad_names[k], &sz), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(sz);

  /* time axis */
  CHECK_FAILS(inr_time_step_count(NULL, &sz), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_time_step_count(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(sz);
  double tv[3];
  FILL(tv);
  CHECK_FAILS(inr_time_values(NULL, tv, 3), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_time_values(m, NULL, 3), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_time_values(m, tv, 2), INR_ERROR_BUFFER_TOO_SMALL);
  CHECK_FAILS(inr_time_values(m, tv, 0), INR_ERROR_BUFFER_TOO_SMALL);
  CHECK_FAILS(inr_time_values(m, NULL, 0), INR_ERROR_BUFFER_TOO_SMALL);
  CHECK_FAILS(inr_time_values(mesh, tv, 1), INR_ERROR_BUFFER_TOO_SMALL);
  CHECK_UNTOUCHED(tv);

  /* model */
  CHECK_FAILS(inr_model_family(NULL, &str), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_model_family(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(str);
  uint64_t u64;
  FILL(u64);
  CHECK_FAILS(inr_parameter_count(NULL, &u64), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_parameter_count(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_file_size(NULL, &u64), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_file_size(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_UNTOUCHED(u64);
}

/* Argument errors of inr_query_components and inr_query_points. */
static void check_query_errors(inr_model *m)
{
  size_t c;
  FILL(c);
  const size_t vars[2] = {0, 2}, bad_vars[2] = {0, 3};
  CHECK_FAILS(inr_query_components(NULL, NULL, 0, &c), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_components(m, NULL, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_components(m, NULL, 2, &c), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_components(m, bad_vars, 2, &c), INR_ERROR_INVALID_ARGUMENT);
  const size_t huge_var = SIZE_MAX;
  CHECK_FAILS(inr_query_components(m, &huge_var, 1, &c), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(c);

  const double xyz[6] = {0.0, 1.0, 12.0, 1.0, 2.0, 20.0};
  const double times[2] = {0.0, 0.5}, nan_times[2] = {0.5, NAN};
  float out[16];
  FILL(out);
  /* all variables: 5 floats per point */
  CHECK_FAILS(inr_query_points(NULL, xyz, 2, NULL, NAN, NULL, 0, out, 10, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, NULL, 2, NULL, NAN, NULL, 0, out, 10, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, xyz, 2, NULL, NAN, NULL, 0, NULL, 10, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, xyz, 2, NULL, NAN, NULL, 1, out, 2, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, xyz, 2, times, NAN, bad_vars, 2, out, 4, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, xyz, 0, NULL, NAN, bad_vars, 2, NULL, 0, NULL), INR_ERROR_INVALID_ARGUMENT);
  /* out_len must be exactly n_points * components */
  const size_t bad_lens[] = {0, 1, 9, 11, 16};
  for (size_t k = 0; k < sizeof bad_lens / sizeof bad_lens[0]; k++)
    CHECK_FAILS(inr_query_points(m, xyz, 2, NULL, NAN, NULL, 0, out, bad_lens[k], NULL), INR_ERROR_INVALID_ARGUMENT);
  /* variables 0 and 2: 2 floats per point */
  const size_t bad_sub_lens[] = {0, 2, 3, 5, 10};
  for (size_t k = 0; k < sizeof bad_sub_lens / sizeof bad_sub_lens[0]; k++)
    CHECK_FAILS(inr_query_points(m, xyz, 2, times, NAN, vars, 2, out, bad_sub_lens[k], NULL),
                INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, xyz, 2, nan_times, 0.0, NULL, 0, out, 10, NULL), INR_ERROR_INVALID_ARGUMENT);
  /* 3 * n_points overflows size_t */
  CHECK_FAILS(inr_query_points(m, xyz, SIZE_MAX / 3 + 1, NULL, NAN, NULL, 0, out, 16, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_query_points(m, xyz, SIZE_MAX, NULL, NAN, NULL, 0, out, 16, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(out);
  /* a bad options pointer field: a cancelled-at-once progress would still
   * need a valid callback; NULL callback with user_data is fine */
  inr_decode_options o = {1, NULL, (void *)&c, 0, 0, 0.0};
  CHECK_OK(inr_query_points(m, xyz, 2, NULL, NAN, NULL, 0, out, 10, &o));
}

/* Argument errors of inr_grid_value_count and inr_decode_grid. */
static void check_grid_errors(inr_model *m, inr_model *mesh)
{
  /* the image is 24 x 20 x 16 */
  const int64_t bad_extents[][6] = {
      {0, 24, 0, 1, 0, 1},  {0, 1, 0, 20, 0, 1},   {0, 1, 0, 1, 0, 16},         /* outside */
      {5, 4, 0, 1, 0, 1},   {0, 1, 3, 2, 0, 1},    {0, 1, 0, 1, 9, 8},          /* inverted */
      {-1, 1, 0, 1, 0, 1},  {0, -1, 0, 1, 0, 1},   {0, 1, -2, 1, 0, 1},         /* negative */
      {0, 1, 0, -1, 0, 1},  {0, 1, 0, 1, -1, 1},   {0, 1, 0, 1, 0, -1},
      {INT64_MIN, INT64_MAX, 0, 1, 0, 1}, {0, INT64_MAX, 0, 1, 0, 1}, {23, 24, 19, 20, 15, 16},
  };
  size_t n;
  FILL(n);
  CHECK_FAILS(inr_grid_value_count(NULL, NULL, NULL, 0, &n), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_value_count(m, NULL, NULL, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_grid_value_count(m, NULL, NULL, 3, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_value_count(m, NULL, NULL, SIZE_MAX, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_value_count(mesh, NULL, NULL, 0, &n), INR_ERROR_INVALID_ARGUMENT); /* no native grid */
  for (size_t k = 0; k < sizeof bad_extents / sizeof bad_extents[0]; k++)
    CHECK_FAILS(inr_grid_value_count(m, NULL, bad_extents[k], 0, &n), INR_ERROR_INVALID_ARGUMENT);
  const uint64_t small[3] = {4, 3, 2};
  const int64_t outside_small[6] = {0, 4, 0, 2, 0, 1};
  CHECK_FAILS(inr_grid_value_count(m, small, outside_small, 0, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_grid_value_count(mesh, small, outside_small, 0, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(n);

  /* decode_grid on a small extent: pressure 4*3*2, velocity 3*24, density 3*2*1 */
  const int64_t e[6] = {0, 3, 0, 2, 0, 1};
  float p[24], v[72], d[6];
  float *outs[3] = {p, v, d};
  size_t lens[3] = {24, 72, 6};
  FILL(p);
  FILL(v);
  FILL(d);
#define UNTOUCHED_OUTPUTS() \
  do {                      \
    CHECK_UNTOUCHED(p);     \
    CHECK_UNTOUCHED(v);     \
    CHECK_UNTOUCHED(d);     \
  } while (0)
  CHECK_FAILS(inr_decode_grid(NULL, NULL, e, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_grid(m, NULL, e, NULL, 3, NAN, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_grid(m, NULL, e, NULL, 0, NAN, NULL, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_grid(m, NULL, e, NULL, 0, NAN, outs, NULL, NULL), INR_ERROR_NULL_ARGUMENT);
  for (int i = 0; i < 3; i++) {
    float *saved = outs[i];
    outs[i] = NULL;
    CHECK_FAILS(inr_decode_grid(m, NULL, e, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
    outs[i] = saved;
  }
  UNTOUCHED_OUTPUTS();
  const size_t bad_vars[3] = {0, 1, 3};
  CHECK_FAILS(inr_decode_grid(m, NULL, e, bad_vars, 3, NAN, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  for (size_t k = 0; k < sizeof bad_extents / sizeof bad_extents[0]; k++)
    CHECK_FAILS(inr_decode_grid(m, NULL, bad_extents[k], NULL, 0, NAN, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  const uint64_t zero_dims[3] = {4, 0, 2};
  CHECK_FAILS(inr_decode_grid(m, zero_dims, NULL, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_decode_grid(mesh, NULL, e, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  UNTOUCHED_OUTPUTS();
  /* every wrong length of any output: nothing written to any output */
  for (int i = 0; i < 3; i++) {
    const size_t good = lens[i];
    const size_t wrong[3] = {good - 1, good + 1, 0};
    for (int w = 0; w < 3; w++) {
      lens[i] = wrong[w];
      inr_status s = inr_decode_grid(m, NULL, e, NULL, 0, NAN, outs, lens, NULL);
      CHECKF(s == INR_ERROR_INVALID_ARGUMENT, "decode_grid with output %d of %zu floats (needs %zu): %s", i,
             wrong[w], good, t_status_name(s));
      {
        CHECKF(t_untouched(p, sizeof p) && t_untouched(v, sizeof v) && t_untouched(d, sizeof d),
               "decode_grid failed (output %d of %zu floats instead of %zu) but wrote to the outputs "
               "(pressure %s, velocity %s, density %s)",
               i, wrong[w], good, t_untouched(p, sizeof p) ? "untouched" : "WRITTEN",
               t_untouched(v, sizeof v) ? "untouched" : "WRITTEN", t_untouched(d, sizeof d) ? "untouched" : "WRITTEN");
      }
      FILL(p);
      FILL(v);
      FILL(d);
    }
    lens[i] = good;
  }
  /* a subset: buffers follow the listed variables */
  const size_t sub[2] = {2, 0};
  float *sub_outs[2] = {d, p};
  size_t sub_lens[2] = {24, 6}; /* swapped: wrong */
  CHECK_FAILS(inr_decode_grid(m, NULL, e, sub, 2, NAN, sub_outs, sub_lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  UNTOUCHED_OUTPUTS();
  sub_lens[0] = 6;
  sub_lens[1] = 24;
  CHECK_OK(inr_decode_grid(m, NULL, e, sub, 2, NAN, sub_outs, sub_lens, NULL));
  CHECK(!t_untouched(p, sizeof p) && !t_untouched(d, sizeof d));
  CHECK_UNTOUCHED(v);
  /* the good call works */
  CHECK_OK(inr_decode_grid(m, NULL, e, NULL, 0, NAN, outs, lens, NULL));
#undef UNTOUCHED_OUTPUTS
}

/* Argument errors of the mesh functions, and mesh calls on an image. */
static void check_mesh_errors(inr_model *img, inr_model *m)
{
  uint64_t np, nc, nconn;
  REQUIRE_OK(inr_mesh_sizes(m, &np, &nc, &nconn));
  uint64_t a, b, c;
  FILL(a);
  FILL(b);
  FILL(c);
  CHECK_FAILS(inr_mesh_sizes(NULL, &a, &b, &c), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_sizes(m, NULL, &b, &c), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_sizes(m, &a, NULL, &c), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_sizes(m, &a, &b, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_sizes(img, &a, &b, &c), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(a);
  CHECK_UNTOUCHED(b);
  CHECK_UNTOUCHED(c);

  size_t plen = (size_t)(3 * np);
  double *pts = t_xmalloc((plen + 1) * sizeof(double));
  FILL_N(pts, plen + 1);
  CHECK_FAILS(inr_mesh_points(NULL, pts, plen), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_points(m, NULL, plen), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_points(m, pts, plen - 1), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_points(m, pts, plen + 1), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_points(m, pts, 0), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_points(img, pts, plen), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED_N(pts, plen + 1);

  size_t lo = (size_t)nc + 1, lc = (size_t)nconn, lt = (size_t)nc;
  int64_t *off = t_xmalloc((lo + 1) * sizeof(int64_t)), *conn = t_xmalloc((lc + 1) * sizeof(int64_t));
  uint8_t *types = t_xmalloc(lt + 1);
  FILL_N(off, lo + 1);
  FILL_N(conn, lc + 1);
  FILL_N(types, lt + 1);
  CHECK_FAILS(inr_mesh_cells(NULL, off, lo, conn, lc, types, lt), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, NULL, lo, conn, lc, types, lt), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo, NULL, lc, types, lt), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo, conn, lc, NULL, lt), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo - 1, conn, lc, types, lt), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo + 1, conn, lc, types, lt), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo, conn, lc - 1, types, lt), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo, conn, lc + 1, types, lt), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo, conn, lc, types, lt - 1), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, lo, conn, lc, types, lt + 1), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(m, off, 0, conn, 0, types, 0), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_mesh_cells(img, off, lo, conn, lc, types, lt), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED_N(off, lo + 1);
  CHECK_UNTOUCHED_N(conn, lc + 1);
  CHECK_UNTOUCHED_N(types, lt + 1);

  size_t n;
  FILL(n);
  CHECK_FAILS(inr_node_value_count(NULL, 0, &n), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_node_value_count(m, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_node_value_count(m, 3, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_node_value_count(m, SIZE_MAX, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_node_value_count(img, 0, &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(n);

  /* decode_nodes: pressure np, velocity 3 np, density nc */
  size_t lens[3] = {(size_t)np, (size_t)(3 * np), (size_t)nc};
  float *p = t_xmalloc(lens[0] * sizeof(float)), *v = t_xmalloc(lens[1] * sizeof(float)),
        *d = t_xmalloc(lens[2] * sizeof(float));
  float *outs[3] = {p, v, d};
  FILL_N(p, lens[0]);
  FILL_N(v, lens[1]);
  FILL_N(d, lens[2]);
#define NODES_UNTOUCHED() \
  (t_untouched(p, lens[0] * sizeof(float)) && t_untouched(v, lens[1] * sizeof(float)) && \
   t_untouched(d, lens[2] * sizeof(float)))
  CHECK_FAILS(inr_decode_nodes(NULL, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_nodes(m, NULL, 2, NAN, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_nodes(m, NULL, 0, NAN, NULL, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_nodes(m, NULL, 0, NAN, outs, NULL, NULL), INR_ERROR_NULL_ARGUMENT);
  for (int i = 0; i < 3; i++) {
    float *saved = outs[i];
    outs[i] = NULL;
    CHECK_FAILS(inr_decode_nodes(m, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
    outs[i] = saved;
  }
  const size_t bad_vars[2] = {2, 7};
  CHECK_FAILS(inr_decode_nodes(m, bad_vars, 2, NAN, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_decode_nodes(img, NULL, 0, NAN, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECKF(NODES_UNTOUCHED(), "a failed inr_decode_nodes wrote to its outputs");
  for (int i = 0; i < 3; i++) {
    const size_t good = lens[i];
    const size_t wrong[3] = {good - 1, good + 1, 0};
    for (int w = 0; w < 3; w++) {
      lens[i] = wrong[w];
      inr_status s = inr_decode_nodes(m, NULL, 0, NAN, outs, lens, NULL);
      lens[i] = good;
      CHECKF(s == INR_ERROR_INVALID_ARGUMENT, "decode_nodes with output %d of %zu floats (needs %zu): %s", i,
             wrong[w], good, t_status_name(s));
      {
        CHECKF(NODES_UNTOUCHED(),
               "decode_nodes failed (output %d of %zu floats instead of %zu) but wrote to the outputs "
               "(pressure %s, velocity %s, density %s)",
               i, wrong[w], good, t_untouched(p, lens[0] * sizeof(float)) ? "untouched" : "WRITTEN",
               t_untouched(v, lens[1] * sizeof(float)) ? "untouched" : "WRITTEN",
               t_untouched(d, lens[2] * sizeof(float)) ? "untouched" : "WRITTEN");
      }
      FILL_N(p, lens[0]);
      FILL_N(v, lens[1]);
      FILL_N(d, lens[2]);
    }
  }
  CHECK_OK(inr_decode_nodes(m, NULL, 0, NAN, outs, lens, NULL));
#undef NODES_UNTOUCHED
  free(p);
  free(v);
  free(d);
  free(off);
  free(conn);
  free(types);
  free(pts);
}

static void check_open_errors(const char *img_path)
{
  inr_model *out = BAD_HANDLE;
  CHECK_FAILS(inr_open(NULL, &out), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_open(img_path, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_open("/nonexistent/dir/file.inr", &out), INR_ERROR_IO);
  CHECK_FAILS(inr_open("", &out), INR_ERROR_IO);
  CHECK_FAILS(inr_open("/", &out), INR_ERROR_IO); /* a directory */
  CHECK_FAILS(inr_open("/dev/null", &out), INR_ERROR_TRUNCATED); /* empty */
  /* paths are bytes, as the OS takes them: a missing non-UTF-8 name is an I/O error */
  CHECK_FAILS(inr_open("/nonexistent/\xff\xfe.inr", &out), INR_ERROR_IO);
  const uint8_t bytes[4] = {1, 2, 3, 4};
  CHECK_FAILS(inr_open_memory(NULL, 4, &out), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_open_memory(NULL, 0, &out), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_open_memory(bytes, 4, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_open_memory(bytes, 4, &out), INR_ERROR_NOT_INR);
  CHECK_FAILS(inr_open_memory(bytes, 0, &out), INR_ERROR_TRUNCATED);
  CHECK(out == BAD_HANDLE);
}

static int test_errors(const char *img_path, const char *mesh_path)
{
  inr_model *m = open_or_die(img_path), *mesh = open_or_die(mesh_path);
  check_status_names();
  check_description_errors(m, mesh);
  check_query_errors(m);
  check_query_errors(mesh);
  check_grid_errors(m, mesh);
  check_mesh_errors(m, mesh);
  check_mesh_view_errors(m, mesh);
  check_open_errors(img_path);

  /* the last error message: per failure, stable until the next failure */
  size_t n;
  CHECK_FAILS(inr_variable_name(m, 0, NULL), INR_ERROR_NULL_ARGUMENT);
  const char *first = inr_last_error_message();
  char *copy = strdup(first);
  CHECK(strstr(copy, "NULL") != NULL);
  for (int i = 0; i < 5; i++) CHECK_OK(inr_variable_count(m, &n));
  CHECK_EQ_STR(inr_last_error_message(), copy);
  CHECK_FAILS(inr_variable_find(m, "no such variable", &n), INR_ERROR_INVALID_ARGUMENT);
  CHECK(strstr(inr_last_error_message(), "no such variable") != NULL);
  CHECK(strcmp(inr_last_error_message(), copy) != 0);
  free(copy);

  inr_close(mesh);
  inr_close(m);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Damaged files.                                                      */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/* Rewrites the header checksum (bytes 36..40 = CRC-32 of bytes 0..36). */
static void fix_header_crc(uint8_t *b)
{
  uint32_t c = crc32_ieee(b, 36);
  for (int i = 0; i < 4; i++) b[36 + i] = (uint8_t)(c >> (8 * i));
}

static const char *g_tmpdir;

/* Opens `bytes` from a file and from memory; both must give one of the
 * expected statuses (the second may be INR_OK's -1: unused). Returns the
 * status of the path open; a model opened successfully is returned through
 * `opened` (else closed). */
static inr_status expect_open(const char *what, const uint8_t *bytes, size_t len, inr_status want, int want2,
                              inr_model **opened)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/damaged-%ld-%s.inr", g_tmpdir, (long)getpid(), what);
  REQUIRE(t_write_file(path, bytes, len));
  inr_model *a = BAD_HANDLE, *b = BAD_HANDLE;
  inr_status sa = inr_open(path, &a);
  char *msg_a = strdup(inr_last_error_message());
  inr_status sb = inr_open_memory(len ? bytes : (const uint8_t *)"", len, &b);
  bool ok_a = sa == want || (want2 >= 0 && (int)sa == want2);
  bool ok_b = sb == want || (want2 >= 0 && (int)sb == want2);
  t_checks += 2;
  if (!ok_a)
    t_fail(__FILE__, __LINE__, "%s: inr_open returned %s (%s), expected %s%s%s", what, t_status_name(sa), msg_a,
           t_status_name(want), want2 >= 0 ? " or " : "", want2 >= 0 ? inr_status_name(want2) : "");
  if (!ok_b)
    t_fail(__FILE__, __LINE__, "%s: inr_open_memory returned %s (%s), expected %s%s%s", what, t_status_name(sb),
           inr_last_error_message(), t_status_name(want), want2 >= 0 ? " or " : "",
           want2 >= 0 ? inr_status_name(want2) : "");
  CHECKF(sa == sb, "%s: inr_open says %s, inr_open_memory %s", what, t_status_name(sa), t_status_name(sb));
  if (sa != INR_OK) {
    CHECKF(a == BAD_HANDLE, "%s: a failed inr_open wrote its output", what);
    CHECKF(msg_a[0] != '\0', "%s: no error message", what);
  }
  if (sb != INR_OK) CHECKF(b == BAD_HANDLE, "%s: a failed inr_open_memory wrote its output", what);
  printf("  %-28s %-30s %s\n", what, t_status_name(sa), sa == INR_OK ? "" : msg_a);
  free(msg_a);
  if (sb == INR_OK) inr_close(b);
  if (sa == INR_OK) {
    if (opened)
      *opened = a;
    else
      inr_close(a);
  }
  unlink(path);
  return sa;
}

static long section_fact(const t_facts *ex, const char *name, int field)
{
  for (int i = 0;; i++) {
    const t_line *l = t_fact(ex, "section", i);
    if (!l) break;
    if (strcmp(l->tok[1], name) == 0) return (long)t_num(l, field);
  }
  fprintf(stderr, "no section %s\n", name);
  exit(1);
}

static int test_files(const char *img_path, const char *img_expect, const char *mesh_path, const char *mesh_expect,
                      const char *tmpdir)
{
  g_tmpdir = tmpdir;
  t_facts iex = t_load_facts(img_expect), mex = t_load_facts(mesh_expect);
  size_t len = 0, mlen = 0;
  uint8_t *img = t_read_file(img_path, &len), *mesh = t_read_file(mesh_path, &mlen);
  REQUIRE(img && mesh && len > 100 && mlen > 100);
  uint8_t *buf = t_xmalloc(len > mlen ? len : mlen);
  char what[64];

  /* intact */
  expect_open("intact", img, len, INR_OK, -1, NULL);

  /* missing files and directories */
  char path[4096];
  inr_model *out = BAD_HANDLE;
  snprintf(path, sizeof path, "%s/does-not-exist.inr", tmpdir);
  CHECK_FAILS(inr_open(path, &out), INR_ERROR_IO);
  CHECK_FAILS(inr_open(tmpdir, &out), INR_ERROR_IO);
  CHECK(out == BAD_HANDLE);

  /* not .inr files: text, the .expect file, a PNG, a damaged magic */
  const char *text = "hello, this is not an .inr file, it is a text file that is long enough\n";
  expect_open("text", (const uint8_t *)text, strlen(text), INR_ERROR_NOT_INR, -1, NULL);
  CHECK_FAILS(inr_open(img_expect, &out), INR_ERROR_NOT_INR);
  const uint8_t png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  expect_open("png", png, sizeof png, INR_ERROR_NOT_INR, -1, NULL);
  for (int i = 0; i < 8; i++) {
    memcpy(buf, img, len);
    buf[i] ^= 0x20;
    snprintf(what, sizeof what, "magic-byte-%d", i);
    expect_open(what, buf, len, INR_ERROR_NOT_INR, -1, NULL);
  }
  /* a CRLF conversion of the magic */
  memcpy(buf, img, 4);
  buf[4] = '\n';
  memcpy(buf + 5, img + 6, len - 6);
  expect_open("crlf-converted", buf, len - 1, INR_ERROR_NOT_INR, -1, NULL);

  /* truncated copies */
  long woff = section_fact(&iex, "weights", 2), wlen = section_fact(&iex, "weights", 3);
  const size_t cuts[] = {0, 1, 4, 7, 8, 12, 39, 40, 41, 100, (size_t)woff - 1, (size_t)woff, (size_t)woff + 1,
                         (size_t)(woff + wlen / 2), len - 1};
  for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
    snprintf(what, sizeof what, "truncated-%zu-of-%zu", cuts[k], len);
    expect_open(what, img, cuts[k], INR_ERROR_TRUNCATED, INR_ERROR_CORRUPT, NULL);
  }
  /* trailing garbage after the last section */
  memcpy(buf, img, len);
  {
    uint8_t *longer = t_xmalloc(len + 16);
    memcpy(longer, img, len);
    memset(longer + len, 0x5a, 16);
    inr_model *tm = NULL;
    inr_status s = expect_open("trailing-bytes", longer, len + 16, INR_OK, INR_ERROR_CORRUPT, &tm);
    if (tm) inr_close(tm);
    (void)s;
    free(longer);
  }

  /* one flipped byte: in the header (covered by its checksum), the
   * metadata, the weights section */
  const size_t flips[] = {12, 16, 20, 27, 32, 36, 39, 40, 41, 200, (size_t)woff, (size_t)(woff + wlen / 2), len - 1};
  for (size_t k = 0; k < sizeof flips / sizeof flips[0]; k++) {
    memcpy(buf, img, len);
    buf[flips[k]] ^= 0x01;
    snprintf(what, sizeof what, "flipped-byte-%zu", flips[k]);
    expect_open(what, buf, len, INR_ERROR_CHECKSUM, -1, NULL);
  }

  /* versions: major 2 (patched, checksum left as is), major 2 / 0 / 65535
   * with a valid checksum; a newer minor is accepted */
  memcpy(buf, img, len);
  buf[8] = 2;
  buf[9] = 0;
  expect_open("major-2", buf, len, INR_ERROR_UNSUPPORTED_VERSION, -1, NULL);
  fix_header_crc(buf);
  expect_open("major-2-crc-fixed", buf, len, INR_ERROR_UNSUPPORTED_VERSION, -1, NULL);
  buf[8] = 0;
  fix_header_crc(buf);
  expect_open("major-0", buf, len, INR_ERROR_UNSUPPORTED_VERSION, -1, NULL);
  buf[8] = 0xFF;
  buf[9] = 0xFF;
  fix_header_crc(buf);
  expect_open("major-65535", buf, len, INR_ERROR_UNSUPPORTED_VERSION, -1, NULL);
  memcpy(buf, img, len);
  buf[10] = 7; /* minor 7 */
  expect_open("minor-7-stale-crc", buf, len, INR_ERROR_CHECKSUM, -1, NULL);
  fix_header_crc(buf);
  {
    inr_model *nm = NULL;
    if (expect_open("minor-7", buf, len, INR_OK, -1, &nm) == INR_OK && nm) {
      uint64_t fs = 0;
      CHECK_OK(inr_file_size(nm, &fs));
      CHECK_EQ_U64(fs, len);
      inr_close(nm);
    }
  }
  /* an unknown metadata compression code; a metadata block over the limit */
  memcpy(buf, img, len);
  buf[12] = 7;
  fix_header_crc(buf);
  expect_open("compression-7", buf, len, INR_ERROR_UNSUPPORTED, -1, NULL);
  memcpy(buf, img, len);
  buf[24 + 5] = 0x10; /* decoded metadata length ~ 2^44 */
  buf[16 + 5] = 0x10;
  fix_header_crc(buf);
  expect_open("metadata-too-large", buf, len, INR_ERROR_LIMIT, -1, NULL);
  memcpy(buf, img, len);
  buf[16] ^= 0x01; /* stored length off by one, checksum fixed */
  fix_header_crc(buf);
  expect_open("metadata-length-off", buf, len, INR_ERROR_CHECKSUM, INR_ERROR_CORRUPT, NULL);

  /* the mesh is read on first use: a damaged mesh section opens fine and
   * fails with INR_ERROR_CHECKSUM at the first mesh call */
  long moff = section_fact(&mex, "mesh", 2), mslen = section_fact(&mex, "mesh", 3);
  REQUIRE((size_t)(moff + mslen) <= mlen);
  const size_t mflips[] = {(size_t)moff, (size_t)(moff + mslen / 2), (size_t)(moff + mslen - 1)};
  for (size_t k = 0; k < 3; k++) {
    memcpy(buf, mesh, mlen);
    buf[mflips[k]] ^= 0x40;
    snprintf(what, sizeof what, "mesh-flipped-byte-%zu", mflips[k]);
    inr_model *dm = NULL;
    if (expect_open(what, buf, mlen, INR_OK, -1, &dm) != INR_OK || !dm) continue;
    for (int attempt = 0; attempt < 2; attempt++) { /* the failure is not cached as success */
      uint64_t a, b, c;
      FILL(a);
      FILL(b);
      FILL(c);
      CHECK_FAILS(inr_mesh_sizes(dm, &a, &b, &c), INR_ERROR_CHECKSUM);
      CHECK_UNTOUCHED(a);
      CHECK_UNTOUCHED(b);
      CHECK_UNTOUCHED(c);
      double pts[3];
      FILL(pts);
      CHECK_FAILS(inr_mesh_points(dm, pts, 3), INR_ERROR_CHECKSUM);
      CHECK_UNTOUCHED(pts);
      int64_t o[2], cn[4];
      uint8_t ty[1];
      CHECK_FAILS(inr_mesh_cells(dm, o, 2, cn, 4, ty, 1), INR_ERROR_CHECKSUM);
      size_t n;
      FILL(n);
      CHECK_FAILS(inr_node_value_count(dm, 0, &n), INR_ERROR_CHECKSUM);
      CHECK_UNTOUCHED(n);
      float v[4];
      float *outs[1] = {v};
      size_t lens[1] = {4};
      const size_t var0 = 0;
      FILL(v);
      CHECK_FAILS(inr_decode_nodes(dm, &var0, 1, NAN, outs, lens, NULL), INR_ERROR_CHECKSUM);
      CHECK_UNTOUCHED(v);
    }
    /* what does not need the mesh still works */
    const double xyz[3] = {0.0, 0.25, 2.5};
    float q[5];
    CHECK_OK(inr_query_points(dm, xyz, 1, NULL, NAN, NULL, 0, q, 5, NULL));
    double bnd[6];
    CHECK_OK(inr_bounds(dm, bnd));
    inr_close(dm);
  }
  /* a truncated mesh file fails at open (its sections are checked against
   * the file's length) */
  snprintf(what, sizeof what, "mesh-truncated-%ld", moff + mslen / 2);
  expect_open(what, mesh, (size_t)(moff + mslen / 2), INR_ERROR_TRUNCATED, INR_ERROR_CORRUPT, NULL);

  free(buf);
  free(img);
  free(mesh);
  t_free_facts(&iex);
  t_free_facts(&mex);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Progress and cancellation.                                          */

static int test_progress(const char *img_path, const char *mesh_path)
{
  inr_model *m = open_or_die(img_path), *mesh = open_or_die(mesh_path);

  /* a decode with progress: same values, calls on this thread, not going
   * backwards, 1.0 at the end. Of point variables, of the cell variable,
   * of all (two passes, point and cell: one rise from 0 to 1). */
  const size_t groups[3][3] = {{0, 1, 0}, {2, 0, 0}, {0, 1, 2}};
  const size_t group_sizes[3] = {2, 1, 3};
  for (int gi = 0; gi < 3; gi++) {
    decoded ref = decode_grid(m, NULL, NULL, groups[gi], group_sizes[gi], 0.5, NULL);
    const uint32_t threads[] = {0, 1, 2};
    for (int k = 0; k < 3; k++) {
      progress_log log = new_log(0);
      inr_decode_options o = {threads[k], on_progress, &log, 0, 0, 0.0};
      decoded d = decode_grid(m, NULL, NULL, groups[gi], group_sizes[gi], 0.5, &o);
      CHECK(same_decoded(&ref, &d));
      check_completed_progress(&log, "inr_decode_grid");
      free_decoded(&d);
    }
    free_decoded(&ref);
  }
  {
    enum { N = 3000 };
    double *xyz = t_xmalloc(3 * N * sizeof(double));
    for (int i = 0; i < 3 * N; i++) xyz[i] = cos(0.11 * i);
    size_t len = 0;
    float *q0 = query(m, xyz, N, NULL, 1.0, NULL, 0, NULL, &len);
    progress_log log = new_log(0);
    inr_decode_options o = {2, on_progress, &log, 0, 0, 0.0};
    float *q1 = query(m, xyz, N, NULL, 1.0, NULL, 0, &o, NULL);
    CHECK(t_same_floats(q0, q1, len));
    check_completed_progress(&log, "inr_query_points");
    free(q0);
    free(q1);
    free(xyz);
  }

  /* progress of point and cell variables over a grid large enough that the
   * callback is called during the passes, not only at the end */
  {
    progress_log log;
    uint64_t n = 16;
    for (; n <= 160; n = n * 3 / 2) {
      const uint64_t dims[3] = {n, n, n};
      log = new_log(0);
      inr_decode_options o = {1, on_progress, &log, 0, 0, 0.0};
      decoded d = decode_grid(m, dims, NULL, NULL, 0, 0.5, &o);
      free_decoded(&d);
      check_completed_progress(&log, "inr_decode_grid of point and cell variables");
      CHECKF(!log.back_after_one, "inr_decode_grid of point and cell variables: progress 1.0 before the end");
      if (log.calls >= 4) break;
    }
    printf("  %" PRIu64 "^3 grid, point and cell variables: %d progress calls, %d with 1.0\n", n, log.calls,
           log.ones);
    log = new_log(0);
    inr_decode_options o = {1, on_progress, &log, 0, 0, 0.0};
    decoded nd = decode_nodes(mesh, NULL, 0, 0.5, &o);
    free_decoded(&nd);
    check_completed_progress(&log, "inr_decode_nodes of point and cell variables");
    CHECKF(!log.back_after_one, "inr_decode_nodes of point and cell variables: progress 1.0 before the end");
  }

  /* cancellation: the callback returns false at its first call. It is called
   * about every 50 ms, so the decode must run longer than that: grow the
   * grid until it does (one thread, one variable). */
  bool cancelled = false;
  for (uint64_t n = 48; n <= 320 && !cancelled; n = n * 3 / 2) {
    const uint64_t dims[3] = {n, n, n};
    const size_t var = 0;
    size_t count = 0;
    CHECK_OK(inr_grid_value_count(m, dims, NULL, var, &count));
    float *buf = t_xmalloc(count * sizeof(float));
    float *outs[1] = {buf};
    progress_log log = new_log(1);
    inr_decode_options o = {1, on_progress, &log, 0, 0, 0.0};
    inr_status s = inr_decode_grid(m, dims, NULL, &var, 1, 0.5, outs, &count, &o);
    if (s == INR_ERROR_CANCELLED && log.calls == 1 && log.first >= 1.0) {
      /* The only call was the final one (the decode beat the first interval,
       * e.g. under valgrind, which runs one thread at a time): that a false
       * there cancels is checked elsewhere; grow the grid. */
    } else if (s == INR_ERROR_CANCELLED) {
      cancelled = true;
      CHECK(log.calls >= 1);
      CHECKF(log.first < 1.0, "cancelled at fraction %g", log.first);
      CHECKF(log.calls == 1, "the callback was called %d times after asking to cancel", log.calls);
      CHECK(!log.other_thread);
      CHECK(inr_last_error_message()[0] != '\0');
      printf("  cancelled a %" PRIu64 "^3 decode at fraction %g: %s\n", n, log.first, inr_last_error_message());
    } else {
      CHECKF(s == INR_OK, "decode_grid with a cancelling callback returned %s", t_status_name(s));
    }
    free(buf);
  }
  CHECKF(cancelled, "a callback returning false never cancelled a decode");
  /* cancelling inr_query_points and inr_decode_nodes: returns CANCELLED or,
   * if it finished before the first call, OK */
  {
    enum { N = 400000 };
    double *xyz = t_xmalloc(3 * (size_t)N * sizeof(double));
    for (size_t i = 0; i < 3 * (size_t)N; i++) xyz[i] = (double)(i % 1000) * 0.01;
    size_t c = 1;
    const size_t var = 0;
    float *out = t_xmalloc((size_t)N * sizeof(float));
    progress_log log = new_log(1);
    inr_decode_options o = {1, on_progress, &log, 0, 0, 0.0};
    inr_status s = inr_query_points(m, xyz, N, NULL, NAN, &var, 1, out, (size_t)N * c, &o);
    CHECKF(s == INR_ERROR_CANCELLED || (s == INR_OK && log.calls == 1 && log.last == 1.0),
           "query_points with a cancelling callback: %s after %d calls", t_status_name(s), log.calls);
    printf("  inr_query_points with a cancelling callback: %s\n", t_status_name(s));
    free(out);
    free(xyz);
    log = new_log(1);
    inr_decode_options on = {1, on_progress, &log, 0, 0, 0.0};
    size_t cnt = 0;
    CHECK_OK(inr_node_value_count(mesh, 0, &cnt));
    float *nb = t_xmalloc(cnt * sizeof(float));
    float *nouts[1] = {nb};
    s = inr_decode_nodes(mesh, &var, 1, NAN, nouts, &cnt, &on);
    CHECKF(s == INR_ERROR_CANCELLED || (s == INR_OK && log.last == 1.0), "decode_nodes with a cancelling callback: %s",
           t_status_name(s));
    free(nb);
  }
  /* a callback that says false only to the final 1.0: the work is done */
  {
    progress_log log = new_log(0);
    log.cancel_at_end = true;
    inr_decode_options o = {1, on_progress, &log, 0, 0, 0.0};
    const uint64_t dims[3] = {8, 8, 8};
    const size_t var = 0;
    size_t count = 0;
    CHECK_OK(inr_grid_value_count(m, dims, NULL, var, &count));
    float *buf = t_xmalloc(count * sizeof(float));
    float *outs[1] = {buf};
    inr_status s = inr_decode_grid(m, dims, NULL, &var, 1, 0.5, outs, &count, &o);
    printf("  note: a callback that returns false to the final 1.0 call: %s\n", t_status_name(s));
    free(buf);
  }
  /* the model still works after a cancellation */
  decoded again = decode_grid(m, NULL, NULL, NULL, 0, 0.5, NULL);
  decoded again1 = decode_grid(m, NULL, NULL, NULL, 0, 0.5, &ONE_THREAD);
  CHECK(same_decoded(&again, &again1));
  free_decoded(&again);
  free_decoded(&again1);
  inr_close(mesh);
  inr_close(m);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Level of detail (inr_decode_options.detail).                        */

/* A multiscale (ECNR) file of 3 scales decodes its coarsest `detail` scales
 * only (all of them at 0 and beyond 3), grids and point queries alike;
 * other families ignore the field. */
static int test_detail(const char *ecnr_path, const char *img_path)
{
  inr_model *e = open_or_die(ecnr_path), *img = open_or_die(img_path);
  const char *family = NULL;
  CHECK_OK(inr_model_family(e, &family));
  CHECK_EQ_STR(family, "ecnr");
  /* the levels a caller may ask for: 3 scales here, 0 for other families,
   * nothing written on a null argument */
  uint32_t scales = 77;
  CHECK_OK(inr_model_scales(e, &scales));
  CHECK(scales == 3);
  CHECK_OK(inr_model_scales(img, &scales));
  CHECK(scales == 0);
  scales = 77;
  CHECK(inr_model_scales(NULL, &scales) == INR_ERROR_NULL_ARGUMENT);
  CHECK(scales == 77);
  CHECK(inr_model_scales(e, NULL) == INR_ERROR_NULL_ARGUMENT);
  const uint64_t dims[3] = {9, 7, 5};
  const inr_decode_options o[4] = {{1, NULL, NULL, 0, 0, 0.0}, {2, NULL, NULL, 1, 0, 0.0}, {1, NULL, NULL, 2, 0, 0.0}, {2, NULL, NULL, 99, 0, 0.0}};
  decoded at[4];
  for (int k = 0; k < 4; k++) at[k] = decode_grid(e, dims, NULL, NULL, 0, 0.7, &o[k]);
  CHECK(same_decoded(&at[0], &at[3]));
  CHECK(!same_decoded(&at[0], &at[1]));
  CHECK(!same_decoded(&at[0], &at[2]));
  CHECK(!same_decoded(&at[1], &at[2]));

  /* a grid point queried alone: the grid's values at each level */
  double go[3], gs[3];
  CHECK_OK(inr_grid_geometry(e, dims, go, gs));
  const uint64_t i[3] = {4, 3, 2};
  double xyz[3];
  for (int a = 0; a < 3; a++) xyz[a] = go[a] + (double)i[a] * gs[a];
  size_t q = (size_t)(i[0] + dims[0] * (i[1] + dims[1] * i[2]));
  for (int k = 0; k < 3; k++) {
    size_t len = 0;
    float *v = query(e, xyz, 1, NULL, 0.7, NULL, 0, &o[k], &len);
    REQUIRE(len == 4 && at[k].n == 2);
    CHECKF(v[0] == at[k].buf[0][q], "detail %d: pressure %.9g != grid %.9g", k, (double)v[0],
           (double)at[k].buf[0][q]);
    CHECK(memcmp(&v[1], &at[k].buf[1][3 * q], 3 * sizeof(float)) == 0);
    free(v);
  }
  for (int k = 0; k < 4; k++) free_decoded(&at[k]);

  /* other families ignore it */
  decoded a = decode_grid(img, dims, NULL, NULL, 0, 0.7, &o[0]);
  decoded b = decode_grid(img, dims, NULL, NULL, 0, 0.7, &o[1]);
  CHECK(same_decoded(&a, &b));
  free_decoded(&a);
  free_decoded(&b);
  inr_close(img);
  inr_close(e);
  return 0;
}

/* Latent interpolation (stsr_inr): inr_model_embeds_variables, and
 * inr_decode_options.blend_with / blend_alpha on grids and points. The file
 * is `inr synthetic --stsr`: temperature (1 component), wind (2), pressure (1). */
static float largest_difference(const float *a, const float *b, size_t n)
{
  float worst = 0.0f;
  for (size_t i = 0; i < n; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]));
  return worst;
}

static void check_blend_errors(const inr_model *s, const inr_model *img, const uint64_t *dims)
{
  const size_t temperature = 0;
  size_t len = 0;
  CHECK_OK(inr_grid_value_count(s, dims, NULL, temperature, &len));
  float *buf = t_xmalloc(len * sizeof(float));
  FILL_N(buf, len);
  /* toward wind (2 components), a variable that does not exist, a NaN weight */
  const inr_decode_options bad[3] = {{1, NULL, NULL, 0, 2, 0.5}, {1, NULL, NULL, 0, 4, 0.5},
                                     {1, NULL, NULL, 0, 3, NAN}};
  for (int k = 0; k < 3; k++) {
    CHECK_FAILS(inr_decode_grid(s, dims, NULL, &temperature, 1, 0.0, &buf, &len, &bad[k]),
                INR_ERROR_INVALID_ARGUMENT);
    CHECK_UNTOUCHED_N(buf, len);
  }
  const double xyz[3] = {0.0, 1.0, 20.0};
  float one[1];
  FILL(one);
  CHECK_FAILS(inr_query_points(s, xyz, 1, NULL, 0.0, &temperature, 1, one, 1, &bad[0]),
              INR_ERROR_INVALID_ARGUMENT);
  CHECK_UNTOUCHED(one);
  /* a family without latent vectors refuses any blend */
  const inr_decode_options on_img = {1, NULL, NULL, 0, 1, 0.5};
  size_t img_len = 0;
  CHECK_OK(inr_grid_value_count(img, dims, NULL, 0, &img_len));
  float *img_buf = t_xmalloc(img_len * sizeof(float));
  FILL_N(img_buf, img_len);
  const size_t first = 0;
  CHECK_FAILS(inr_decode_grid(img, dims, NULL, &first, 1, 0.0, &img_buf, &img_len, &on_img),
              INR_ERROR_UNSUPPORTED);
  CHECK_UNTOUCHED_N(img_buf, img_len);
  free(img_buf);
  free(buf);
}

static int test_blend(const char *stsr_path, const char *img_path)
{
  inr_model *s = open_or_die(stsr_path), *img = open_or_die(img_path);
  bool embeds = false;
  CHECK_OK(inr_model_embeds_variables(s, &embeds));
  CHECK(embeds);
  CHECK_OK(inr_model_embeds_variables(img, &embeds));
  CHECK(!embeds);
  embeds = true;
  CHECK(inr_model_embeds_variables(NULL, &embeds) == INR_ERROR_NULL_ARGUMENT);
  CHECK(embeds);
  CHECK(inr_model_embeds_variables(s, NULL) == INR_ERROR_NULL_ARGUMENT);

  /* temperature toward pressure (variable 2: blend_with 3), between two steps */
  const uint64_t dims[3] = {11, 9, 6};
  const size_t temperature = 0, pressure = 2;
  const double time = 0.7;
  decoded own = decode_grid(s, dims, NULL, &temperature, 1, time, &ONE_THREAD);
  decoded other = decode_grid(s, dims, NULL, &pressure, 1, time, &ONE_THREAD);
  inr_decode_options o = {1, NULL, NULL, 0, 3, 0.0};
  decoded at0 = decode_grid(s, dims, NULL, &temperature, 1, time, &o);
  CHECK(same_decoded(&at0, &own)); /* alpha 0: the variable itself */
  o.blend_alpha = 1.0;
  decoded at1 = decode_grid(s, dims, NULL, &temperature, 1, time, &o);
  REQUIRE(at1.len[0] == other.len[0]);
  /* alpha 1: pressure's latent and range (1e5 .. 1.1e5) */
  const float d1 = largest_difference(at1.buf[0], other.buf[0], at1.len[0]);
  CHECKF(d1 <= 1e-6f * 1.1e5f, "alpha 1 differs from pressure by %g", (double)d1);
  o.blend_alpha = 0.5;
  o.threads = 2;
  decoded half = decode_grid(s, dims, NULL, &temperature, 1, time, &o);
  /* halfway: neither end, and the range halfway too (about 5e4) */
  CHECK(largest_difference(half.buf[0], own.buf[0], half.len[0]) > 1e3f);
  CHECK(largest_difference(half.buf[0], other.buf[0], half.len[0]) > 1e3f);
  double mean = 0.0;
  for (size_t i = 0; i < half.len[0]; i++) mean += half.buf[0][i];
  mean /= (double)half.len[0];
  CHECKF(mean > 2e4 && mean < 8e4, "halfway mean %g", mean);

  /* a grid point queried alone: the grid's value */
  double go[3], gs[3];
  CHECK_OK(inr_grid_geometry(s, dims, go, gs));
  const uint64_t i[3] = {7, 2, 4};
  double xyz[3];
  for (int a = 0; a < 3; a++) xyz[a] = go[a] + (double)i[a] * gs[a];
  const size_t q = (size_t)(i[0] + dims[0] * (i[1] + dims[1] * i[2]));
  size_t len = 0;
  float *v = query(s, xyz, 1, NULL, time, &temperature, 1, &o, &len);
  REQUIRE(len == 1);
  CHECKF(v[0] == half.buf[0][q], "point %.9g != grid %.9g", (double)v[0], (double)half.buf[0][q]);
  free(v);

  check_blend_errors(s, img, dims);
  free_decoded(&own);
  free_decoded(&other);
  free_decoded(&at0);
  free_decoded(&at1);
  free_decoded(&half);
  inr_close(img);
  inr_close(s);
  return 0;
}

/*
 * A file of rendered images (NeRVI, `inr synthetic --nervi`: 24 x 16 pixels,
 * views over theta and phi, 3 time steps, an RGB image and a mask): its
 * size and views, images by time and view (clamped beyond the stored ones,
 * the same on any number of threads), the RGBA composite against the float
 * variables, and every refusal; field files refuse the image calls.
 */
static bool cancel_at_once(void *user_data, double fraction)
{
  (void)user_data;
  (void)fraction;
  return false;
}

static int test_images(const char *images_path, const char *img_path)
{
  inr_model *m = open_or_die(images_path), *field = open_or_die(img_path);
  uint64_t w = 0, h = 0;
  CHECK_OK(inr_image_size(m, &w, &h));
  CHECK_EQ_U64(w, 24);
  CHECK_EQ_U64(h, 16);
  size_t np = 0, nv = 0;
  CHECK_OK(inr_view_parameter_count(m, &np));
  CHECK_EQ_U64(np, 2);
  const char *name = NULL;
  CHECK_OK(inr_view_parameter_name(m, 1, &name));
  CHECK_EQ_STR(name, "phi");
  CHECK_FAILS(inr_view_parameter_name(m, 2, &name), INR_ERROR_INVALID_ARGUMENT);
  CHECK_OK(inr_view_count(m, &nv));
  CHECK_EQ_U64(nv, 5);
  double views[10] = {0};
  CHECK_FAILS(inr_views(m, views, 9), INR_ERROR_INVALID_ARGUMENT);
  CHECK_OK(inr_views(m, views, 10));
  const double stored[10] = {0, -30, 90, -30, 180, 0, 270, 30, 45, 60};
  for (int i = 0; i < 10; i++) CHECK_SAME_F64(views[i], stored[i]);
  enum inr_domain kind;
  CHECK_OK(inr_domain_kind(m, &kind));
  CHECK(kind == INR_DOMAIN_IMAGES);

  /* both variables of one view, on 1 and 3 threads: the same bits */
  const size_t px = (size_t)(w * h);
  float *color = malloc(px * 3 * sizeof(float)), *mask = malloc(px * sizeof(float));
  float *color3 = malloc(px * 3 * sizeof(float)), *mask3 = malloc(px * sizeof(float));
  uint8_t *rgba = malloc(px * 4);
  REQUIRE(color && mask && color3 && mask3 && rgba);
  float *outs[2] = {color, mask}, *outs3[2] = {color3, mask3};
  size_t lens[2] = {px * 3, px};
  const double view[2] = {45, 10};
  CHECK_OK(inr_decode_image(m, 1.5, view, 2, NULL, 0, outs, lens, &ONE_THREAD));
  inr_decode_options three = {3, NULL, NULL, 0, 0, 0.0};
  CHECK_OK(inr_decode_image(m, 1.5, view, 2, NULL, 0, outs3, lens, &three));
  CHECK(memcmp(color, color3, px * 3 * sizeof(float)) == 0);
  CHECK(memcmp(mask, mask3, px * sizeof(float)) == 0);
  /* the composite: mask x color over white, rounded to 8 bits */
  CHECK_OK(inr_decode_image_rgba(m, 1.5, view, 2, rgba, px * 4, NULL));
  int partial = 0;
  for (size_t p = 0; p < px; p++) {
    double k = mask[p] < 0 ? 0 : mask[p] > 1 ? 1 : mask[p];
    partial += k > 0 && k < 1;
    for (int c = 0; c < 3; c++) {
      double v = color[p * 3 + c] < 0 ? 0 : color[p * 3 + c] > 1 ? 1 : color[p * 3 + c];
      double want = 255.0 * (k * v + (1.0 - k));
      CHECKF(fabs(rgba[p * 4 + c] - want) <= 0.5 + 1e-3, "pixel %zu channel %d: %d vs %g", p, c,
             rgba[p * 4 + c], want);
    }
    CHECK(rgba[p * 4 + 3] == 255);
  }
  CHECK(partial > 0);
  /* beyond the stored ranges: clamped to theta 270, phi 60, t 3 */
  const size_t mask_var = 1;
  float *a = outs[1], *b = outs3[1];
  const double far[2] = {1e6, 1e6}, corner[2] = {270, 60};
  CHECK_OK(inr_decode_image(m, 99.0, far, 2, &mask_var, 1, &a, &lens[1], NULL));
  CHECK_OK(inr_decode_image(m, 3.0, corner, 2, &mask_var, 1, &b, &lens[1], NULL));
  CHECK(memcmp(a, b, px * sizeof(float)) == 0);
  /* another view, another image */
  CHECK_OK(inr_decode_image(m, NAN, stored, 2, &mask_var, 1, &b, &lens[1], NULL));
  CHECK(memcmp(a, b, px * sizeof(float)) != 0);

  /* refusals */
  CHECK_FAILS(inr_decode_image(m, 0, view, 1, NULL, 0, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_decode_image(m, 0, NULL, 2, NULL, 0, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_image(NULL, 0, view, 2, NULL, 0, outs, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_decode_image(m, 0, view, 2, NULL, 0, NULL, lens, NULL), INR_ERROR_NULL_ARGUMENT);
  size_t short_lens[2] = {px * 3, px - 1};
  CHECK_FAILS(inr_decode_image(m, 0, view, 2, NULL, 0, outs, short_lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  const size_t bad_var = 2;
  CHECK_FAILS(inr_decode_image(m, 0, view, 2, &bad_var, 1, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  const double nan_view[2] = {NAN, 0};
  CHECK_FAILS(inr_decode_image(m, 0, nan_view, 2, NULL, 0, outs, lens, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_decode_image_rgba(m, 0, view, 2, rgba, px * 4 - 1, NULL), INR_ERROR_INVALID_ARGUMENT);
  CHECK_FAILS(inr_decode_image_rgba(m, 0, view, 2, NULL, px * 4, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_image_size(m, NULL, &h), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_view_count(m, NULL), INR_ERROR_NULL_ARGUMENT);
  CHECK_FAILS(inr_views(m, NULL, 10), INR_ERROR_NULL_ARGUMENT);
  /* a cancelled image decode */
  inr_decode_options cancel = {1, cancel_at_once, NULL, 0, 0, 0.0};
  CHECK_FAILS(inr_decode_image(m, 0, view, 2, NULL, 0, outs, lens, &cancel), INR_ERROR_CANCELLED);
  /* images refuse grids; fields refuse images */
  size_t count = 0;
  const uint64_t dims[3] = {4, 4, 1};
  CHECK_FAILS(inr_grid_value_count(m, dims, NULL, 0, &count), INR_ERROR_UNSUPPORTED);
  CHECK_FAILS(inr_image_size(field, &w, &h), INR_ERROR_UNSUPPORTED);
  CHECK_FAILS(inr_view_parameter_count(field, &np), INR_ERROR_UNSUPPORTED);
  CHECK_FAILS(inr_decode_image_rgba(field, 0, view, 2, rgba, px * 4, NULL), INR_ERROR_UNSUPPORTED);
  free(color);
  free(mask);
  free(color3);
  free(mask3);
  free(rgba);
  inr_close(field);
  inr_close(m);
  return 0;
}

int main(int argc, char **argv)
{
  /* no failure yet on this thread */
  CHECK(inr_last_error_message() != NULL);
  CHECK_EQ_STR(inr_last_error_message(), "");
  t_set_succeed(succeed);
  setvbuf(stdout, NULL, _IOLBF, 0);

  if (argc >= 3) g_good = open_or_die(argv[2]);
  int rc = 2;
  if (argc == 6 && strcmp(argv[1], "image") == 0) {
    rc = test_image(argv[2], argv[3], argv[4], argv[5]);
  } else if (argc == 7 && strcmp(argv[1], "mesh") == 0) {
    rc = test_mesh(argv[2], argv[3], argv[4], argv[5], argv[6]);
  } else if (argc == 4 && strcmp(argv[1], "errors") == 0) {
    rc = test_errors(argv[2], argv[3]);
  } else if (argc == 7 && strcmp(argv[1], "files") == 0) {
    rc = test_files(argv[2], argv[3], argv[4], argv[5], argv[6]);
  } else if (argc == 4 && strcmp(argv[1], "progress") == 0) {
    rc = test_progress(argv[2], argv[3]);
  } else if (argc == 4 && strcmp(argv[1], "detail") == 0) {
    rc = test_detail(argv[2], argv[3]);
  } else if (argc == 4 && strcmp(argv[1], "blend") == 0) {
    rc = test_blend(argv[2], argv[3]);
  } else if (argc == 4 && strcmp(argv[1], "images") == 0) {
    rc = test_images(argv[2], argv[3]);
  } else {
    fprintf(stderr,
            "usage: %s image IMG.inr IMG.expect IMG.probe VERSION.expect\n"
            "       %s mesh MESH.inr MESH.expect MESH.probe tets|hexes CX,CY,CZ\n"
            "       %s errors IMG.inr MESH.inr\n"
            "       %s files IMG.inr IMG.expect MESH.inr MESH.expect TMPDIR\n"
            "       %s progress IMG.inr MESH.inr\n"
            "       %s detail ECNR.inr IMG.inr\n"
            "       %s blend STSR.inr IMG.inr\n"
            "       %s images IMAGES.inr IMG.inr\n",
            argv[0], argv[0], argv[0], argv[0], argv[0], argv[0], argv[0], argv[0]);
    return 2;
  }
  if (g_good) inr_close(g_good);
  g_good = NULL;
  inr_close(NULL); /* allowed, does nothing */
  return rc != 0 ? rc : t_report(argv[1]);
}
