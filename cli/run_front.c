#include "cli/run_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genome/genome_string.h"
#include "search/ranking.h"

// Maps --objectives onto the file's names (all of them when absent).
static int select_objectives(run_front *fr, const char *list, star_error *err) {
    fr->n_sel = 0;
    if (!list) {
        for (int k = 0; k < fr->g.n_obj; k++) fr->sel[fr->n_sel++] = k;
        return 0;
    }
    char buf[1024], have[SEARCH_MAX_OBJ * (RUN_OBJ_NAME_MAX + 2)] = "";
    for (int k = 0; k < fr->g.n_obj; k++) {
        strcat(have, k ? ", " : "");
        strcat(have, fr->g.obj_names[k]);
    }
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int k = 0; k < fr->g.n_obj; k++)
            if (!strcmp(fr->g.obj_names[k], tok)) found = k;
        if (found < 0)
            return STAR_FAIL(err, "--objectives: unknown objective '%s' (%s%s)", tok,
                             fr->g.n_obj ? "this run has: " : "the generation has no members", have);
        for (int j = 0; j < fr->n_sel; j++)
            if (fr->sel[j] == found) return STAR_FAIL(err, "--objectives: '%s' is named twice", tok);
        fr->sel[fr->n_sel++] = found;
    }
    if (fr->n_sel == 0) return STAR_FAIL(err, "--objectives: expected at least one of: %s", have);
    return 0;
}

// Orders points by the chosen objectives in turn, then by population index.
static int point_before(const front_point *a, const front_point *b, int n_obj) {
    for (int k = 0; k < n_obj; k++)
        if (a->f[k] != b->f[k]) return a->f[k] < b->f[k];
    return a->member < b->member;
}

// Insertion sort: fronts hold at most a population.
static void sort_points(front_point *p, int n, int n_obj) {
    for (int i = 1; i < n; i++) {
        front_point t = p[i];
        int j = i;
        for (; j > 0 && point_before(&t, &p[j - 1], n_obj); j--) p[j] = p[j - 1];
        p[j] = t;
    }
}

// The feasible non-dominated members and how many feasible members each dominates.
static int compute_front(run_front *fr, star_error *err) {
    const run_generation *g = &fr->g;
    int n = g->n, m = fr->n_sel;
    double *f = star_malloc(sizeof(double) * (size_t)(n > 0 ? n : 1) * (size_t)m);
    int *idx = star_malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!g->pop[i].feasible) continue;
        int finite = 1;
        for (int j = 0; j < m; j++) finite &= isfinite(g->pop[i].f[fr->sel[j]]);
        if (!finite) continue;  // a value that cannot be ranked (null in the file)
        for (int j = 0; j < m; j++) f[k * m + j] = g->pop[i].f[fr->sel[j]];
        idx[k++] = i;
    }
    fr->n_feasible = k;
    fr->pts = star_calloc((size_t)(k > 0 ? k : 1), sizeof *fr->pts);
    fr->n_pts = 0;
    for (int a = 0; a < k; a++) {
        int dominated = 0, dominates = 0;
        for (int b = 0; b < k; b++) {
            int d = pareto_dominance(&f[a * m], &f[b * m], m);
            dominated |= d < 0;
            dominates += d > 0;
        }
        if (dominated) continue;
        front_point *p = &fr->pts[fr->n_pts++];
        p->member = idx[a];
        memcpy(p->f, &f[a * m], sizeof(double) * (size_t)m);
        p->dominates = dominates;
        const run_member *mem = &g->pop[idx[a]];
        if (mem->x_kind == RUN_X_STRING) {
            genome gen;
            if (genome_parse(mem->x_string, &gen, err) != 0) {
                star_error_prefix(err, "%s: population[%d].x (hash %s)", fr->path, idx[a], mem->hash);
                free(f);
                free(idx);
                return -1;
            }
            genome_summary(&gen, p->classes, sizeof p->classes);
        }
    }
    sort_points(fr->pts, fr->n_pts, fr->n_sel);
    free(f);
    free(idx);
    return 0;
}

int run_front_load(run_front *fr, const char *run_dir, int gen, const char *objectives, star_error *err) {
    memset(fr, 0, sizeof *fr);
    fr->run_dir = run_dir;
    int got_gen;
    if (objectives && strlen(objectives) >= 1024) return STAR_FAIL(err, "--objectives: the list is too long");
    if (run_generation_path(run_dir, gen, fr->path, sizeof fr->path, &got_gen, err) != 0) return -1;
    if (run_generation_read(fr->path, &fr->g, err) != 0) return -1;
    if (fr->g.n == 0) fr->g.n_obj = 0;
    if (select_objectives(fr, objectives, err) != 0 || compute_front(fr, err) != 0) return -1;
    return run_hypervolume_read(run_dir, &fr->hv, &fr->n_hv, err);
}

void run_front_free(run_front *fr) {
    run_generation_free(&fr->g);
    free(fr->pts);
    free(fr->hv);
    fr->pts = NULL;
    fr->hv = NULL;
}
