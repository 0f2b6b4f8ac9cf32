// bench_zdt: NSGA-II, the GA and random search on ZDT1, ZDT2, ZDT3 (2 objectives) and
// DTLZ2 (3 objectives), population 100 for 250 generations (25,100 evaluations each;
// random search samples the same number), seeds 1..S. Prints the hypervolume reached
// (mean over the seeds) against that of the true front (a 10,000-point sample of it)
// with reference point 1.1 in every objective, the mean and the worst ratio of the last
// population, the mean ratio of the front of all its evaluations ("all evals": the
// non-dominated set of every feasible point evaluated, what random search is scored on
// too), the mean ratio of the last population against the true front sampled as pymoo's
// pareto_front() samples it (100 points evenly in f1 for ZDT, as many as the population:
// "vs 100"), and appends one JSON line to bench/results/zdt.jsonl.
//   bench_zdt [generations [seeds]]        (run from the repository root; seeds: 5)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>

#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "search/driver.h"
#include "search/front_all.h"
#include "search/hypervolume.h"
#include "search/real_vector.h"
#include "search/test_problems.h"

#define POP 100
#define FRONT_POINTS 10000
#define FRONT_POINTS_POP POP  // the common tools' sample of the front (pymoo: 100 points)

static const char *const problems[] = {"zdt1", "zdt2", "zdt3", "dtlz2"};
static const char *const algorithms[] = {"nsga2", "ga", "random"};
#define N_PROBLEMS 4
#define N_ALGS 3

#define MAX_SEEDS 64

typedef struct outcome {
    double hv, hv_all, seconds;  // hv: the last population; hv_all: every evaluation's front
    long evaluations;
} outcome;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int run_one(const char *prob_name, const char *alg_name, int gens, uint64_t seed, const double *ref,
                   outcome *o, star_error *err) {
    test_problem tp;
    real_vector_space space;
    if (test_problem_init(&tp, prob_name, 3, err) || real_vector_space_init(&space, tp.n_var, err)) return -1;
    representation rep = real_vector_representation(&space);
    problem prob = test_problem_problem(&tp);
    front_all all;
    front_all_init(&all, &prob);
    search_params p = {.pop_size = POP, .generations = gens, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = seed};
    search_result res;
    double t0 = now();
    if (search_run(&p, &rep, &all.wrapped, algorithm_by_name(alg_name), NULL, &res, err)) {
        front_all_free(&all);
        return -1;
    }
    o->seconds = now() - t0;
    o->evaluations = tp.n_evaluations;
    int rc = population_hypervolume(res.pop, res.n, tp.n_obj, ref, &o->hv, err);
    if (rc == 0) rc = hypervolume(all.f, all.n, tp.n_obj, ref, &o->hv_all, err);
    search_result_free(&res);
    front_all_free(&all);
    return rc;
}

static int front_hv(const char *prob_name, int n_points, const double *ref, double *hv, star_error *err) {
    test_problem tp;
    double *f;
    int n;
    if (test_problem_init(&tp, prob_name, 3, err) || test_problem_front(&tp, n_points, &f, &n, err)) return -1;
    int rc = hypervolume(f, n, tp.n_obj, ref, hv, err);
    free(f);
    return rc;
}

int main(int argc, char **argv) {
    int gens = argc > 1 ? atoi(argv[1]) : 250;
    int n_seeds = argc > 2 ? atoi(argv[2]) : 5;
    if (gens < 1 || n_seeds < 1 || n_seeds > MAX_SEEDS) {
        fprintf(stderr, "usage: bench_zdt [generations >= 1 [seeds 1..%d]]\n", MAX_SEEDS);
        return 2;
    }
    star_error err;
    const double ref[3] = {1.1, 1.1, 1.1};
    json_writer w;
    jw_init(&w);
    char date[32];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    struct utsname u;
    char machine[512] = "unknown";
    if (uname(&u) == 0) snprintf(machine, sizeof machine, "%s %s %s %s", u.sysname, u.nodename, u.release, u.machine);
    jw_obj_begin(&w);
    jw_kv_str(&w, "bench", "zdt");
    jw_kv_str(&w, "date", date);
    jw_kv_str(&w, "machine", machine);
    jw_kv_int(&w, "population", POP);
    jw_kv_int(&w, "generations", gens);
    jw_kv_int(&w, "seeds", n_seeds);
    jw_kv_double(&w, "reference", 1.1);
    jw_key(&w, "results");
    jw_arr_begin(&w);

    printf("population %d, %d generations, seeds 1..%d, reference point 1.1, true front: %d-point sample (vs 100: "
           "the last population against a %d-point sample, pymoo's)\n",
           POP, gens, n_seeds, FRONT_POINTS, FRONT_POINTS_POP);
    printf("%-7s %-7s %10s %10s %8s %8s %9s %8s %8s %8s\n", "problem", "alg", "HV mean", "front HV", "mean", "worst",
           "all evals", "vs 100", "evals", "seconds");
    for (int i = 0; i < N_PROBLEMS; i++) {
        double best, best_pop;
        if (front_hv(problems[i], FRONT_POINTS, ref, &best, &err) ||
            front_hv(problems[i], FRONT_POINTS_POP, ref, &best_pop, &err))
            goto fail;
        for (int a = 0; a < N_ALGS; a++) {
            outcome o[MAX_SEEDS];
            double hv_sum = 0, hv_min = INFINITY, sec_sum = 0, all_sum = 0;
            for (int s = 0; s < n_seeds; s++) {
                if (run_one(problems[i], algorithms[a], gens, (uint64_t)s + 1, ref, &o[s], &err)) goto fail;
                hv_sum += o[s].hv;
                all_sum += o[s].hv_all;
                sec_sum += o[s].seconds;
                if (o[s].hv < hv_min) hv_min = o[s].hv;
            }
            double hv_mean = hv_sum / n_seeds, all_mean = all_sum / n_seeds;
            printf("%-7s %-7s %10.6f %10.6f %7.2f%% %7.2f%% %8.2f%% %7.2f%% %8ld %8.2f\n", problems[i], algorithms[a],
                   hv_mean, best, 100.0 * hv_mean / best, 100.0 * hv_min / best, 100.0 * all_mean / best,
                   100.0 * hv_mean / best_pop, o[0].evaluations, sec_sum / n_seeds);
            jw_obj_begin(&w);
            jw_kv_str(&w, "problem", problems[i]);
            jw_kv_str(&w, "algorithm", algorithms[a]);
            jw_kv_double(&w, "hv", hv_mean);
            jw_key(&w, "hv_per_seed");
            jw_arr_begin(&w);
            for (int s = 0; s < n_seeds; s++) jw_double(&w, o[s].hv);
            jw_arr_end(&w);
            jw_kv_double(&w, "front_hv", best);
            jw_kv_double(&w, "ratio", hv_mean / best);
            jw_kv_double(&w, "ratio_worst", hv_min / best);
            jw_kv_double(&w, "ratio_all_evaluations", all_mean / best);
            jw_kv_int(&w, "front_points_pop", FRONT_POINTS_POP);
            jw_kv_double(&w, "front_hv_pop", best_pop);
            jw_kv_double(&w, "ratio_front_pop", hv_mean / best_pop);
            jw_kv_double(&w, "ratio_worst_front_pop", hv_min / best_pop);
            jw_kv_int(&w, "evaluations", o[0].evaluations);
            jw_kv_double(&w, "seconds", sec_sum / n_seeds);
            jw_obj_end(&w);
        }
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (dir_create("bench/results", &err) || file_append_line("bench/results/zdt.jsonl", w.buf, &err)) goto fail;
    printf("appended to bench/results/zdt.jsonl\n");
    jw_free(&w);
    return 0;
fail:
    star_error_print(&err);
    jw_free(&w);
    return 1;
}
