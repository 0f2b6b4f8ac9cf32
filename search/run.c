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
    int root;    // this rank writes the run directory (rank 0, or the only process)
    int n_ranks; // ranks of the world
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
    if (sp->quiet || !s->root) return;
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

// One new evaluation, under the watchdog when the spec sets one.
static int evaluate_guarded(run_state *s, individual *ind, int fidelity, star_error *err) {
    const run_spec *sp = s->spec;
    int guard = sp->watchdog_s > 0 && s->n_ranks == 1;  // several ranks: one watchdog over the batch
    if (guard) {
        char what[128];
        snprintf(what, sizeof what, "the evaluation of candidate %016llx (generation %d, past %.0f s)",
                 (unsigned long long)ind->hash, s->gen, sp->watchdog_s);
        dist_watchdog_arm(sp->watchdog_s, what);
    }
    int rc = fidelity ? sp->prob->evaluate_fidelity(sp->prob->ctx, ind, fidelity, err)
                      : sp->prob->evaluate_batch(sp->prob->ctx, &ind, 1, err);
    if (guard) dist_watchdog_disarm();
    return rc;
}

static void note_best(run_state *s, const individual *ind) {
    if (individual_feasible(ind))
        for (int k = 0; k < s->spec->n_obj; k++)
            if (ind->f[k] < s->best[k]) s->best[k] = ind->f[k];
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
        int rc = evaluate_guarded(s, ind, fidelity, err);
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
    note_best(s, ind);
    progress(s, s->gen, 0);
    return 0;
}

// What a group's rank 0 sends for each candidate it evaluated, followed by the archive
// line: the results, or the evaluator's error (then the whole search stops, on every
// rank, as it would in a run of one process).
typedef struct result_head {
    int pos;  // the candidate's position in the batch
    int eval_failed;
    int status;
    double f[SEARCH_MAX_OBJ], cv, wall_s;
    char reason[256];
    star_error error;
} result_head;

static const double *cost_keys;
static int cost_order(const void *a, const void *b) {
    int ia = *(const int *)a, ib = *(const int *)b;
    if (cost_keys[ia] != cost_keys[ib]) return cost_keys[ia] > cost_keys[ib] ? -1 : 1;
    return (ia > ib) - (ia < ib);
}

// The results of one batch spread over the ranks (evaluate_spread).
typedef struct spread {
    int n;
    int *owner;      // group of each position; -1: a stored result
    char **blob;     // head + archive line of each new position (rank 0: all of them)
    size_t *blob_len;
    int n_have;      // rank 0: new positions whose blob is here
    int next_write;  // rank 0: first position not yet appended to the archive
    int write_rc;    // rank 0: the first failed append stops the appends (agreed at the end)
} spread;

static void spread_keep(spread *sp, int pos, char *blob, size_t len) {
    sp->blob[pos] = blob;
    sp->blob_len[pos] = len;
    sp->n_have++;
}

// Rank 0: appends the lines of the longest finished prefix of the batch, in batch order.
static void spread_write(run_state *s, spread *sp, star_error *err) {
    while (sp->next_write < sp->n && sp->write_rc == 0) {
        int a = sp->next_write;
        if (sp->owner[a] >= 0) {
            if (!sp->blob[a]) return;
            const result_head *h = (const result_head *)sp->blob[a];
            if (h->eval_failed) return;  // the search stops here, as it would with one process
            sp->write_rc = file_append_line(s->archive_path, sp->blob[a] + sizeof *h, err);
        }
        sp->next_write++;
    }
}

// Rank 0: takes the results other groups have sent (waiting for one when wait is 1).
static void spread_collect(run_state *s, spread *sp, int wait, star_error *err) {
    for (;;) {
        char *buf = NULL;
        size_t len = 0;
        int from = -1;
        int got = dist_try_recv(s->spec->world, wait, &buf, &len, &from, err);
        if (got < 0) {
            star_error_print(err);
            dist_abort(1);
        }
        if (got == 0) return;
        result_head h;
        if (len < sizeof h) {
            fprintf(stderr, "star: error: rank %d sent a result of %zu bytes (expected at least %zu)\n", from, len,
                    sizeof h);
            dist_abort(1);
        }
        memcpy(&h, buf, sizeof h);
        if (h.pos < 0 || h.pos >= sp->n || sp->owner[h.pos] < 0 || sp->blob[h.pos]) {
            fprintf(stderr, "star: error: rank %d sent a result for position %d, which is not its\n", from, h.pos);
            dist_abort(1);
        }
        spread_keep(sp, h.pos, buf, len);
        spread_write(s, sp, err);
        if (wait) return;
    }
}

// Evaluates inds[which[0..n)] at one fidelity over the ranks (see run.h), in place of
// n calls of evaluate_at: the same results, eval numbers and archive lines. Each group's
// rank 0 sends every result to rank 0 the moment it is ready; rank 0 appends the lines
// as the batch's finished prefix grows, then sends all of them to every rank.
static int evaluate_spread(run_state *s, individual **inds, const int *which, int n, int fidelity, star_error *err) {
    const run_spec *sp = s->spec;
    const dist_comm *world = sp->world;
    int n_groups = sp->n_groups > 0 ? sp->n_groups : 1;
    size_t cap = (size_t)(n > 0 ? n : 1);
    spread st = {.n = n,
                 .owner = star_malloc(sizeof(int) * cap),
                 .blob = star_calloc(cap, sizeof(char *)),
                 .blob_len = star_calloc(cap, sizeof(size_t))};
    long *eval_no = star_malloc(sizeof(long) * cap);
    double *cost = star_calloc(cap, sizeof(double));
    int *order = star_malloc(sizeof(int) * cap);
    double *load = star_calloc((size_t)n_groups, sizeof(double));
    int n_new = 0, rc = 0;
    // Stored results first (every rank read the same archive), and the eval numbers an
    // evaluation one at a time would give.
    for (int a = 0; a < n; a++) {
        individual *ind = inds[which[a]];
        uint64_t hash = ind->hash;
        eval_no[a] = s->n_eval++;
        if (fitness_cache_get(&s->stored, archive_key(hash, fidelity), ind)) {
            ind->hash = hash;
            st.owner[a] = -1;
            note_best(s, ind);
            continue;
        }
        cost[a] = sp->prob->cost ? sp->prob->cost(sp->prob->ctx, ind) : 1.0;
        order[n_new++] = a;
    }
    // Largest first, each to the least loaded group (ties: the lower group).
    cost_keys = cost;
    qsort(order, (size_t)n_new, sizeof(int), cost_order);
    for (int k = 0; k < n_new; k++) {
        int g = 0;
        for (int j = 1; j < n_groups; j++)
            if (load[j] < load[g]) g = j;
        st.owner[order[k]] = g;
        load[g] += cost[order[k]] > 0 ? cost[order[k]] : 1.0;
    }
    int leader = sp->group ? dist_rank(sp->group) == 0 : 1;
    int me = dist_rank(world);
    // Every rank waits at most as long as the busiest group may take: a rank that hangs,
    // or waits for one that hangs, stops the job instead of waiting for ever.
    if (sp->watchdog_s > 0 && n_new > 0) {
        int most = 0;
        for (int g = 0; g < n_groups; g++) {
            int c = 0;
            for (int k = 0; k < n_new; k++) c += st.owner[order[k]] == g;
            if (c > most) most = c;
        }
        char what[160];
        snprintf(what, sizeof what, "generation %d (%d new candidates, at most %d a group, %.0f s allowed each)", s->gen,
                 n_new, most, sp->watchdog_s);
        dist_watchdog_arm(sp->watchdog_s * most, what);
    }
    // This group's candidates, costliest first. After an evaluator error the rest of
    // them carry that error.
    star_error first_error;
    memset(&first_error, 0, sizeof first_error);
    int failed = 0;
    for (int k = 0; k < n_new; k++) {
        int a = order[k];
        if (st.owner[a] != sp->group_index) continue;
        individual *ind = inds[which[a]];
        result_head h;
        memset(&h, 0, sizeof h);
        h.pos = a;
        if (!failed) {
            double t0 = star_now_s();
            if (evaluate_guarded(s, ind, fidelity, &first_error) != 0) failed = 1;
            h.wall_s = star_now_s() - t0;
        }
        if (!leader) continue;
        json_writer w;
        jw_init(&w);
        if (failed) {
            h.eval_failed = 1;
            h.error = first_error;
        } else {
            h.status = ind->status;
            memcpy(h.f, ind->f, sizeof h.f);
            h.cv = ind->cv;
            snprintf(h.reason, sizeof h.reason, "%s", ind->reason);
            archive_record r = {.gen = s->gen,
                                .eval = eval_no[a],
                                .fidelity = fidelity,
                                .ind = ind,
                                .obj_names = sp->obj_names,
                                .n_obj = sp->n_obj,
                                .seed = sp->eval_seed ? sp->eval_seed(sp->ctx, ind->hash) : 0,
                                .wall_s = h.wall_s,
                                .rank = me,
                                .write_x = sp->write_x,
                                .write_metrics = sp->write_metrics,
                                .ctx = sp->ctx};
            archive_format(&r, &w);
        }
        size_t len = sizeof h + w.len;
        char *blob = star_malloc(len + 1);
        memcpy(blob, &h, sizeof h);
        memcpy(blob + sizeof h, w.buf ? w.buf : "", w.len);
        blob[len] = '\0';
        jw_free(&w);
        if (s->root) {
            spread_keep(&st, a, blob, len);
            spread_write(s, &st, err);
            spread_collect(s, &st, 0, err);
        } else {
            st.blob[a] = blob;  // kept until the send completes
            st.blob_len[a] = len;
            if (dist_post_send(world, blob, len, 0, err) != 0) {
                star_error_print(err);
                dist_abort(1);
            }
        }
    }
    // Rank 0 waits for the rest, then every rank learns every result.
    if (s->root)
        while (st.n_have < n_new) spread_collect(s, &st, 1, err);
    if (dist_sends_complete(err) != 0) {
        star_error_print(err);
        dist_abort(1);
    }
    // Rank 0 sends every new position's blob, in batch order, each after its length.
    char *buf = NULL;
    size_t buf_len = 0;
    if (s->root) {
        for (int a = 0; a < n; a++)
            if (st.owner[a] >= 0) buf_len += sizeof(uint64_t) + st.blob_len[a];
        buf = star_malloc(buf_len + 1);
        size_t at = 0;
        for (int a = 0; a < n; a++) {
            if (st.owner[a] < 0) continue;
            uint64_t len = st.blob_len[a];
            memcpy(buf + at, &len, sizeof len);
            memcpy(buf + at + sizeof len, st.blob[a], st.blob_len[a]);
            at += sizeof len + st.blob_len[a];
        }
    }
    if (dist_bcast_blob(world, &buf, &buf_len, 0, err) != 0) {
        star_error_print(err);
        dist_abort(1);
    }
    size_t off = 0;
    for (int a = 0; a < n && rc == 0; a++) {
        if (st.owner[a] < 0) continue;
        uint64_t len = 0;
        result_head h;
        if (off + sizeof len <= buf_len) memcpy(&len, buf + off, sizeof len);
        if (off + sizeof len + len > buf_len || len < sizeof h) {
            rc = STAR_FAIL(err, "the results of generation %d came back truncated", s->gen);
            break;
        }
        memcpy(&h, buf + off + sizeof len, sizeof h);
        off += sizeof len + len;
        if (h.eval_failed) {
            *err = h.error;
            int from = dist_group_leader(s->n_ranks, sp->ranks_per_group, st.owner[a]);
            if (from != 0) star_error_prefix(err, "rank %d", from);
            rc = -1;
            break;
        }
        individual *ind = inds[which[a]];
        ind->status = h.status;
        memcpy(ind->f, h.f, sizeof h.f);
        ind->cv = h.cv;
        snprintf(ind->reason, sizeof ind->reason, "%s", h.reason);
        s->eval_seconds += h.wall_s;
        s->n_new++;
        note_best(s, ind);
        progress(s, s->gen, 0);
    }
    free(buf);
    if (sp->watchdog_s > 0 && n_new > 0) dist_watchdog_disarm();
    if (rc == 0) rc = dist_agree(world, st.write_rc, err);
    for (int a = 0; a < n; a++) free(st.blob[a]);
    free(st.blob);
    free(st.blob_len);
    free(st.owner);
    free(load);
    free(order);
    free(cost);
    free(eval_no);
    return rc;
}

// Evaluates inds[which[0..n)] at one fidelity: one at a time in a run of one process,
// spread over the ranks otherwise.
static int evaluate_set(run_state *s, individual **inds, const int *which, int n, int fidelity, star_error *err) {
    if (s->n_ranks > 1) return evaluate_spread(s, inds, which, n, fidelity, err);
    for (int a = 0; a < n; a++)
        if (evaluate_at(s, inds[which[a]], fidelity, err) != 0) return -1;
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
    int *alive = star_malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) alive[i] = i;
    if (sp->n_rungs == 0) {
        int rc = evaluate_set(s, inds, alive, n, 0, err);
        free(alive);
        return rc;
    }
    individual *view = star_malloc(sizeof(individual) * (size_t)(n > 0 ? n : 1));
    int n_alive = n, rc = 0;
    for (int r = 0; r < sp->n_rungs && rc == 0; r++) {
        rc = evaluate_set(s, inds, alive, n_alive, sp->rungs[r], err);
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
        for (int a = 0; a < n_alive; a++) {
            const individual *c = &view[order[a]];
            int full = 0;
            for (int k = 0; k < sp->n_full_fidelity && !full; k++) full = c->hash == sp->full_fidelity[k];
            if ((a < n_next || full) && individual_feasible(c)) next[kept++] = alive[order[a]];
        }
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
    int rc = 0;
    if (!s->root) goto written;  // rank 0 writes the run directory
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
    rc = path_join(path, sizeof path, sp->dir, name, err);
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
written:
    jw_free(&w);
    if (sp->world && dist_agree(sp->world, rc, err) != 0) return -1;
    if (rc != 0) return -1;

    int n_front = 0;
    for (int i = 0; i < n; i++) n_front += pop[i].rank == 0 && individual_feasible(&pop[i]);
    if (s->root)
        run_log(sp->dir, "generation %d done: %ld evaluations in the archive, front of %d, hypervolume %.6f", gen,
                s->n_eval, n_front, hv);
    progress(s, gen, 1);
    s->gen = gen + 1;
    return 0;
}

// Rank 0 makes the run directory (or checks the one to resume) and reads the archive;
// every rank then parses the same archive text.
static int open_run(run_state *s, int resume, star_error *err) {
    const run_spec *sp = s->spec;
    char path[4096];
    int rc = 0;
    char *text = NULL;
    size_t len = 0;
    if (s->root) {
        rc = dir_create(sp->dir, err);
        if (rc == 0) rc = path_join(path, sizeof path, sp->dir, "generations", err);
        if (rc == 0) rc = dir_create(path, err);
        if (rc == 0) rc = path_join(path, sizeof path, sp->dir, "config.yaml", err);
        if (rc == 0 && resume && !file_exists(path))
            rc = STAR_FAIL(err, "%s: no config.yaml here: not a run directory to resume", sp->dir);
        if (rc == 0 && resume) rc = archive_read_text(s->archive_path, &text, &len, err);
        if (rc == 0 && !resume && file_exists(s->archive_path))
            rc = STAR_FAIL(err, "%s already holds a run (archive.jsonl); continue it with --resume, or choose another run.dir",
                           sp->dir);
        if (rc == 0 && !resume) rc = file_write_atomic(path, sp->resolved_config, strlen(sp->resolved_config), err);
    }
    if (sp->world && dist_agree(sp->world, rc, err) != 0) rc = -1;
    if (rc == 0 && resume) {
        if (sp->world && dist_bcast_blob(sp->world, &text, &len, 0, err) != 0) {
            star_error_print(err);
            dist_abort(1);
        }
        rc = archive_load_text(s->archive_path, text ? text : "", len, sp->obj_names, sp->n_obj, &s->stored,
                               &s->n_stored, err);
        if (sp->world && dist_agree(sp->world, rc, err) != 0) rc = -1;
    }
    free(text);
    if (rc != 0 || !s->root) return rc;
    if (resume) {
        // Files a killed process was writing atomically: never renamed into place, so unread.
        int stale = 0;
        if (dir_remove_stale_tmp(sp->dir, &stale, err) != 0 ||
            path_join(path, sizeof path, sp->dir, "generations", err) != 0 || dir_remove_stale_tmp(path, &stale, err) != 0)
            return -1;
        if (stale > 0) run_log(sp->dir, "resuming: removed %d temporary file(s) left by an interrupted write", stale);
        run_log(sp->dir, "resuming: %ld evaluations in the archive, %d rank(s)", s->n_stored, s->n_ranks);
    } else {
        run_log(sp->dir, "new run: population %d, %d generations, seed %llu, %d rank(s)", sp->params.pop_size,
                sp->params.generations, (unsigned long long)sp->params.seed, s->n_ranks);
    }
    return 0;
}

int run_search(const run_spec *sp, int resume, search_result *result, star_error *err) {
    run_state s;
    memset(&s, 0, sizeof s);
    s.spec = sp;
    s.tty = isatty(2);
    s.t_start = star_now_s();
    s.n_ranks = sp->world ? dist_size(sp->world) : 1;
    s.root = sp->world ? dist_rank(sp->world) == 0 : 1;
    for (int k = 0; k < SEARCH_MAX_OBJ; k++) s.best[k] = INFINITY;
    fitness_cache_init(&s.stored);
    int rc = -1;

    if (s.n_ranks > 1 && (!sp->group || sp->ranks_per_group < 1 || sp->n_groups < 1)) {
        STAR_FAIL(err, "run_search: %d ranks but no groups (run_spec.group)", s.n_ranks);
        goto out;
    }
    if (path_join(s.archive_path, sizeof s.archive_path, sp->dir, "archive.jsonl", err) != 0) goto out;
    if (sp->n_rungs > 0 && !sp->prob->evaluate_fidelity) {
        STAR_FAIL(err, "the problem %s has one fidelity: remove evaluation.fidelity", sp->prob->name);
        goto out;
    }
    if (open_run(&s, resume, err) != 0) goto out;

    problem archived = *sp->prob;
    archived.ctx = &s;
    archived.evaluate_batch = archived_evaluate;
    // Stored results are found by archived_evaluate (per fidelity), not by the driver's lookup.
    search_hooks hooks = {.ctx = &s, .on_generation = on_generation};
    rc = search_run(&sp->params, sp->rep, &archived, sp->alg, &hooks, result, err);
    if (!s.root) {
    } else if (rc == 0) {
        run_log(sp->dir, "run complete: %ld evaluations in the archive, %ld made by this run in %.1f s", s.n_eval,
                s.n_new, star_now_s() - s.t_start);
    } else {
        run_log(sp->dir, "run stopped: %s", err ? err->msg : "error");
    }
out:
    fitness_cache_free(&s.stored);
    free(s.hv_history);
    return rc;
}
