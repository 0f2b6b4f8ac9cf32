#include "search/hypervolume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/index_sort.h"

typedef struct by_column {
    const double *f;
    int d, k;
} by_column;

// Ascending in column k, ties broken by the other columns so the order is total.
static int cmp_column(const void *ctx, int a, int b) {
    const by_column *c = ctx;
    const double *pa = &c->f[(size_t)a * c->d], *pb = &c->f[(size_t)b * c->d];
    if (pa[c->k] != pb[c->k]) return pa[c->k] < pb[c->k] ? -1 : 1;
    for (int j = 0; j < c->d; j++)
        if (pa[j] != pb[j]) return pa[j] < pb[j] ? -1 : 1;
    return 0;
}

// Points are rows of f with stride d; only the first `dims` columns count.
static double hv_2d(const double *f, int d, const int *idx, int n, const double *ref) {
    int *o = star_malloc((size_t)(n > 0 ? n : 1) * sizeof *o);
    memcpy(o, idx, (size_t)n * sizeof *o);
    by_column c = {f, d, 0};
    index_sort(o, n, cmp_column, &c);
    double area = 0.0, y_min = ref[1];
    for (int a = 0; a < n; a++) {
        const double *p = &f[(size_t)o[a] * d];
        if (p[1] < y_min) {
            area += (ref[0] - p[0]) * (y_min - p[1]);
            y_min = p[1];
        }
    }
    free(o);
    return area;
}

// Sweep upward in z; the x-y projection of the points seen so far is kept as a
// staircase (x ascending, y strictly descending) whose area is updated per insert.
static double hv_3d(const double *f, int d, const int *idx, int n, const double *ref) {
    int *o = star_malloc((size_t)(n > 0 ? n : 1) * sizeof *o);
    memcpy(o, idx, (size_t)n * sizeof *o);
    by_column c = {f, d, 2};
    index_sort(o, n, cmp_column, &c);
    double *sx = star_malloc((size_t)(n + 1) * sizeof *sx), *sy = star_malloc((size_t)(n + 1) * sizeof *sy);
    int m = 0;
    double volume = 0.0, area = 0.0;
    for (int a = 0; a < n; a++) {
        const double *p = &f[(size_t)o[a] * d];
        // Position of the first stair with x >= p.x; the one before (if any) has x < p.x.
        int pos = 0;
        while (pos < m && sx[pos] < p[0]) pos++;
        int dominated = (pos > 0 && sy[pos - 1] <= p[1]) || (pos < m && sx[pos] == p[0] && sy[pos] <= p[1]);
        if (!dominated) {
            // Stairs from pos on with y >= p.y are dominated by p.
            int end = pos;
            while (end < m && sy[end] >= p[1]) end++;
            memmove(&sx[pos + 1], &sx[end], (size_t)(m - end) * sizeof *sx);
            memmove(&sy[pos + 1], &sy[end], (size_t)(m - end) * sizeof *sy);
            m -= end - pos - 1;
            sx[pos] = p[0];
            sy[pos] = p[1];
            area = 0.0;
            for (int s = 0; s < m; s++) area += (ref[0] - sx[s]) * ((s ? sy[s - 1] : ref[1]) - sy[s]);
        }
        double z_next = a + 1 < n ? f[(size_t)o[a + 1] * d + 2] : ref[2];
        volume += area * (z_next - p[2]);
    }
    free(sx);
    free(sy);
    free(o);
    return volume;
}

static double hv_rec(const double *f, int d, const int *idx, int n, int dims, const double *ref) {
    if (n == 0) return 0.0;
    if (dims == 1) {
        double lo = ref[0];
        for (int a = 0; a < n; a++) lo = fmin(lo, f[(size_t)idx[a] * d]);
        return ref[0] - lo;
    }
    if (dims == 2) return hv_2d(f, d, idx, n, ref);
    if (dims == 3) return hv_3d(f, d, idx, n, ref);
    // Slice on the last objective: between consecutive values the dominated region is
    // the (dims-1)-volume of the points below the slice times its thickness.
    int k = dims - 1;
    int *o = star_malloc((size_t)n * sizeof *o);
    memcpy(o, idx, (size_t)n * sizeof *o);
    by_column c = {f, d, k};
    index_sort(o, n, cmp_column, &c);
    double volume = 0.0;
    for (int a = 0; a < n; a++) {
        double z = f[(size_t)o[a] * d + k];
        double z_next = a + 1 < n ? f[(size_t)o[a + 1] * d + k] : ref[k];
        if (z_next > z) volume += hv_rec(f, d, o, a + 1, dims - 1, ref) * (z_next - z);
    }
    free(o);
    return volume;
}

int hypervolume(const double *f, int n, int n_obj, const double *ref, double *out, star_error *err) {
    if (n_obj < 1 || n_obj > SEARCH_MAX_OBJ)
        return STAR_FAIL(err, "hypervolume: %d objectives (expected 1..%d)", n_obj, SEARCH_MAX_OBJ);
    for (int k = 0; k < n_obj; k++)
        if (!isfinite(ref[k])) return STAR_FAIL(err, "hypervolume: reference point coordinate %d is not finite", k);
    int *idx = star_malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    int m = 0;
    for (int i = 0; i < n; i++) {
        int inside = 1;
        for (int k = 0; k < n_obj; k++) inside &= f[(size_t)i * n_obj + k] < ref[k];  // false for NaN
        if (inside) idx[m++] = i;
    }
    *out = hv_rec(f, n_obj, idx, m, n_obj, ref);
    free(idx);
    return 0;
}

int population_hypervolume(const individual *pop, int n, int n_obj, const double *ref, double *out,
                           star_error *err) {
    if (n_obj < 1 || n_obj > SEARCH_MAX_OBJ)
        return STAR_FAIL(err, "hypervolume: %d objectives (expected 1..%d)", n_obj, SEARCH_MAX_OBJ);
    double *f = star_malloc((size_t)(n > 0 ? n : 1) * n_obj * sizeof *f);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!individual_feasible(&pop[i])) continue;
        memcpy(&f[(size_t)m * n_obj], pop[i].f, (size_t)n_obj * sizeof *f);
        m++;
    }
    int rc = hypervolume(f, m, n_obj, ref, out, err);
    free(f);
    return rc;
}
