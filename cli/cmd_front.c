// star front RUN_DIR [--gen N] [--objectives a,b] [--format table|csv|json]
//
// The Pareto front of one generation of a run: its feasible members that no other
// feasible member dominates on the chosen objectives (all by default, recomputed when
// --objectives picks fewer), sorted by the first, each with how many feasible members
// it dominates and, for architecture runs, its genome and classes. Ends with the run's
// hypervolume per generation (checkpoint.json).
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_read.h"
#include "common/json.h"
#include "genome/genome_string.h"
#include "search/ranking.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star front RUN_DIR [--gen N] [--objectives A,B...] [--format table|csv|json]\n\n"
            "Prints the feasible non-dominated members of the last generation of a run (or of\n"
            "generation N), sorted by the first objective: the objective values, how many\n"
            "feasible members of the population each one dominates, and for an architecture\n"
            "search its classes (e.g. 4xSA-1 4xGMemless) and genome string. --objectives\n"
            "keeps only the named objectives (in that order) and recomputes non-domination on\n"
            "them. The table and JSON end with the hypervolume of every generation (on all\n"
            "objectives, normalized by the run's reference point; checkpoint.json); CSV holds\n"
            "the front only.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star front: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star front --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

// One point of the front.
typedef struct front_point {
    int member;               // index in the population
    double f[SEARCH_MAX_OBJ]; // the chosen objectives
    int dominates;
    char classes[256];
} front_point;

typedef struct front {
    const char *run_dir;
    const char *path;  // the generation file
    run_generation g;
    int sel[SEARCH_MAX_OBJ], n_sel;  // chosen objectives (indices into g.obj_names)
    int n_feasible;
    front_point *pts;
    int n_pts;
    double *hv;
    int n_hv;
} front;

// Maps --objectives onto the file's names (all of them when absent).
static int select_objectives(front *fr, const char *list, star_error *err) {
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
static int compute_front(front *fr, star_error *err) {
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

// The candidate in a table cell: a genome string, or a shortened vector.
static void print_x_short(FILE *out, const run_member *m) {
    if (m->x_kind == RUN_X_STRING) {
        fprintf(out, "%s", m->x_string);
    } else if (m->x_kind == RUN_X_VECTOR) {
        fprintf(out, "[");
        int show = m->n_x <= 4 ? m->n_x : 3;
        for (int i = 0; i < show; i++) fprintf(out, "%s%.4g", i ? ", " : "", m->x_vec[i]);
        if (show < m->n_x) fprintf(out, ", ... %d values", m->n_x);
        fprintf(out, "]");
    }
}

static void print_table(FILE *out, const front *fr, const char *path) {
    const run_generation *g = &fr->g;
    int genomes = 0;
    for (int j = 0; j < fr->n_pts; j++) genomes |= g->pop[fr->pts[j].member].x_kind == RUN_X_STRING;
    fprintf(out, "%s: generation %d, front of %d (non-dominated of %d feasible, population %d)\n", path,
            g->generation, fr->n_pts, fr->n_feasible, g->n);
    fprintf(out, "%4s", "#");
    for (int k = 0; k < fr->n_sel; k++) fprintf(out, " %14s", g->obj_names[fr->sel[k]]);
    fprintf(out, " %9s", "dominates");
    if (genomes) fprintf(out, "  %-28s", "classes");
    fprintf(out, "  %s\n", genomes ? "genome" : "x");
    for (int j = 0; j < fr->n_pts; j++) {
        const front_point *p = &fr->pts[j];
        fprintf(out, "%4d", j + 1);
        for (int k = 0; k < fr->n_sel; k++) fprintf(out, " %14.6g", p->f[k]);
        fprintf(out, " %9d", p->dominates);
        if (genomes) fprintf(out, "  %-28s", p->classes);
        fprintf(out, "  ");
        print_x_short(out, &g->pop[p->member]);
        fprintf(out, "\n");
    }
    if (fr->n_hv) {
        fprintf(out, "hypervolume by generation (all objectives, normalized by the run's reference point):\n");
        for (int i = 0; i < fr->n_hv; i++) fprintf(out, "  gen %4d  %.6f\n", i, fr->hv[i]);
    }
}

// A CSV field, quoted when it holds a comma, a quote or a line break.
static void csv_field(FILE *out, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void print_csv(FILE *out, const front *fr) {
    const run_generation *g = &fr->g;
    int genomes = 0;
    for (int j = 0; j < fr->n_pts; j++) genomes |= g->pop[fr->pts[j].member].x_kind == RUN_X_STRING;
    for (int k = 0; k < fr->n_sel; k++) {
        csv_field(out, g->obj_names[fr->sel[k]]);
        fputc(',', out);
    }
    fprintf(out, "dominates,hash,classes,%s\n", genomes ? "genome" : "x");
    for (int j = 0; j < fr->n_pts; j++) {
        const front_point *p = &fr->pts[j];
        const run_member *m = &g->pop[p->member];
        for (int k = 0; k < fr->n_sel; k++) fprintf(out, "%.17g,", p->f[k]);
        fprintf(out, "%d,%s,", p->dominates, m->hash);
        csv_field(out, p->classes);
        fputc(',', out);
        if (m->x_kind == RUN_X_STRING) {
            csv_field(out, m->x_string);
        } else if (m->x_kind == RUN_X_VECTOR) {
            fputc('"', out);
            for (int i = 0; i < m->n_x; i++) fprintf(out, "%s%.17g", i ? " " : "", m->x_vec[i]);
            fputc('"', out);
        }
        fputc('\n', out);
    }
}

static void print_json(FILE *out, const front *fr) {
    const run_generation *g = &fr->g;
    json_writer w;
    jw_init(&w);
    jw_obj_begin(&w);
    jw_kv_str(&w, "run", fr->run_dir);
    jw_kv_int(&w, "generation", g->generation);
    jw_key(&w, "objectives");
    jw_arr_begin(&w);
    for (int k = 0; k < fr->n_sel; k++) jw_str(&w, g->obj_names[fr->sel[k]]);
    jw_arr_end(&w);
    jw_kv_int(&w, "population", g->n);
    jw_kv_int(&w, "feasible", fr->n_feasible);
    jw_key(&w, "front");
    jw_arr_begin(&w);
    for (int j = 0; j < fr->n_pts; j++) {
        const front_point *p = &fr->pts[j];
        const run_member *m = &g->pop[p->member];
        jw_obj_begin(&w);
        jw_kv_int(&w, "member", p->member);
        jw_kv_str(&w, "hash", m->hash);
        jw_key(&w, "objectives");
        jw_obj_begin(&w);
        for (int k = 0; k < fr->n_sel; k++) jw_kv_double(&w, g->obj_names[fr->sel[k]], p->f[k]);
        jw_obj_end(&w);
        jw_kv_int(&w, "dominates", p->dominates);
        if (m->x_kind == RUN_X_STRING) {
            jw_kv_str(&w, "genome", m->x_string);
            jw_kv_str(&w, "classes", p->classes);
        } else if (m->x_kind == RUN_X_VECTOR) {
            jw_key(&w, "x");
            jw_arr_begin(&w);
            for (int i = 0; i < m->n_x; i++) jw_double(&w, m->x_vec[i]);
            jw_arr_end(&w);
        }
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "hypervolume");
    jw_arr_begin(&w);
    for (int i = 0; i < fr->n_hv; i++) jw_double(&w, fr->hv[i]);
    jw_arr_end(&w);
    jw_obj_end(&w);
    fprintf(out, "%s\n", w.buf);
    jw_free(&w);
}

int cmd_front(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *dir = NULL, *objectives = NULL, *format = "table";
    long gen = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--gen") || !strcmp(o, "--objectives") || !strcmp(o, "--format")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", o);
            const char *v = argv[++i];
            if (o[2] == 'o') {
                objectives = v;
            } else if (o[2] == 'f') {
                format = v;
            } else {
                char *end;
                gen = strtol(v, &end, 10);
                if (end == v || *end || gen < 0 || gen > 99999999)
                    return usage_error("--gen: expected a generation number >= 0, got '%s'", v);
            }
            continue;
        }
        if (o[0] == '-') return usage_error("unknown option '%s'", o);
        if (dir) return usage_error("unexpected argument '%s' (one RUN_DIR only)", o);
        dir = o;
    }
    if (!dir) return usage_error("no run directory given");
    int fmt = !strcmp(format, "table") ? FORMAT_TABLE : !strcmp(format, "csv") ? FORMAT_CSV
              : !strcmp(format, "json")  ? FORMAT_JSON
                                         : -1;
    if (fmt < 0) return usage_error("--format: expected table, csv or json, got '%s'", format);
    if (objectives && strlen(objectives) >= 1024) return usage_error("--objectives: the list is too long");

    star_error err;
    memset(&err, 0, sizeof err);
    front fr;
    memset(&fr, 0, sizeof fr);
    fr.run_dir = dir;
    char path[4096];
    int got_gen, rc = EXIT_FAIL;
    if (run_generation_path(dir, (int)gen, path, sizeof path, &got_gen, &err) != 0) goto out;
    fr.path = path;
    if (run_generation_read(path, &fr.g, &err) != 0) goto out;
    if (fr.g.n == 0) fr.g.n_obj = 0;
    if (select_objectives(&fr, objectives, &err) != 0 || compute_front(&fr, &err) != 0) goto out;
    if (run_hypervolume_read(dir, &fr.hv, &fr.n_hv, &err) != 0) goto out;
    if (fmt == FORMAT_TABLE) print_table(stdout, &fr, path);
    else if (fmt == FORMAT_CSV) print_csv(stdout, &fr);
    else print_json(stdout, &fr);
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) star_error_print(&err);
    run_generation_free(&fr.g);
    free(fr.pts);
    free(fr.hv);
    return rc;
}
