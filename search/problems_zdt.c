// ZDT1-3: f1 = x1, g = 1 + 9 sum(x2..xn)/(n-1), f2 = g h(f1, g). The front is g = 1
// (x2..xn = 0).
#include <math.h>

#include "search/ranking.h"
#include "search/test_problems.h"

#define ZDT_N_VAR 30

static double zdt_g(const double *x, int n) {
    double s = 0.0;
    for (int i = 1; i < n; i++) s += x[i];
    return 1.0 + 9.0 * s / (n - 1);
}

static void zdt1_evaluate(const double *x, int n, int m, double *f) {
    double g = zdt_g(x, n);
    f[0] = x[0];
    f[1] = g * (1.0 - sqrt(x[0] / g));
}

static void zdt2_evaluate(const double *x, int n, int m, double *f) {
    double g = zdt_g(x, n), r = x[0] / g;
    f[0] = x[0];
    f[1] = g * (1.0 - r * r);
}

static void zdt3_evaluate(const double *x, int n, int m, double *f) {
    double g = zdt_g(x, n), r = x[0] / g;
    f[0] = x[0];
    f[1] = g * (1.0 - sqrt(r) - r * sin(10.0 * M_PI * x[0]));
}

// Fronts: evaluate with g = 1 at evenly spaced f1 in [0,1].
static int zdt_front(void (*ev)(const double *, int, int, double *), int n_points, double *f) {
    double x[ZDT_N_VAR] = {0};
    for (int i = 0; i < n_points; i++) {
        x[0] = n_points > 1 ? (double)i / (n_points - 1) : 0.0;
        ev(x, ZDT_N_VAR, 2, &f[2 * i]);
    }
    return n_points;
}

static int zdt1_front(int n_points, int n_obj, double *f) { return zdt_front(zdt1_evaluate, n_points, f); }
static int zdt2_front(int n_points, int n_obj, double *f) { return zdt_front(zdt2_evaluate, n_points, f); }
// ZDT3's g = 1 curve rises and falls; only its non-dominated pieces (five) are the front.
static int zdt3_front(int n_points, int n_obj, double *f) {
    zdt_front(zdt3_evaluate, n_points, f);
    return pareto_filter(f, n_points, 2);
}

int problem_zdt_init(test_problem *tp, int which, star_error *err) {
    static const char *names[] = {"zdt1", "zdt2", "zdt3"};
    void (*ev[])(const double *, int, int, double *) = {zdt1_evaluate, zdt2_evaluate, zdt3_evaluate};
    int (*fr[])(int, int, double *) = {zdt1_front, zdt2_front, zdt3_front};
    if (which < 1 || which > 3) return STAR_FAIL(err, "ZDT%d is not built in (expected ZDT1, ZDT2 or ZDT3)", which);
    tp->name = names[which - 1];
    tp->n_var = ZDT_N_VAR;
    tp->n_obj = 2;
    tp->evaluate = ev[which - 1];
    tp->front = fr[which - 1];
    tp->n_evaluations = 0;
    return 0;
}
