// The generational driver: determinism from the seed, dedup through the fitness cache,
// seed individuals, the lookup hook (resume), failed and infeasible candidates, hooks,
// batches, and errors.
#include <stdlib.h>

#include "search/driver.h"
#include "search/real_vector.h"
#include "search/test_problems.h"
#include "tests/test_util.h"

// ---- a tiny discrete space, so duplicates are frequent: x is one byte in 0..15 ----
static int tiny_sample(void *ctx, pcg32 *rng, void *x, star_error *err) {
    *(unsigned char *)x = (unsigned char)pcg32_bounded(rng, 16);
    return 0;
}
static int tiny_crossover(void *ctx, pcg32 *rng, const void *a, const void *b, void *c, star_error *err) {
    *(unsigned char *)c = pcg32_bounded(rng, 2) ? *(const unsigned char *)a : *(const unsigned char *)b;
    return 0;
}
static int tiny_mutate(void *ctx, pcg32 *rng, void *x, star_error *err) {
    unsigned char *v = x;
    *v = (unsigned char)((*v + (pcg32_bounded(rng, 2) ? 1 : 15)) % 16);
    return 0;
}
static uint64_t tiny_hash(void *ctx, const void *x) { return 1000 + *(const unsigned char *)x; }
static const representation tiny_rep = {"tiny", 1, NULL, tiny_sample, tiny_crossover, tiny_mutate, NULL, tiny_hash};

typedef struct tiny_counts {
    int per_value[16];
    int batches, max_batch;
} tiny_counts;

static int tiny_evaluate(void *ctx, individual **inds, int n, star_error *err) {
    tiny_counts *c = ctx;
    c->batches++;
    if (n > c->max_batch) c->max_batch = n;
    for (int i = 0; i < n; i++) {
        int v = *(unsigned char *)inds[i]->x;
        c->per_value[v]++;
        inds[i]->f[0] = v;
        inds[i]->f[1] = (v - 10) * (v - 10);
    }
    return 0;
}

static void test_dedup(void) {
    tiny_counts counts = {{0}, 0, 0};
    problem prob = {"tiny", 2, 0, &counts, tiny_evaluate};
    search_params p = {.pop_size = 8, .generations = 30, .crossover_rate = 0.9, .mutation_rate = 0.5, .seed = 11};
    search_result res;
    star_error err;
    CHECK(search_run(&p, &tiny_rep, &prob, &algorithm_nsga2, NULL, &res, &err) == 0);
    int once = 1, total = 0;
    for (int v = 0; v < 16; v++) {
        once &= counts.per_value[v] <= 1;
        total += counts.per_value[v];
    }
    CHECK_MSG(once, "a candidate was evaluated twice");
    CHECK(total == res.n_evaluated);
    CHECK(total <= 16);
    // Every candidate of every generation was answered by the problem or the cache.
    CHECK(res.n_evaluated + res.n_cache_hits == 8 + 30 * 8);
    CHECK(res.n_cache_hits > 0 && res.n_redraws > 0);
    // Only the 16 values exist and the population holds 8: duplicates get kept at times,
    // but never inside the initial population (drawn without repeats).
    CHECK(res.n_duplicates_kept > 0);
    CHECK(counts.batches >= 1 && counts.batches <= 31);  // generations with nothing new skip the call
    CHECK(counts.max_batch <= 8);
    // The non-dominated values 0..10 (f0 = v, f1 = (v-10)^2) fill the population.
    int good = 1;
    for (int i = 0; i < res.n; i++) good &= *(unsigned char *)res.pop[i].x <= 10 && res.pop[i].rank == 0;
    CHECK(good);
    search_result_free(&res);
}

// ---- ZDT1 helpers ----
typedef struct zdt {
    test_problem tp;
    real_vector_space space;
    representation rep;
    problem prob;
} zdt;

static void zdt_init(zdt *z) {
    star_error err;
    test_problem_init(&z->tp, "zdt1", 2, &err);
    real_vector_space_init(&z->space, z->tp.n_var, &err);
    z->rep = real_vector_representation(&z->space);
    z->prob = test_problem_problem(&z->tp);
}

static int same_population(const search_result *a, const search_result *b, size_t size) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        if (memcmp(a->pop[i].x, b->pop[i].x, size) || memcmp(a->pop[i].f, b->pop[i].f, sizeof a->pop[i].f)) return 0;
        if (a->pop[i].hash != b->pop[i].hash || a->pop[i].rank != b->pop[i].rank) return 0;
    }
    return 1;
}

static void test_determinism(void) {
    zdt z;
    zdt_init(&z);
    search_params p = {.pop_size = 20, .generations = 15, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = 5};
    search_result r1, r2, r3;
    star_error err;
    for (int a = 0; a < 3; a++) {
        const algorithm *alg = a == 0 ? &algorithm_nsga2 : a == 1 ? &algorithm_ga : &algorithm_random;
        p.seed = 5;
        CHECK(search_run(&p, &z.rep, &z.prob, alg, NULL, &r1, &err) == 0);
        CHECK(search_run(&p, &z.rep, &z.prob, alg, NULL, &r2, &err) == 0);
        p.seed = 6;
        CHECK(search_run(&p, &z.rep, &z.prob, alg, NULL, &r3, &err) == 0);
        CHECK_MSG(same_population(&r1, &r2, z.rep.size), "%s: same seed, different populations", alg->name);
        CHECK_MSG(!same_population(&r1, &r3, z.rep.size), "%s: another seed, same population", alg->name);
        CHECK(r1.n_evaluated == r2.n_evaluated && r1.generations_done == 15);
        search_result_free(&r1);
        search_result_free(&r2);
        search_result_free(&r3);
    }
}

// ---- a store of results that plays the archive: filled by on_evaluated, read by lookup ----
typedef struct store {
    uint64_t hash[4096];
    individual res[4096];
    int n;
    int on_evaluated_calls, lookups_found;
    int stop_after;  // on_generation returns 1 at this generation (-1: never)
    int gens_seen[64];
    int n_gens;
    int failed_seen, bad_reason;
} store;

static int store_on_evaluated(void *ctx, int gen, const individual *ind, star_error *err) {
    store *s = ctx;
    s->on_evaluated_calls++;
    for (int i = 0; i < s->n; i++)
        if (s->hash[i] == ind->hash) return STAR_FAIL(err, "evaluated twice: %016llx", (unsigned long long)ind->hash);
    if (s->n == 4096) return STAR_FAIL(err, "store full");
    s->hash[s->n] = ind->hash;
    s->res[s->n] = *ind;
    s->res[s->n].x = NULL;
    s->n++;
    if (ind->status == INDIVIDUAL_FAILED) {
        s->failed_seen++;
        if (ind->cv != SEARCH_CV_FAILED || !strstr(ind->reason, "x0 too small")) s->bad_reason++;
    }
    return 0;
}

static int store_lookup(void *ctx, uint64_t hash, individual *ind, star_error *err) {
    store *s = ctx;
    for (int i = 0; i < s->n; i++)
        if (s->hash[i] == hash) {
            memcpy(ind->f, s->res[i].f, sizeof ind->f);
            ind->cv = s->res[i].cv;
            ind->status = s->res[i].status;
            memcpy(ind->reason, s->res[i].reason, sizeof ind->reason);
            s->lookups_found++;
            return 1;
        }
    return 0;
}

static int store_on_generation(void *ctx, int gen, const individual *pop, int n, star_error *err) {
    store *s = ctx;
    if (s->n_gens < 64) s->gens_seen[s->n_gens++] = gen;
    return gen == s->stop_after ? 1 : 0;
}

static void test_resume_through_lookup(void) {
    zdt z;
    zdt_init(&z);
    star_error err;
    search_params p = {.pop_size = 16, .generations = 10, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = 9};
    store *s = calloc(1, sizeof *s);
    s->stop_after = 4;
    search_hooks h = {s, store_on_evaluated, store_lookup, store_on_generation};
    search_result full, part, resumed;
    // An uninterrupted run, with no hooks.
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, NULL, &full, &err) == 0);
    // A run stopped after generation 4: generations 0..4 were seen and archived.
    long before = z.tp.n_evaluations;
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, &h, &part, &err) == 0);
    CHECK(part.generations_done == 4);
    CHECK(s->n_gens == 5 && s->gens_seen[0] == 0 && s->gens_seen[4] == 4);
    CHECK(s->on_evaluated_calls == part.n_evaluated);
    CHECK(z.tp.n_evaluations - before == part.n_evaluated);
    CHECK(s->lookups_found == 0);
    // Resumed: generations 0..4 come back from the store, the rest is evaluated, and the
    // result is the uninterrupted run's, bit for bit.
    int archived = s->n;
    s->stop_after = -1;
    s->n_gens = 0;
    s->on_evaluated_calls = 0;
    before = z.tp.n_evaluations;
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, &h, &resumed, &err) == 0);
    CHECK(resumed.n_lookups == archived);
    CHECK(s->lookups_found == archived);
    CHECK(resumed.n_evaluated == full.n_evaluated - archived);
    CHECK(s->on_evaluated_calls == resumed.n_evaluated);
    CHECK(z.tp.n_evaluations - before == resumed.n_evaluated);
    CHECK(same_population(&full, &resumed, z.rep.size));
    CHECK(s->n_gens == 11);
    search_result_free(&full);
    search_result_free(&part);
    search_result_free(&resumed);
    free(s);
}

static void test_seeding(void) {
    zdt z;
    zdt_init(&z);
    star_error err;
    // Three points of the true front (x1 = 0, 0.5, 1 and the rest 0).
    double s0[30] = {0}, s1[30] = {0.5}, s2[30] = {1.0};
    const void *seeds[3] = {s0, s1, s2};
    search_params p = {.pop_size = 10, .generations = 0, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = 1,
                       .seeds = seeds, .n_seeds = 3};
    search_result r;
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, NULL, &r, &err) == 0);
    CHECK(!memcmp(r.pop[0].x, s0, sizeof s0) && !memcmp(r.pop[1].x, s1, sizeof s1) && !memcmp(r.pop[2].x, s2, sizeof s2));
    CHECK_NEAR(r.pop[1].f[0], 0.5, 1e-15);
    CHECK_NEAR(r.pop[1].f[1], 1 - sqrt(0.5), 1e-15);
    // The seeds lie on the true front: random samples (g >> 1) cannot dominate them.
    CHECK(r.pop[0].rank == 0 && r.pop[1].rank == 0 && r.pop[2].rank == 0);
    search_result_free(&r);
    // After evolution the extreme seeds survive: they are the ends of the first front
    // (infinite crowding) and nothing can dominate or tie them.
    p.generations = 5;
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, NULL, &r, &err) == 0);
    int found0 = 0, found2 = 0;
    for (int i = 0; i < r.n; i++) {
        found0 += !memcmp(r.pop[i].x, s0, sizeof s0);
        found2 += !memcmp(r.pop[i].x, s2, sizeof s2);
    }
    CHECK(found0 == 1 && found2 == 1);
    search_result_free(&r);
    p.n_seeds = 11;
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, NULL, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "seed individuals");
}

// ZDT1 where x0 < 0.2 fails to evaluate, x0 < 0.3 returns NaN, and f0 < 0.5 violates a
// hard limit (cv = 0.5 - f0).
static int hard_evaluate(void *ctx, individual **inds, int n, star_error *err) {
    test_problem *tp = ctx;
    for (int i = 0; i < n; i++) {
        const double *x = inds[i]->x;
        if (x[0] < 0.2) {
            individual_set_failed(inds[i], "x0 too small (%.3f)", x[0]);
            continue;
        }
        tp->evaluate(x, tp->n_var, 2, inds[i]->f);
        if (x[0] < 0.3) inds[i]->f[1] = NAN;
        inds[i]->cv = x[0] < 0.5 ? 0.5 - x[0] : 0.0;
    }
    return 0;
}

static void test_failures_and_constraints(void) {
    zdt z;
    zdt_init(&z);
    star_error err;
    problem prob = {"hard", 2, 1, &z.tp, hard_evaluate};
    store *s = calloc(1, sizeof *s);
    s->stop_after = -1;
    search_hooks h = {s, store_on_evaluated, NULL, NULL};
    search_params p = {.pop_size = 30, .generations = 20, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = 4};
    search_result r;
    CHECK(search_run(&p, &z.rep, &prob, &algorithm_nsga2, &h, &r, &err) == 0);
    CHECK(s->failed_seen > 0);  // about a fifth of the initial samples
    int nan_failed = 0, infeasible = 0;
    for (int i = 0; i < s->n; i++) {
        nan_failed += s->res[i].status == INDIVIDUAL_FAILED && strstr(s->res[i].reason, "not finite") != NULL;
        infeasible += s->res[i].status == INDIVIDUAL_OK && s->res[i].cv > 0;
    }
    CHECK(s->bad_reason == nan_failed);  // the only failures without "x0 too small"
    CHECK(nan_failed > 0 && infeasible > 0);
    int ok = 1;
    for (int i = 0; i < r.n; i++) ok &= individual_feasible(&r.pop[i]) && r.pop[i].f[0] >= 0.5;
    CHECK_MSG(ok, "an infeasible or failed candidate survived");
    search_result_free(&r);
    free(s);
}

// One objective: sum (x_i - 0.3)^2. Every algorithm here keeps its best, so the best
// value never rises from one generation to the next.
static int sphere_evaluate(void *ctx, individual **inds, int n, star_error *err) {
    for (int i = 0; i < n; i++) {
        const double *x = inds[i]->x;
        double s = 0;
        for (int k = 0; k < 5; k++) s += (x[k] - 0.3) * (x[k] - 0.3);
        inds[i]->f[0] = s;
    }
    return 0;
}

typedef struct best_track {
    double best[64];
    int n;
} best_track;

static int track_best(void *ctx, int gen, const individual *pop, int n, star_error *err) {
    best_track *t = ctx;
    double b = INFINITY;
    for (int i = 0; i < n; i++) b = fmin(b, pop[i].f[0]);
    t->best[t->n++] = b;
    return 0;
}

static void test_elitism(void) {
    real_vector_space space;
    star_error err;
    real_vector_space_init(&space, 5, &err);
    representation rep = real_vector_representation(&space);
    problem prob = {"sphere", 1, 0, NULL, sphere_evaluate};
    search_params p = {.pop_size = 12, .generations = 40, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = 2};
    for (int a = 0; a < 3; a++) {
        const algorithm *alg = a == 0 ? &algorithm_nsga2 : a == 1 ? &algorithm_ga : &algorithm_random;
        best_track t = {{0}, 0};
        search_hooks h = {&t, NULL, NULL, track_best};
        search_result r;
        CHECK(search_run(&p, &rep, &prob, alg, &h, &r, &err) == 0);
        CHECK(t.n == 41);
        int monotone = 1;
        for (int g = 1; g < t.n; g++) monotone &= t.best[g] <= t.best[g - 1];
        CHECK_MSG(monotone, "%s lost its best", alg->name);
        CHECK_MSG(t.best[40] < t.best[0], "%s made no progress", alg->name);
        if (a == 1) CHECK(r.n_evaluated <= 12 + 40 * 10);  // the GA breeds pop - 2 per generation
        search_result_free(&r);
    }
}

static int broken_evaluate(void *ctx, individual **inds, int n, star_error *err) {
    return STAR_FAIL(err, "evaluator lost its worker");
}

static int negative_cv_evaluate(void *ctx, individual **inds, int n, star_error *err) {
    for (int i = 0; i < n; i++) inds[i]->cv = -1;
    return 0;
}

static int stop_hook(void *ctx, int gen, const individual *ind, star_error *err) {
    return STAR_FAIL(err, "archive disk full");
}

static void test_errors(void) {
    zdt z;
    zdt_init(&z);
    star_error err;
    search_result r;
    search_params p = {.pop_size = 10, .generations = 2, .crossover_rate = 0.9, .mutation_rate = 1.0, .seed = 1};
    problem broken = {"broken", 2, 0, NULL, broken_evaluate};
    CHECK(search_run(&p, &z.rep, &broken, &algorithm_nsga2, NULL, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "evaluating generation 0: evaluator lost its worker");
    CHECK(r.pop == NULL);
    problem negative = {"negative", 2, 0, NULL, negative_cv_evaluate};
    CHECK(search_run(&p, &z.rep, &negative, &algorithm_nsga2, NULL, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "constraint violation");
    search_hooks h = {NULL, stop_hook, NULL, NULL};
    CHECK(search_run(&p, &z.rep, &z.prob, &algorithm_nsga2, &h, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "archive disk full");

    search_params bad = p;
    bad.pop_size = 1;
    CHECK(search_run(&bad, &z.rep, &z.prob, &algorithm_nsga2, NULL, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "population 1");
    bad = p;
    bad.crossover_rate = 1.5;
    CHECK(search_run(&bad, &z.rep, &z.prob, &algorithm_nsga2, NULL, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "crossover rate");
    bad = p;
    bad.n_obj = 3;
    CHECK(search_run(&bad, &z.rep, &z.prob, &algorithm_nsga2, NULL, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "3 objectives");
    // A generation-0-only run works and evaluates exactly the initial population.
    bad = p;
    bad.generations = 0;
    CHECK(search_run(&bad, &z.rep, &z.prob, &algorithm_random, NULL, &r, &err) == 0);
    CHECK(r.n_evaluated == 10 && r.generations_done == 0);
    search_result_free(&r);
}

int main(void) {
    test_dedup();
    test_determinism();
    test_resume_through_lookup();
    test_seeding();
    test_failures_and_constraints();
    test_elitism();
    test_errors();
    TEST_END();
}
