// NSGA-II on ZDT1 and ZDT2 with population 100 and 250 generations (Deb et al. 2002),
// seeds 1..3, hypervolume against that of the true front (reference point (1.1, 1.1)):
//   ZDT1 >= 99%   (seeds reach 99.29..99.40%; 100 points can reach at most 99.47%)
//   ZDT2 >= 98.8% (seeds reach 98.90..99.01%; 100 points can reach at most 99.19%,
//                  and textbook NSGA-II with one-shot crowding reaches about 98.65%:
//                  see docs/search.md)
// and both ends of the ZDT2 front survive; the front of all evaluations (search/front_all.h)
// reaches >= 99% on both (seeds 99.58..99.85%). Against the true front sampled as the
// common tools sample it (pymoo's pareto_front(): 100 points evenly in f1, as many as the
// population) the last population reaches >= 99% on both. NSGA-II must also beat the GA and random
// search at equal evaluations on a shorter run.
#include <stdlib.h>
#include <time.h>

#include "search/driver.h"
#include "search/front_all.h"
#include "search/hypervolume.h"
#include "search/real_vector.h"
#include "search/test_problems.h"
#include "tests/test_util.h"

typedef struct outcome {
    double hv, hv_all, f1_min, f1_max;  // hv_all: the front of all evaluations (search/front_all.h)
    long n_eval;
} outcome;

static int run(const char *alg_name, const char *prob_name, int pop, int gens, uint64_t seed, outcome *o) {
    star_error err;
    test_problem tp;
    real_vector_space space;
    if (test_problem_init(&tp, prob_name, 2, &err) || real_vector_space_init(&space, tp.n_var, &err)) return -1;
    representation rep = real_vector_representation(&space);
    problem prob = test_problem_problem(&tp);
    front_all all;
    front_all_init(&all, &prob);
    search_params p = {.pop_size = pop, .generations = gens, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = seed};
    search_result res;
    if (search_run(&p, &rep, &all.wrapped, algorithm_by_name(alg_name), NULL, &res, &err)) {
        star_error_print(&err);
        front_all_free(&all);
        return -1;
    }
    double ref[2] = {1.1, 1.1};
    int rc = population_hypervolume(res.pop, res.n, 2, ref, &o->hv, &err);
    if (rc == 0) rc = hypervolume(all.f, all.n, 2, ref, &o->hv_all, &err);
    front_all_free(&all);
    o->f1_min = 1e300;
    o->f1_max = -1e300;
    for (int i = 0; i < res.n; i++) {
        if (res.pop[i].rank != 0) continue;
        if (res.pop[i].f[0] < o->f1_min) o->f1_min = res.pop[i].f[0];
        if (res.pop[i].f[0] > o->f1_max) o->f1_max = res.pop[i].f[0];
    }
    o->n_eval = tp.n_evaluations;
    search_result_free(&res);
    return rc;
}

static double front_hv(const char *prob_name, int n_points) {
    star_error err;
    test_problem tp;
    double *f, ref[2] = {1.1, 1.1}, v = -1;
    int n;
    if (test_problem_init(&tp, prob_name, 2, &err) || test_problem_front(&tp, n_points, &f, &n, &err)) return -1;
    if (hypervolume(f, n, 2, ref, &v, &err)) v = -1;
    free(f);
    return v;
}

static void check_full_run(const char *prob_name, double min_ratio) {
    double best = front_hv(prob_name, 10000), best100 = front_hv(prob_name, 100);
    CHECK(best > 0 && best100 > 0);
    // The 100-point sample covers less than the continuous front (ZDT1 99.41%, ZDT2 99.08%).
    CHECK(best100 < best && best100 > 0.98 * best);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        clock_t t0 = clock();
        outcome o;
        int rc = run("nsga2", prob_name, 100, 250, seed, &o);
        CHECK(rc == 0);
        if (rc) continue;
        double ratio = o.hv / best;
        printf("%s nsga2 seed %d: hv %.6f of %.6f (%.2f%%), f1 in [%.4f, %.4f], %ld evaluations, %.2f s\n", prob_name,
               (int)seed, o.hv, best, 100 * ratio, o.f1_min, o.f1_max, o.n_eval,
               (double)(clock() - t0) / CLOCKS_PER_SEC);
        CHECK_MSG(ratio >= min_ratio, "%s seed %d: hv ratio %.4f%% < %.2f%%", prob_name, (int)seed, 100 * ratio,
                  100 * min_ratio);
        printf("  against the 100-point front: %.2f%%\n", 100 * o.hv / best100);
        CHECK_MSG(o.hv / best100 >= 0.99, "%s seed %d: hv ratio against the 100-point front %.4f%% < 99%%", prob_name,
                  (int)seed, 100 * o.hv / best100);
        // The front of all evaluations holds the last population's points, and more.
        printf("  the front of all evaluations: %.2f%%\n", 100 * o.hv_all / best);
        CHECK(o.hv_all >= o.hv);
        CHECK_MSG(o.hv_all / best >= 0.99, "%s seed %d: all evaluations' hv ratio %.4f%% < 99%%", prob_name, (int)seed,
                  100 * o.hv_all / best);
        CHECK(o.n_eval <= 100 + 250 * 100);
        // Both ends of the front are found and kept (infinite crowding at the extremes).
        CHECK_MSG(o.f1_min < 1e-3 && o.f1_max > 0.999, "%s seed %d: front spans f1 [%g, %g]", prob_name, (int)seed,
                  o.f1_min, o.f1_max);
    }
}

int main(void) {
    check_full_run("zdt1", 0.99);
    check_full_run("zdt2", 0.988);

    // Shorter: NSGA-II ahead of the plain GA and of random search.
    outcome n, g, r;
    CHECK(run("nsga2", "zdt1", 40, 60, 2, &n) == 0);
    CHECK(run("ga", "zdt1", 40, 60, 2, &g) == 0);
    CHECK(run("random", "zdt1", 40, 60, 2, &r) == 0);
    printf("zdt1, 40 x 60: nsga2 %.4f, ga %.4f, random %.4f\n", n.hv, g.hv, r.hv);
    CHECK(n.hv > g.hv && n.hv > r.hv);
    TEST_END();
}
