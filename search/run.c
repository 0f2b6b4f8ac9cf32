#include "search/run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/file.h"
#include "common/timer.h"
#include "search/archive.h"
#include "search/fitness_cache.h"
#include "search/hypervolume.h"
#include "search/ranking.h"

static int int_ascending(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

#define RUN_MAX_GENERATIONS_HV 100000

typedef struct run_state {
    const run_spec *spec;
    char archive_path[4096];
    fitness_cache stored;  // results read back from the archive (resume)
    long n_stored;
    long n_eval;           // evaluations in the archive so far (stored + new)
    long n_new;            // evaluations made by this process
    int gen;               // generation being evaluated
    double hv_ref[SEARCH_MAX_OBJ];
    int hv_ref_set;
    double *hv_history;
    int n_hv;
    double t_start, eval_seconds;
    double best[SEARCH_MAX_OBJ];
    int tty;
} run_state;

void run_log(const char *dir, const char *fmt, ...) {
    char msg[2048], path[4096], line[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(line, sizeof line, "[%s] %s", stamp, msg);
    star_error err;
    if (path_join(path, sizeof path, dir, "log.txt", &err) != 0 || file_append_line(path, line, &err) != 0)
        star_error_print(&err);
}

// Progress: one live line on a terminal, plain lines otherwise (one per generation).
static void progress(run_state *s, int gen, int final_line) {
    const run_spec *sp = s->spec;
    if (sp->quiet) return;
    int every = sp->params.generations / 20 > 1 ? sp->params.generations / 20 : 1;
    if (!s->tty && (!final_line || (gen % every != 0 && gen != sp->params.generations))) return;
    int total_gens = sp->params.generations + 1;
    long per_gen = sp->params.pop_size;
    long expected = per_gen * total_gens;
    long left = expected - s->n_eval;
    if (left < 0) left = 0;
    double per_eval = s->n_new > 0 ? s->eval_seconds / (double)s->n_new : 0;
    char best[512] = "";
    size_t off = 0;
    for (int i = 0; i < sp->n_obj && off < sizeof best; i++)
        off += (size_t)snprintf(best + off, sizeof best - off, " %s %.4g", sp->obj_names[i], s->best[i]);
    char line[1024];
    snprintf(line, sizeof line, "gen %d/%d  evals %ld done, ~%ld left  best:%s  ~%.0fs left", gen,
             total_gens - 1, s->n_eval, left, best, per_eval * (double)left);
    if (s->tty) {
        fprintf(stderr, "\r\033[K%s%s", line, final_line ? "\n" : "");
    } else if (final_line) {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

// One evaluation at one fidelity: the stored result when the archive has it (a resumed
// run), else a new evaluation, appended to the archive the moment it ends.
static int evaluate_at(run_state *s, individual *ind, int fidelity, star_error *err) {
    const run_spec *sp = s->spec;
    uint64_t hash = ind->hash;
    if (fitness_cache_get(&s->stored, archive_key(hash, fidelity), ind)) {
        ind->hash = hash;
        s->n_eval++;
    } else {
        double t0 = star_now_s();
        int rc = fidelity ? sp->prob->evaluate_fidelity(sp->prob->ctx, ind, fidelity, err)
                          : sp->prob->evaluate_batch(sp->prob->ctx, &ind, 1, err);
        if (rc != 0) return -1;
        double dt = star_now_s() - t0;
        s->eval_seconds += dt;
        archive_record r = {.gen = s->gen,
                            .eval = s->n_eval,
                            .fidelity = fidelity,
                            .ind = ind,
                            .obj_names = sp->obj_names,
                            .n_obj = sp->n_obj,
                            .seed = sp->eval_seed ? sp->eval_seed(sp->ctx, hash) : 0,
                            .wall_s = dt,
                            .write_x = sp->write_x,
                            .write_metrics = sp->write_metrics,
                            .ctx = sp->ctx};
        if (archive_append(s->archive_path, &r, err) != 0) return -1;
        s->n_eval++;
        s->n_new++;
    }
    if (individual_feasible(ind))
        for (int k = 0; k < sp->n_obj; k++)
            if (ind->f[k] < s->best[k]) s->best[k] = ind->f[k];
    progress(s, s->gen, 0);
    return 0;
}

static const individual *halving_pool;
static int halving_order(const void *a, const void *b) {
    int ia = *(const int *)a, ib = *(const int *)b;
    int c = survival_compare(&halving_pool[ia], &halving_pool[ib]);
    return c ? c : (ia > ib) - (ia < ib);
}

// The problem as the driver sees it: each generation's new candidates, evaluated one at
// a time (or by successive halving over the rungs), each result archived at once.
static int archived_evaluate(void *ctx, individual **inds, int n, star_error *err) {
    run_state *s = ctx;
    const run_spec *sp = s->spec;
    if (sp->n_rungs == 0) {
        for (int i = 0; i < n; i++)
            if (evaluate_at(s, inds[i], 0, err) != 0) return -1;
        return 0;
    }
    int *alive = star_malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    individual *view = star_malloc(sizeof(individual) * (size_t)(n > 0 ? n : 1));
    int n_alive = n, rc = 0;
    for (int i = 0; i < n; i++) alive[i] = i;
    for (int r = 0; r < sp->n_rungs && rc == 0; r++) {
        for (int a = 0; a < n_alive && rc == 0; a++) rc = evaluate_at(s, inds[alive[a]], sp->rungs[r], err);
        if (rc != 0 || r + 1 == sp->n_rungs) break;
        // Rank the survivors of this rung among themselves; the best `keep` go on.
        for (int a = 0; a < n_alive; a++) view[a] = *inds[alive[a]];  // shallow: only results are read
        population_rank(view, n_alive, sp->n_obj);
        int *order = star_malloc(sizeof(int) * (size_t)n_alive);
        for (int a = 0; a < n_alive; a++) order[a] = a;
        halving_pool = view;
        qsort(order, (size_t)n_alive, sizeof(int), halving_order);
        int n_next = (int)ceil(sp->keep * n_alive);
        if (n_next < 1) n_next = 1;
        int kept = 0, *next = star_malloc(sizeof(int) * (size_t)n_alive);
        for (int a = 0; a < n_next; a++)
            if (individual_feasible(&view[order[a]])) next[kept++] = alive[order[a]];
        // Keep the depth order of the batch so the archive's order does not depend on ranks' ties.
        qsort(next, (size_t)kept, sizeof(int), int_ascending);
        memcpy(alive, next, sizeof(int) * (size_t)kept);
        n_alive = kept;
        free(next);
        free(order);
    }
    free(view);
    free(alive);
    return rc;
}

static void write_individual(const run_spec *sp, const individual *ind, json_writer *w) {
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)ind->hash);
    jw_obj_begin(w);
    jw_kv_str(w, "hash", hash);
    jw_key(w, "x");
    if (sp->write_x)
        sp->write_x(sp->ctx, ind->x, w);
    else
        jw_null(w);
    jw_key(w, "objectives");
    jw_obj_begin(w);
    for (int i = 0; i < sp->n_obj; i++) jw_kv_double(w, sp->obj_names[i], ind->f[i]);
    jw_obj_end(w);
    jw_kv_str(w, "status", individual_feasible(ind) ? "ok" : "infeasible");
    jw_kv_str(w, "reason", ind->reason);
    jw_kv_int(w, "rank", ind->rank);
    jw_kv_double(w, "crowding", ind->crowding);
    jw_obj_end(w);
}

// Sets the hypervolume reference from generation 0 where the spec leaves it open.
static void settle_hv_ref(run_state *s, const individual *pop, int n) {
    const run_spec *sp = s->spec;
    for (int k = 0; k < sp->n_obj; k++) {
        if (!isnan(sp->hv_ref[k])) {
            s->hv_ref[k] = sp->hv_ref[k];
            continue;
        }
        double worst = 0;
        for (int i = 0; i < n; i++)
            if (individual_feasible(&pop[i]) && isfinite(pop[i].f[k]) && pop[i].f[k] > worst) worst = pop[i].f[k];
        s->hv_ref[k] = worst > 0 ? 1.1 * worst : 1.0;
    }
    s->hv_ref_set = 1;
}

static int normalized_hv(run_state *s, const individual *pop, int n, double *out, star_error *err) {
    int m = s->spec->n_obj;
    double *f = star_malloc(sizeof(double) * (size_t)(n > 0 ? n : 1) * (size_t)m);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!individual_feasible(&pop[i])) continue;
        int finite = 1;
        for (int j = 0; j < m; j++) finite &= isfinite(pop[i].f[j]);
        if (!finite) continue;
        for (int j = 0; j < m; j++) f[k * m + j] = pop[i].f[j] / s->hv_ref[j];
        k++;
    }
    double ref[SEARCH_MAX_OBJ];
    for (int j = 0; j < m; j++) ref[j] = 1.0;
    int rc = hypervolume(f, k, m, ref, out, err);
    free(f);
    return rc;
}

static int on_generation(void *ctx, int gen, const individual *pop, int n, star_error *err) {
    run_state *s = ctx;
    const run_spec *sp = s->spec;
    if (!s->hv_ref_set) settle_hv_ref(s, pop, n);
    double hv = 0;
    if (normalized_hv(s, pop, n, &hv, err) != 0) return -1;
    if (s->n_hv < RUN_MAX_GENERATIONS_HV) {
        s->hv_history = star_realloc(s->hv_history, sizeof(double) * (size_t)(s->n_hv + 1));
        s->hv_history[s->n_hv++] = hv;
    }

    json_writer w;
    jw_init(&w);
    jw_obj_begin(&w);
    jw_kv_int(&w, "generation", gen);
    jw_kv_double(&w, "hypervolume", hv);
    jw_key(&w, "hypervolume_reference");
    jw_arr_begin(&w);
    for (int k = 0; k < sp->n_obj; k++) jw_double(&w, s->hv_ref[k]);
    jw_arr_end(&w);
    jw_key(&w, "population");
    jw_arr_begin(&w);
    for (int i = 0; i < n; i++) write_individual(sp, &pop[i], &w);
    jw_arr_end(&w);
    jw_key(&w, "front");
    jw_arr_begin(&w);
    for (int i = 0; i < n; i++)
        if (pop[i].rank == 0 && individual_feasible(&pop[i])) jw_int(&w, i);
    jw_arr_end(&w);
    jw_obj_end(&w);
    char path[4096], name[64];
    snprintf(name, sizeof name, "generations/gen_%04d.json", gen);
    int rc = path_join(path, sizeof path, sp->dir, name, err);
    if (rc == 0) rc = file_write_atomic(path, w.buf, w.len, err);

    if (rc == 0) {
        jw_reset(&w);
        jw_obj_begin(&w);
        jw_kv_int(&w, "generation", gen);
        jw_kv_int(&w, "generations", sp->params.generations);
        jw_kv_int(&w, "evaluations", s->n_eval);
        jw_key(&w, "hypervolume");
        jw_arr_begin(&w);
        for (int i = 0; i < s->n_hv; i++) jw_double(&w, s->hv_history[i]);
        jw_arr_end(&w);
        jw_kv_bool(&w, "complete", gen >= sp->params.generations);
        jw_obj_end(&w);
        rc = path_join(path, sizeof path, sp->dir, "checkpoint.json", err);
        if (rc == 0) rc = file_write_atomic(path, w.buf, w.len, err);
    }
    jw_free(&w);
    if (rc != 0) return -1;

    int n_front = 0;
    for (int i = 0; i < n; i++) n_front += pop[i].rank == 0 && individual_feasible(&pop[i]);
    run_log(sp->dir, "generation %d done: %ld evaluations in the archive, front of %d, hypervolume %.6f", gen,
            s->n_eval, n_front, hv);
    progress(s, gen, 1);
    s->gen = gen + 1;
    return 0;
}

int run_search(const run_spec *sp, int resume, search_result *result, star_error *err) {
    run_state s;
    memset(&s, 0, sizeof s);
    s.spec = sp;
    s.tty = isatty(2);
    s.t_start = star_now_s();
    for (int k = 0; k < SEARCH_MAX_OBJ; k++) s.best[k] = INFINITY;
    fitness_cache_init(&s.stored);
    char path[4096];
    int rc = -1;

    if (dir_create(sp->dir, err) != 0) goto out;
    if (path_join(path, sizeof path, sp->dir, "generations", err) != 0 || dir_create(path, err) != 0) goto out;
    if (path_join(s.archive_path, sizeof s.archive_path, sp->dir, "archive.jsonl", err) != 0) goto out;
    if (path_join(path, sizeof path, sp->dir, "config.yaml", err) != 0) goto out;
    if (resume) {
        if (!file_exists(path)) {
            STAR_FAIL(err, "%s: no config.yaml here: not a run directory to resume", sp->dir);
            goto out;
        }
        if (archive_load(s.archive_path, sp->obj_names, sp->n_obj, &s.stored, &s.n_stored, err) != 0) goto out;
        run_log(sp->dir, "resuming: %ld evaluations in the archive", s.n_stored);
    } else {
        if (file_exists(s.archive_path)) {
            STAR_FAIL(err, "%s already holds a run (archive.jsonl); continue it with --resume, or choose another run.dir",
                      sp->dir);
            goto out;
        }
        if (file_write_atomic(path, sp->resolved_config, strlen(sp->resolved_config), err) != 0) goto out;
        run_log(sp->dir, "new run: population %d, %d generations, seed %llu", sp->params.pop_size,
                sp->params.generations, (unsigned long long)sp->params.seed);
    }

    problem archived = *sp->prob;
    archived.ctx = &s;
    archived.evaluate_batch = archived_evaluate;
    if (sp->n_rungs > 0 && !sp->prob->evaluate_fidelity) {
        STAR_FAIL(err, "the problem %s has one fidelity: remove evaluation.fidelity", sp->prob->name);
        goto out;
    }
    // Stored results are found by archived_evaluate (per fidelity), not by the driver's lookup.
    search_hooks hooks = {.ctx = &s, .on_generation = on_generation};
    rc = search_run(&sp->params, sp->rep, &archived, sp->alg, &hooks, result, err);
    if (rc == 0) {
        run_log(sp->dir, "run complete: %ld evaluations in the archive, %ld made by this process in %.1f s", s.n_eval,
                s.n_new, star_now_s() - s.t_start);
    } else {
        run_log(sp->dir, "run stopped: %s", err ? err->msg : "error");
    }
out:
    fitness_cache_free(&s.stored);
    free(s.hv_history);
    return rc;
}
