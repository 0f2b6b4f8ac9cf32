// NSGA-II on ZDT1 (population 100, 250 generations, as in Deb et al. 2002) must reach
// 99% of the hypervolume of the true front (reference point (1.1, 1.1)); NSGA-II must
// beat the GA and random search at equal evaluations on a shorter run.
#include <stdlib.h>
#include <time.h>

#include "search/driver.h"
#include "search/hypervolume.h"
#include "search/real_vector.h"
#include "search/test_problems.h"
#include "tests/test_util.h"

static double run_hv(const char *alg_name, const char *prob_name, int pop, int gens, uint64_t seed, long *n_eval) {
    star_error err;
    test_problem tp;
    real_vector_space space;
    if (test_problem_init(&tp, prob_name, 2, &err) || real_vector_space_init(&space, tp.n_var, &err)) return -1;
    representation rep = real_vector_representation(&space);
    problem prob = test_problem_problem(&tp);
    search_params p = {.pop_size = pop, .generations = gens, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = seed};
    search_result res;
    if (search_run(&p, &rep, &prob, algorithm_by_name(alg_name), NULL, &res, &err)) {
        star_error_print(&err);
        return -1;
    }
    double ref[2] = {1.1, 1.1}, v = -1;
    if (population_hypervolume(res.pop, res.n, 2, ref, &v, &err)) v = -1;
    if (n_eval) *n_eval = tp.n_evaluations;
    search_result_free(&res);
    return v;
}

static double front_hv(const char *prob_name) {
    star_error err;
    test_problem tp;
    double *f, ref[2] = {1.1, 1.1}, v = -1;
    int n;
    if (test_problem_init(&tp, prob_name, 2, &err) || test_problem_front(&tp, 10000, &f, &n, &err)) return -1;
    if (hypervolume(f, n, 2, ref, &v, &err)) v = -1;
    free(f);
    return v;
}

int main(void) {
    clock_t t0 = clock();
    long n_eval = 0;
    double best = front_hv("zdt1");
    double v = run_hv("nsga2", "zdt1", 100, 250, 1, &n_eval);
    printf("zdt1 nsga2: hv %.6f of %.6f (%.2f%%), %ld evaluations, %.2f s\n", v, best, 100 * v / best, n_eval,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    CHECK_MSG(v >= 0.99 * best, "hv %.6f < 99%% of %.6f", v, best);
    CHECK(n_eval <= 100 + 250 * 100);

    // Shorter: NSGA-II ahead of the plain GA and of random search.
    long e_nsga2, e_ga, e_random;
    double h_nsga2 = run_hv("nsga2", "zdt1", 40, 60, 2, &e_nsga2);
    double h_ga = run_hv("ga", "zdt1", 40, 60, 2, &e_ga);
    double h_random = run_hv("random", "zdt1", 40, 60, 2, &e_random);
    printf("zdt1, 40 x 60: nsga2 %.4f, ga %.4f, random %.4f\n", h_nsga2, h_ga, h_random);
    CHECK(h_nsga2 > h_ga && h_nsga2 > h_random);
    CHECK(h_random >= 0 && h_ga >= 0);
    TEST_END();
}
