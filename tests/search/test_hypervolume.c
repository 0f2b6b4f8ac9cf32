// Hypervolume against values worked out by hand, against an exact cell count on integer
// grids (2-D to 5-D), and of sampled true fronts against their closed forms.
#include <math.h>
#include <stdlib.h>

#include "common/pcg32.h"
#include "search/hypervolume.h"
#include "search/test_problems.h"
#include "tests/test_util.h"

static double hv(const double *f, int n, int d, const double *ref) {
    star_error err;
    double v = -1;
    if (hypervolume(f, n, d, ref, &v, &err)) return -1;
    return v;
}

static void test_hand_values(void) {
    // 2-D staircase: 3 + 2 + 1; a dominated point, one outside and one on the boundary
    // change nothing.
    double f2[] = {1, 3, 2, 2, 3, 1, 3, 3, 5, 0, 1, 4};
    double r2[] = {4, 4};
    CHECK_NEAR(hv(f2, 3, 2, r2), 6.0, 1e-12);
    CHECK_NEAR(hv(f2, 6, 2, r2), 6.0, 1e-12);
    CHECK_NEAR(hv(f2, 0, 2, r2), 0.0, 0);
    // 1-D: the distance from the best point to the reference.
    double f1[] = {3, 1, 2};
    double r1[] = {5};
    CHECK_NEAR(hv(f1, 3, 1, r1), 4.0, 1e-12);
    // 3-D: one point; then the unit vectors against (2,2,2): the cube [0,2]^3 minus
    // [0,1]^3 = 7; the origin alone fills the cube.
    double c[] = {0.5, 0.5, 0.5};
    double r3a[] = {1, 1, 1};
    CHECK_NEAR(hv(c, 1, 3, r3a), 0.125, 1e-12);
    double e3[] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double r3[] = {2, 2, 2};
    CHECK_NEAR(hv(e3, 3, 3, r3), 7.0, 1e-12);
    double o3[] = {1, 0, 0, 0, 0, 0, 0, 1, 0};
    CHECK_NEAR(hv(o3, 3, 3, r3), 8.0, 1e-12);
    // 4-D and 5-D unit vectors against 2: 2^d - 1.
    double e4[16] = {0}, e5[25] = {0};
    for (int i = 0; i < 4; i++) e4[i * 4 + i] = 1;
    for (int i = 0; i < 5; i++) e5[i * 5 + i] = 1;
    double r4[] = {2, 2, 2, 2}, r5[] = {2, 2, 2, 2, 2};
    CHECK_NEAR(hv(e4, 4, 4, r4), 15.0, 1e-12);
    CHECK_NEAR(hv(e5, 5, 5, r5), 31.0, 1e-12);

    star_error err;
    double v;
    CHECK(hypervolume(f2, 3, 0, r2, &v, &err) == -1);
    CHECK(hypervolume(f2, 3, SEARCH_MAX_OBJ + 1, r2, &v, &err) == -1);
    double bad_ref[] = {NAN, 4};
    CHECK(hypervolume(f2, 3, 2, bad_ref, &v, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "reference");
}

// Integer points in {0..G-1}^d against reference G: the dominated volume is the number
// of unit cells [c, c+1] with some point p <= c in every coordinate.
static double cell_count(const double *f, int n, int d, int G) {
    long cells = 1;
    for (int k = 0; k < d; k++) cells *= G;
    double count = 0;
    for (long id = 0; id < cells; id++) {
        int cell[SEARCH_MAX_OBJ];
        long t = id;
        for (int k = 0; k < d; k++) {
            cell[k] = (int)(t % G);
            t /= G;
        }
        for (int i = 0; i < n; i++) {
            int in = 1;
            for (int k = 0; k < d && in; k++) in = f[i * d + k] <= cell[k];
            if (in) {
                count++;
                break;
            }
        }
    }
    return count;
}

static void test_against_cell_count(void) {
    pcg32 rng = pcg32_derive(3, 3);
    const int G = 8;
    for (int d = 2; d <= 5; d++) {
        for (int trial = 0; trial < 4; trial++) {
            int n = 3 + (int)pcg32_bounded(&rng, 12);
            double f[15 * 5], ref[5];
            for (int i = 0; i < n * d; i++) f[i] = pcg32_bounded(&rng, G);
            for (int k = 0; k < d; k++) ref[k] = G;
            double expect = cell_count(f, n, d, G);
            CHECK_MSG(fabs(hv(f, n, d, ref) - expect) < 1e-9, "d=%d trial %d: %g vs %g", d, trial, hv(f, n, d, ref),
                      expect);
        }
    }
}

static void test_true_fronts(void) {
    star_error err;
    test_problem tp;
    double *f = NULL;
    int n = 0;
    double r2[] = {1.1, 1.1}, r3[] = {1.1, 1.1, 1.1};
    // ZDT1: the box 1.1 x 1.1 minus the area under 1 - sqrt(x) on [0,1]:
    // 1.21 - 1/3 ... = 0.1 + 2/3 + 0.11. ZDT2 with 1 - x^2: 0.1 + 1/3 + 0.11.
    CHECK(test_problem_init(&tp, "zdt1", 2, &err) == 0);
    CHECK(test_problem_front(&tp, 4000, &f, &n, &err) == 0);
    CHECK(n == 4000);
    double v = hv(f, n, 2, r2);
    CHECK(v < 0.1 + 2.0 / 3 + 0.11 && v > 0.1 + 2.0 / 3 + 0.11 - 1e-3);
    free(f);
    CHECK(test_problem_init(&tp, "zdt2", 2, &err) == 0);
    CHECK(test_problem_front(&tp, 4000, &f, &n, &err) == 0);
    v = hv(f, n, 2, r2);
    CHECK(v < 0.1 + 1.0 / 3 + 0.11 && v > 0.1 + 1.0 / 3 + 0.11 - 1e-3);
    free(f);
    // ZDT3's front is five disconnected pieces of f1 (widths 0.0830, 0.0755, 0.0446,
    // 0.0341, 0.0285: 0.2657 of [0,1] in all), the last ending near 0.8518.
    CHECK(test_problem_init(&tp, "zdt3", 2, &err) == 0);
    CHECK(test_problem_front(&tp, 10000, &f, &n, &err) == 0);
    CHECK_MSG(abs(n - 2657) < 15, "zdt3 front: %d points", n);
    double f1_max = 0;
    for (int i = 0; i < n; i++) f1_max = fmax(f1_max, f[2 * i]);
    CHECK_NEAR(f1_max, 0.8518, 1e-3);
    free(f);
    // DTLZ2 (3 objectives): the cube 1.1^3 minus the sphere octant pi/6; every point
    // on the unit sphere.
    CHECK(test_problem_init(&tp, "dtlz2", 3, &err) == 0);
    CHECK(tp.n_var == 12);
    CHECK(test_problem_front(&tp, 5000, &f, &n, &err) == 0);
    CHECK(n > 4000 && n <= 5000);
    int on_sphere = 1;
    for (int i = 0; i < n; i++) on_sphere &= fabs(f[3 * i] * f[3 * i] + f[3 * i + 1] * f[3 * i + 1] + f[3 * i + 2] * f[3 * i + 2] - 1) < 1e-12;
    CHECK(on_sphere);
    v = hv(f, n, 3, r3);
    double exact = 1.331 - M_PI / 6;
    CHECK_MSG(v < exact && v > exact - 0.02, "dtlz2 front hv %.6f vs %.6f", v, exact);
    free(f);
    CHECK(test_problem_init(&tp, "zdt9", 2, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "zdt9");
}

int main(void) {
    test_hand_values();
    test_against_cell_count();
    test_true_fronts();
    TEST_END();
}
