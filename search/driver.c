#include "search/driver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/fitness_cache.h"
#include "search/ranking.h"

typedef struct run {
    const search_params *p;
    const representation *rep;
    const problem *prob;
    const algorithm *alg;
    search_hooks hooks;  // a zeroed table when the caller gave none
    int n_obj;
    fitness_cache cache;
    search_result stats;
} run;

static int check_inputs(const search_params *p, const representation *rep, const problem *prob, const algorithm *alg,
                        star_error *err) {
    if (!p || !rep || !prob || !alg) return STAR_FAIL(err, "search: missing parameters, representation, problem or algorithm");
    if (p->pop_size < 2) return STAR_FAIL(err, "search: population %d (expected >= 2)", p->pop_size);
    if (p->generations < 0) return STAR_FAIL(err, "search: generations %d (expected >= 0)", p->generations);
    if (!(p->crossover_rate >= 0.0 && p->crossover_rate <= 1.0))
        return STAR_FAIL(err, "search: crossover rate %g (expected 0..1)", p->crossover_rate);
    if (!(p->mutation_rate >= 0.0 && p->mutation_rate <= 1.0))
        return STAR_FAIL(err, "search: mutation rate %g (expected 0..1)", p->mutation_rate);
    if (p->n_seeds < 0 || p->n_seeds > p->pop_size)
        return STAR_FAIL(err, "search: %d seed individuals for a population of %d", p->n_seeds, p->pop_size);
    if (p->n_seeds > 0 && !p->seeds) return STAR_FAIL(err, "search: %d seed individuals but no seed array", p->n_seeds);
    if (prob->n_obj < 1 || prob->n_obj > SEARCH_MAX_OBJ)
        return STAR_FAIL(err, "search: problem '%s' has %d objectives (expected 1..%d)", prob->name, prob->n_obj,
                         SEARCH_MAX_OBJ);
    if (p->n_obj != 0 && p->n_obj != prob->n_obj)
        return STAR_FAIL(err, "search: %d objectives asked for, problem '%s' has %d", p->n_obj, prob->name, prob->n_obj);
    if (!prob->evaluate_batch) return STAR_FAIL(err, "search: problem '%s' has no evaluate_batch", prob->name);
    if (rep->size == 0 || !rep->sample || !rep->crossover || !rep->mutate || !rep->hash)
        return STAR_FAIL(err, "search: representation '%s' lacks its size or an operator", rep->name);
    if (!alg->survive || (alg->breeds && !alg->select_parents))
        return STAR_FAIL(err, "search: algorithm '%s' lacks survival or parent selection", alg->name);
    return 0;
}

static void clear_results(individual *ind) {
    memset(ind->f, 0, sizeof ind->f);
    ind->cv = 0.0;
    ind->status = INDIVIDUAL_OK;
    ind->reason[0] = '\0';
    ind->rank = 0;
    ind->crowding = 0.0;
}

// What the problem returned, made safe to rank: a failed candidate gets cv =
// SEARCH_CV_FAILED; a non-finite objective (a diverged loss) fails the candidate.
static int settle_result(const run *r, individual *ind, star_error *err) {
    if (ind->status != INDIVIDUAL_OK) {
        if (!ind->reason[0]) snprintf(ind->reason, sizeof ind->reason, "evaluation failed (no reason given)");
        ind->status = INDIVIDUAL_FAILED;
        ind->cv = SEARCH_CV_FAILED;
        return 0;
    }
    if (isnan(ind->cv) || ind->cv < 0.0)
        return STAR_FAIL(err, "search: problem '%s' returned constraint violation %g (expected >= 0) for candidate %016llx",
                         r->prob->name, ind->cv, (unsigned long long)ind->hash);
    for (int k = 0; k < r->n_obj; k++)
        if (!isfinite(ind->f[k])) {
            individual_set_failed(ind, "objective %d is not finite (%g)", k, ind->f[k]);
            return 0;
        }
    return 0;
}

// Gives every member of inds its results: from the cache, from the lookup hook, or from
// one evaluate_batch call over the candidates nobody knows (each hash once).
static int evaluate_new(run *r, int gen, individual *inds, int n, star_error *err) {
    individual **batch = star_malloc((size_t)(n > 0 ? n : 1) * sizeof *batch);
    int *pending = star_malloc((size_t)(n > 0 ? n : 1) * sizeof *pending);  // repeats of a batch member
    int n_batch = 0, n_pending = 0, rc = -1;
    for (int i = 0; i < n; i++) {
        individual *ind = &inds[i];
        clear_results(ind);
        if (fitness_cache_get(&r->cache, ind->hash, ind)) {
            r->stats.n_cache_hits++;
            continue;
        }
        int repeat = 0;
        for (int b = 0; b < n_batch && !repeat; b++) repeat = batch[b]->hash == ind->hash;
        if (repeat) {
            pending[n_pending++] = i;
            continue;
        }
        if (r->hooks.lookup) {
            int found = r->hooks.lookup(r->hooks.ctx, ind->hash, ind, err);
            if (found < 0) goto done;
            if (found) {
                if (settle_result(r, ind, err)) goto done;
                fitness_cache_put(&r->cache, ind);
                r->stats.n_lookups++;
                continue;
            }
            clear_results(ind);
        }
        batch[n_batch++] = ind;
    }
    if (n_batch > 0 && r->prob->evaluate_batch(r->prob->ctx, batch, n_batch, err)) {
        star_error_prefix(err, "evaluating generation %d", gen);
        goto done;
    }
    for (int b = 0; b < n_batch; b++) {
        if (settle_result(r, batch[b], err)) goto done;
        r->stats.n_evaluated++;
        if (r->hooks.on_evaluated && r->hooks.on_evaluated(r->hooks.ctx, gen, batch[b], err)) goto done;
        fitness_cache_put(&r->cache, batch[b]);
    }
    for (int k = 0; k < n_pending; k++) {
        fitness_cache_get(&r->cache, inds[pending[k]].hash, &inds[pending[k]]);
        r->stats.n_cache_hits++;
    }
    rc = 0;
done:
    free(batch);
    free(pending);
    return rc;
}

static int hash_in(uint64_t h, const individual *set, int n) {
    for (int i = 0; i < n; i++)
        if (set[i].hash == h) return 1;
    return 0;
}

// One candidate: a fresh sample, or a child of parents a and b. A re-draw (retry > 0)
// always mutates, so it can leave a duplicate even when the rates say copy.
static int make_candidate(run *r, pcg32 *rng, const individual *a, const individual *b, int retry, individual *child,
                          star_error *err) {
    const representation *rep = r->rep;
    if (!a) {
        if (rep->sample(rep->ctx, rng, child->x, err)) return -1;
    } else {
        if (pcg32_double(rng) < r->p->crossover_rate) {
            if (rep->crossover(rep->ctx, rng, a->x, b->x, child->x, err)) return -1;
        } else {
            memcpy(child->x, a->x, rep->size);
        }
        if ((pcg32_double(rng) < r->p->mutation_rate || retry > 0) && rep->mutate(rep->ctx, rng, child->x, err))
            return -1;
    }
    if (rep->repair && rep->repair(rep->ctx, rng, child->x, err)) return -1;
    child->hash = rep->hash(rep->ctx, child->x);
    return 0;
}

// Makes offspring k, re-drawing while it repeats the population or offspring [0, k).
static int make_unique(run *r, pcg32 *rng, const individual *pop, int n_pop, individual *offspring, int k,
                       const individual *a, const individual *b, star_error *err) {
    for (int retry = 0;; retry++) {
        if (make_candidate(r, rng, a, b, retry, &offspring[k], err)) return -1;
        uint64_t h = offspring[k].hash;
        if (!hash_in(h, pop, n_pop) && !hash_in(h, offspring, k)) return 0;
        if (retry == SEARCH_MAX_REDRAWS) {
            r->stats.n_duplicates_kept++;
            return 0;
        }
        r->stats.n_redraws++;
    }
}

static int initial_population(run *r, individual *pop, star_error *err) {
    const search_params *p = r->p;
    pcg32 rng = pcg32_derive(p->seed, 0);
    for (int i = 0; i < p->n_seeds; i++) {
        memcpy(pop[i].x, p->seeds[i], r->rep->size);
        if (r->rep->repair && r->rep->repair(r->rep->ctx, &rng, pop[i].x, err))
            return star_error_prefix(err, "seed individual %d", i);
        pop[i].hash = r->rep->hash(r->rep->ctx, pop[i].x);
    }
    for (int i = p->n_seeds; i < p->pop_size; i++)
        if (make_unique(r, &rng, pop, 0, pop, i, NULL, NULL, err)) return -1;
    if (evaluate_new(r, 0, pop, p->pop_size, err)) return -1;
    population_rank(pop, p->pop_size, r->n_obj);
    return 0;
}

// Breeds, evaluates and selects generation g; *pop is replaced by the survivors.
static int next_generation(run *r, int g, individual **pop, star_error *err) {
    const search_params *p = r->p;
    const algorithm *alg = r->alg;
    int n_pop = p->pop_size;
    int n_off = alg->offspring_count ? alg->offspring_count(n_pop) : n_pop;
    if (n_off < 1) return STAR_FAIL(err, "search: algorithm '%s' breeds %d offspring", alg->name, n_off);
    pcg32 rng = pcg32_derive(p->seed, (uint64_t)g);
    individual *pool = population_new(n_pop + n_off, r->rep->size);
    individual *off = pool + n_pop;
    int *idx = star_malloc((size_t)(2 * n_off) * sizeof *idx);
    int *keep = star_malloc((size_t)n_pop * sizeof *keep);
    char *kept = star_calloc((size_t)(n_pop + n_off), 1);
    int rc = -1;
    if (alg->breeds) alg->select_parents(*pop, n_pop, &rng, idx, 2 * n_off);
    for (int k = 0; k < n_off; k++) {
        const individual *a = alg->breeds ? &(*pop)[idx[2 * k]] : NULL;
        const individual *b = alg->breeds ? &(*pop)[idx[2 * k + 1]] : NULL;
        if (make_unique(r, &rng, *pop, n_pop, off, k, a, b, err)) goto done;
    }
    if (evaluate_new(r, g, off, n_off, err)) goto done;
    // The pool takes the parents over: their x move, nothing is copied.
    for (int i = 0; i < n_pop; i++) {
        individual_free(&pool[i]);
        pool[i] = (*pop)[i];
    }
    free(*pop);
    *pop = NULL;
    if (alg->survive(pool, n_pop, n_pop + n_off, n_pop, r->n_obj, &rng, keep, err)) goto done;
    individual *next = star_calloc((size_t)n_pop, sizeof *next);
    for (int i = 0; i < n_pop; i++) {
        if (keep[i] < 0 || keep[i] >= n_pop + n_off || kept[keep[i]]) {
            free(next);
            rc = STAR_FAIL(err, "search: algorithm '%s' kept an invalid or repeated index %d", alg->name, keep[i]);
            goto done;
        }
        kept[keep[i]] = 1;
        next[i] = pool[keep[i]];
    }
    for (int i = 0; i < n_pop + n_off; i++)
        if (!kept[i]) individual_free(&pool[i]);
    free(pool);
    pool = NULL;
    population_rank(next, n_pop, r->n_obj);
    *pop = next;
    rc = 0;
done:
    if (pool) population_free(pool, n_pop + n_off);
    free(idx);
    free(keep);
    free(kept);
    return rc;
}

int search_run(const search_params *params, const representation *rep, const problem *prob, const algorithm *alg,
               const search_hooks *hooks, search_result *result, star_error *err) {
    if (result) memset(result, 0, sizeof *result);
    if (check_inputs(params, rep, prob, alg, err)) return -1;
    run r;
    memset(&r, 0, sizeof r);
    r.p = params;
    r.rep = rep;
    r.prob = prob;
    r.alg = alg;
    if (hooks) r.hooks = *hooks;
    r.n_obj = prob->n_obj;
    fitness_cache_init(&r.cache);
    individual *pop = population_new(params->pop_size, rep->size);
    int rc = -1, g = 0;
    if (initial_population(&r, pop, err)) goto done;
    for (;; g++) {
        if (r.hooks.on_generation) {
            int stop = r.hooks.on_generation(r.hooks.ctx, g, pop, params->pop_size, err);
            if (stop < 0) goto done;
            if (stop > 0) break;
        }
        if (g == params->generations) break;
        if (next_generation(&r, g + 1, &pop, err)) goto done;
    }
    rc = 0;
done:
    r.stats.generations_done = g;
    if (rc == 0 && result) {
        *result = r.stats;
        result->pop = pop;
        result->n = params->pop_size;
        pop = NULL;
    }
    // On failure inside next_generation the population already moved into the pool,
    // which next_generation freed; pop is NULL then.
    if (pop) population_free(pop, params->pop_size);
    fitness_cache_free(&r.cache);
    return rc;
}

void search_result_free(search_result *r) {
    if (!r) return;
    population_free(r->pop, r->n);
    memset(r, 0, sizeof *r);
}
