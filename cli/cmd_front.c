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
#include "cli/run_front.h"
#include "common/json.h"

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

static void print_table(FILE *out, const run_front *fr, const char *path) {
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
        if (g->has_hv_ref) {
            fprintf(out, "  reference point (hard limit, else 1.1 x worst feasible value of generation 0):");
            for (int k = 0; k < g->n_obj; k++) fprintf(out, " %s %.6g", g->obj_names[k], g->hv_ref[k]);
            fprintf(out, "\n");
        }
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

static void print_csv(FILE *out, const run_front *fr) {
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

static void print_json(FILE *out, const run_front *fr) {
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
    if (g->has_hv_ref) {
        jw_key(&w, "hypervolume_reference");
        jw_obj_begin(&w);
        for (int k = 0; k < g->n_obj; k++) jw_kv_double(&w, g->obj_names[k], g->hv_ref[k]);
        jw_obj_end(&w);
    }
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
    run_front fr;
    int rc = EXIT_FAIL;
    if (run_front_load(&fr, dir, (int)gen, objectives, &err) != 0) goto out;
    if (fmt == FORMAT_TABLE) print_table(stdout, &fr, fr.path);
    else if (fmt == FORMAT_CSV) print_csv(stdout, &fr);
    else print_json(stdout, &fr);
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) star_error_print(&err);
    run_front_free(&fr);
    return rc;
}
