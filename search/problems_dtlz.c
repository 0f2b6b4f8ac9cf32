// DTLZ2 with M objectives and k = 10 distance variables (n_var = M + 9):
// g = sum_{i>=M} (x_i - 1/2)^2, f_m = (1 + g) prod_{i < M-1-m} cos(x_i pi/2)
// [ sin(x_{M-1-m} pi/2) for m > 0 ]. The front (g = 0) is the unit sphere's positive
// orthant.
#include <math.h>

#include "search/test_problems.h"

static void dtlz2_evaluate(const double *x, int n, int m_obj, double *f) {
    double g = 0.0;
    for (int i = m_obj - 1; i < n; i++) g += (x[i] - 0.5) * (x[i] - 0.5);
    for (int m = 0; m < m_obj; m++) {
        double v = 1.0 + g;
        for (int i = 0; i < m_obj - 1 - m; i++) v *= cos(x[i] * M_PI / 2.0);
        if (m > 0) v *= sin(x[m_obj - 1 - m] * M_PI / 2.0);
        f[m] = v;
    }
}

static long binomial(int n, int k) {
    long r = 1;
    for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
    return r;
}

// Das & Dennis lattice: every w with w_m = j_m / H, sum w = 1, enumerated recursively.
static int lattice(double *f, int count, int n_obj, int m, int left, int H, double *w) {
    if (m == n_obj - 1) {
        w[m] = (double)left / H;
        for (int k = 0; k < n_obj; k++) f[(size_t)count * n_obj + k] = w[k];
        return count + 1;
    }
    for (int j = 0; j <= left; j++) {
        w[m] = (double)j / H;
        count = lattice(f, count, n_obj, m + 1, left - j, H, w);
    }
    return count;
}

// Lattice directions (the finest with at most n_points of them) pushed onto the sphere.
static int dtlz2_front(int n_points, int n_obj, double *f) {
    int H = 1;
    while (binomial(H + 1 + n_obj - 1, n_obj - 1) <= n_points) H++;
    double w[SEARCH_MAX_OBJ];
    int n = lattice(f, 0, n_obj, 0, H, H, w);
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int k = 0; k < n_obj; k++) s += f[(size_t)i * n_obj + k] * f[(size_t)i * n_obj + k];
        s = sqrt(s);
        for (int k = 0; k < n_obj; k++) f[(size_t)i * n_obj + k] /= s;
    }
    return n;
}

int problem_dtlz2_init(test_problem *tp, int n_obj, star_error *err) {
    if (n_obj < 2 || n_obj > SEARCH_MAX_OBJ)
        return STAR_FAIL(err, "DTLZ2 with %d objectives (expected 2..%d)", n_obj, SEARCH_MAX_OBJ);
    tp->name = "dtlz2";
    tp->n_var = n_obj + 9;
    tp->n_obj = n_obj;
    tp->evaluate = dtlz2_evaluate;
    tp->front = dtlz2_front;
    tp->n_evaluations = 0;
    return 0;
}
