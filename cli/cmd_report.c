// star report RUN_DIR [--out FILE.html]
//
// One self-contained HTML page of a run (images beside it, referenced by relative
// paths): the front table, the charts, the architecture pictures of the front and the
// baselines, the accounting (evaluations, infeasible ones grouped by reason, time per
// candidate) and the resolved config.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_picture.h"
#include "cli/commands.h"
#include "cli/run_plots.h"
#include "cli/run_view.h"
#include "common/file.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "plot/arch_svg.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star report RUN_DIR [--out FILE.html]\n\n"
            "Writes one HTML page about a run (default RUN_DIR/report/index.html) with its images\n"
            "beside it: the front of the last generation as a table (objectives with units, how\n"
            "many members each dominates, accuracy, classes, genome), the baselines (the config's\n"
            "seed_with genomes), the charts of `star plot` (PNG), an SVG picture of every front\n"
            "member and baseline (`star genome draw`), the accounting (evaluations, infeasible ones\n"
            "grouped by reason, time per candidate: mean, median, max, total) and the resolved\n"
            "config. A build without PLplot writes the page without charts and says so in it.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star report: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star report --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

// A value in the axis's display units, with about 4 significant digits.
static void put_value(FILE *f, const run_axis *ax, double stored) {
    if (!isfinite(stored)) {
        fputs("&ndash;", f);
        return;
    }
    double v = stored * ax->scale;
    if (fabs(v) >= 1e5 || (v != 0 && fabs(v) < 1e-3)) fprintf(f, "%.3e", v);
    else fprintf(f, "%.4g", v);
}

// Reason with its numbers replaced by '#', so that "params 1.2e+06 > max 1e+06" and
// "params 1.4e+06 > max 1e+06" fall in one group.
static void reason_key(const char *r, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = r; *p && n + 2 < cap;) {
        if (*p >= '0' && *p <= '9') {
            while ((*p >= '0' && *p <= '9') || *p == '.' ||
                   ((*p == 'e' || *p == 'E') && (p[1] == '+' || p[1] == '-' || (p[1] >= '0' && p[1] <= '9'))) ||
                   ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
                p++;
            out[n++] = '#';
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char css[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;color:#1d1d1d;margin:0;background:#f6f7f9}\n"
    "main{max-width:1320px;margin:0 auto;padding:24px 32px 48px;background:#fff}\n"
    "h1{font-size:26px;margin:4px 0 4px}h2{font-size:20px;margin:34px 0 10px;border-bottom:2px solid #e3e6ea;"
    "padding-bottom:4px}\n"
    ".sub{color:#555;font-size:14px;margin-bottom:14px}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}\n"
    ".card{border:1px solid #e3e6ea;border-radius:8px;padding:10px 16px;min-width:130px;background:#fafbfc}\n"
    ".card b{display:block;font-size:22px}.card span{font-size:12px;color:#555}\n"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}\n"
    "th,td{border-bottom:1px solid #e6e8eb;padding:5px 10px;text-align:right;vertical-align:top}\n"
    "th{background:#f1f3f5;font-weight:600}tr:nth-child(even) td{background:#fafbfc}\n"
    "td.l,th.l{text-align:left}td.g{font-family:'DejaVu Sans Mono',monospace;font-size:11px;text-align:left;"
    "word-break:break-all;max-width:460px}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0;flex:1 1 600px;max-width:640px}\n"
    "figure img{width:100%;border:1px solid #e3e6ea;border-radius:6px}figcaption{font-size:12px;color:#555}\n"
    ".archs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
    ".arch{border:1px solid #e3e6ea;border-radius:8px;padding:8px;width:410px}\n"
    ".arch h3{font-size:14px;margin:2px 4px 6px}.arch img{width:100%}\n"
    "pre{background:#f6f8fa;border:1px solid #e3e6ea;border-radius:6px;padding:12px;font-size:12px;"
    "overflow-x:auto}\n"
    ".note{background:#fff7e6;border:1px solid #f0d9a8;border-radius:6px;padding:8px 12px;font-size:13px}\n";

typedef struct report {
    const run_view *v;
    const char *out_dir;
    FILE *f;
    int have_accuracy;
} report;

// The picture of a genome string into out_dir/name.svg; 0 when written.
static int draw_string(report *r, const char *x, const char *name) {
    genome g;
    star_error err = {0};
    char path[4096], file[160];
    snprintf(file, sizeof file, "%s.svg", name);
    if (genome_parse(x, &g, &err) != 0 || path_join(path, sizeof path, r->out_dir, file, &err) != 0) return -1;
    genome_dims dims = {r->v->cfg.space.width, r->v->cfg.space.vocab};
    if (arch_picture_write(path, &g, dims, &err) != 0) {
        star_error_print(&err);
        return -1;
    }
    return 0;
}

static void table_head(report *r, int with_rank) {
    const run_view *v = r->v;
    FILE *f = r->f;
    fprintf(f, "<table><tr>%s", with_rank ? "<th>#</th>" : "<th class=l>baseline</th>");
    for (int k = 0; k < v->n_obj; k++) {
        fprintf(f, "<th>");
        xml_put_escaped(f, v->axis[k].name);
        if (v->axis[k].unit[0]) {
            fprintf(f, "<br><small>");
            xml_put_escaped(f, v->axis[k].unit);
            fprintf(f, "</small>");
        }
        fprintf(f, "</th>");
    }
    if (with_rank) fprintf(f, "<th>dominates</th>");
    if (r->have_accuracy) fprintf(f, "<th>accuracy</th>");
    fprintf(f, "%s<th class=l>%s</th></tr>\n", v->architecture ? "<th class=l>classes</th>" : "",
            v->architecture ? "genome" : "x");
}

static void front_table(report *r) {
    const run_view *v = r->v;
    const run_front *fr = &v->fr;
    FILE *f = r->f;
    fprintf(f, "<h2 id=front>Front</h2>\n<p class=sub>Generation %d: %d non-dominated of %d feasible (population %d), "
               "sorted by %s. <i>dominates</i>: feasible members of that generation it dominates.</p>\n",
            fr->g.generation, fr->n_pts, fr->n_feasible, fr->g.n, v->n_obj ? v->axis[0].name : "-");
    table_head(r, 1);
    for (int j = 0; j < fr->n_pts; j++) {
        const front_point *p = &fr->pts[j];
        const run_member *m = &fr->g.pop[p->member];
        if (v->architecture) fprintf(f, "<tr><td><a href=\"#arch-front-%d\">%d</a></td>", j + 1, j + 1);
        else fprintf(f, "<tr><td>%d</td>", j + 1);
        for (int k = 0; k < v->n_obj; k++) {
            fprintf(f, "<td>");
            put_value(f, &v->axis[k], p->f[k]);
            fprintf(f, "</td>");
        }
        fprintf(f, "<td>%d</td>", p->dominates);
        if (r->have_accuracy) {
            int e = run_view_find(v, m->hash);
            if (e >= 0 && isfinite(v->evals[e].accuracy)) fprintf(f, "<td>%.3f</td>", v->evals[e].accuracy);
            else fprintf(f, "<td>&ndash;</td>");
        }
        if (v->architecture) {
            fprintf(f, "<td class=l>");
            xml_put_escaped(f, p->classes);
            fprintf(f, "</td>");
        }
        fprintf(f, "<td class=g>");
        if (m->x_kind == RUN_X_STRING) {
            xml_put_escaped(f, m->x_string);
        } else if (m->x_kind == RUN_X_VECTOR) {
            for (int i = 0; i < m->n_x && i < 4; i++) fprintf(f, "%s%.4g", i ? ", " : "[", m->x_vec[i]);
            fprintf(f, m->n_x > 4 ? ", &hellip; %d values]" : "]", m->n_x);
        }
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void baseline_table(report *r) {
    const run_view *v = r->v;
    FILE *f = r->f;
    if (!v->n_base) return;
    fprintf(f, "<h3>Baselines</h3>\n<p class=sub>The config's <code>algorithm.seed_with</code> genomes, as "
               "evaluated in this run.</p>\n");
    table_head(r, 0);
    for (int b = 0; b < v->n_base; b++) {
        const run_baseline *bl = &v->base[b];
        fprintf(f, "<tr><td class=l><a href=\"#arch-base-%d\">", b + 1);
        xml_put_escaped(f, bl->name);
        fprintf(f, "</a>");
        if (bl->infeasible) {
            fprintf(f, "<br><small>");
            xml_put_escaped(f, bl->problem);
            fprintf(f, "</small>");
        }
        fprintf(f, "</td>");
        if (bl->eval < 0) {
            fprintf(f, "<td class=l colspan=%d>not shown: ", v->n_obj + 2 + r->have_accuracy);
            xml_put_escaped(f, bl->problem);
            fprintf(f, "</td></tr>\n");
            continue;
        }
        const run_eval *e = &v->evals[bl->eval];
        for (int k = 0; k < v->n_obj; k++) {
            fprintf(f, "<td>");
            put_value(f, &v->axis[k], e->f[k]);
            fprintf(f, "</td>");
        }
        if (r->have_accuracy) {
            if (isfinite(e->accuracy)) fprintf(f, "<td>%.3f</td>", e->accuracy);
            else fprintf(f, "<td>&ndash;</td>");
        }
        genome g;
        star_error err = {0};
        char summary[256] = "";
        if (e->x && genome_parse(e->x, &g, &err) == 0) genome_summary(&g, summary, sizeof summary);
        fprintf(f, "<td class=l>");
        xml_put_escaped(f, summary);
        fprintf(f, "</td><td class=g>");
        xml_put_escaped(f, e->x ? e->x : "");
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void charts(report *r, int have, const run_plot_files *pf, const char *why) {
    FILE *f = r->f;
    fprintf(f, "<h2 id=charts>Charts</h2>\n");
    if (!have) {
        fprintf(f, "<p class=note>No charts: ");
        xml_put_escaped(f, why);
        fprintf(f, "</p>\n");
        return;
    }
    fprintf(f, "<p class=sub>Grey: every feasible evaluated candidate (its last fidelity). Blue: the front, numbered as "
               "in the table. Orange diamonds: baselines. Thin line: the points no other evaluated point beats "
               "in that pair. Dashed red: a hard limit.</p>\n<div class=figs>\n");
    for (int i = 0; i < pf->n; i++) {
        fprintf(f, "<figure><img src=\"%s.png\" alt=\"", pf->name[i]);
        xml_put_escaped(f, pf->caption[i]);
        fprintf(f, "\"><figcaption>");
        xml_put_escaped(f, pf->caption[i]);
        fprintf(f, "</figcaption></figure>\n");
    }
    fprintf(f, "</div>\n");
}

static void architectures(report *r) {
    const run_view *v = r->v;
    FILE *f = r->f;
    if (!v->architecture) return;
    fprintf(f, "<h2 id=architectures>Architectures</h2>\n<p class=sub>First LIV at the top. Solid arcs on the left: "
               "featurizer sharing (tied weights); dashed arcs on the right: feature-group sharing (reused K/V or "
               "state inputs), from owner to user.</p>\n<div class=archs>\n");
    for (int j = 0; j < v->fr.n_pts; j++) {
        const run_member *m = &v->fr.g.pop[v->fr.pts[j].member];
        char name[64];
        snprintf(name, sizeof name, "arch_front_%d", j + 1);
        if (m->x_kind != RUN_X_STRING || draw_string(r, m->x_string, name) != 0) continue;
        fprintf(f, "<div class=arch id=arch-front-%d><h3>Front #%d</h3><a href=\"%s.svg\"><img src=\"%s.svg\" "
                   "alt=\"front member %d\"></a></div>\n", j + 1, j + 1, name, name, j + 1);
    }
    for (int b = 0; b < v->n_base; b++) {
        const run_baseline *bl = &v->base[b];
        if (bl->eval < 0 || !v->evals[bl->eval].x) continue;
        char name[96];
        snprintf(name, sizeof name, "arch_baseline_%d", b + 1);
        if (draw_string(r, v->evals[bl->eval].x, name) != 0) continue;
        fprintf(f, "<div class=arch id=arch-base-%d><h3>Baseline: ", b + 1);
        xml_put_escaped(f, bl->name);
        fprintf(f, "</h3><a href=\"%s.svg\"><img src=\"%s.svg\" alt=\"baseline ", name, name);
        xml_put_escaped(f, bl->name);
        fprintf(f, "\"></a></div>\n");
    }
    fprintf(f, "</div>\n");
}

static void accounting(report *r) {
    const run_view *v = r->v;
    FILE *f = r->f;
    int n = v->n_evals, ok = 0, failed = 0, m = 0;
    double *t = star_malloc(sizeof(double) * (size_t)(n > 0 ? n : 1)), total = 0;
    for (int i = 0; i < n; i++) {
        ok += v->evals[i].ok;
        failed += v->evals[i].failed;
        if (isfinite(v->evals[i].wall_s)) {
            t[m++] = v->evals[i].wall_s;
            total += v->evals[i].wall_s;
        }
    }
    qsort(t, (size_t)m, sizeof *t, cmp_double);
    fprintf(f, "<h2 id=accounting>Accounting</h2>\n<table>\n");
    fprintf(f, "<tr><th class=l>evaluations (archive lines)</th><td>%d</td></tr>\n", n);
    fprintf(f, "<tr><th class=l>feasible</th><td>%d</td></tr>\n", ok);
    fprintf(f, "<tr><th class=l>infeasible</th><td>%d</td></tr>\n", n - ok);
    fprintf(f, "<tr><th class=l>of which failed (diverged, out of memory or time)</th><td>%d</td></tr>\n", failed);
    fprintf(f, "<tr><th class=l>generations completed</th><td>%d</td></tr>\n", v->fr.n_hv ? v->fr.n_hv : v->fr.g.generation + 1);
    if (m) {
        double median = m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
        fprintf(f, "<tr><th class=l>time per candidate: mean / median / max</th><td>%.2f s / %.2f s / %.2f s</td></tr>\n",
                total / m, median, t[m - 1]);
        fprintf(f, "<tr><th class=l>time in evaluations, total</th><td>%.1f s (%.2f h)</td></tr>\n", total,
                total / 3600);
    }
    fprintf(f, "</table>\n");
    free(t);
    // Per generation: evaluations made in it, feasible ones, wall time, hypervolume after it.
    int n_gen = v->fr.n_hv;
    for (int i = 0; i < n; i++)
        if (v->evals[i].gen + 1 > n_gen) n_gen = v->evals[i].gen + 1;
    if (n_gen > 0 && n_gen <= 100000) {
        fprintf(f, "<h3>Per generation</h3>\n<table><tr><th>generation</th><th>evaluations</th><th>feasible</th>"
                   "<th>time</th><th>hypervolume</th></tr>\n");
        for (int g = 0; g < n_gen; g++) {
            int ev = 0, fe = 0;
            double tg = 0;
            for (int i = 0; i < n; i++) {
                if (v->evals[i].gen != g) continue;
                ev++;
                fe += v->evals[i].ok;
                if (isfinite(v->evals[i].wall_s)) tg += v->evals[i].wall_s;
            }
            fprintf(f, "<tr><td>%d</td><td>%d</td><td>%d</td><td>%.1f s</td>", g, ev, fe, tg);
            if (g < v->fr.n_hv && isfinite(v->fr.hv[g])) fprintf(f, "<td>%.4f</td></tr>\n", v->fr.hv[g]);
            else fprintf(f, "<td>&ndash;</td></tr>\n");
        }
        fprintf(f, "</table>\n");
    }
    if (n - ok == 0) return;
    // Infeasible evaluations grouped by their reason with the numbers taken out.
    char (*keys)[256] = star_malloc(sizeof *keys * (size_t)n);
    int *count = star_calloc((size_t)n, sizeof(int)), *example = star_malloc(sizeof(int) * (size_t)n), nk = 0;
    for (int i = 0; i < n; i++) {
        if (v->evals[i].ok) continue;
        char key[256];
        reason_key(v->evals[i].reason && v->evals[i].reason[0] ? v->evals[i].reason : "(no reason given)", key,
                   sizeof key);
        int k = 0;
        while (k < nk && strcmp(keys[k], key)) k++;
        if (k == nk) {
            snprintf(keys[nk], sizeof keys[nk], "%s", key);
            example[nk++] = i;
        }
        count[k]++;
    }
    fprintf(f, "<h3>Infeasible evaluations by reason</h3>\n<table><tr><th>count</th><th class=l>reason (numbers "
               "as #)</th><th class=l>example</th></tr>\n");
    for (int k = 0; k < nk; k++) {
        fprintf(f, "<tr><td>%d</td><td class=l>", count[k]);
        xml_put_escaped(f, keys[k]);
        fprintf(f, "</td><td class=l>");
        xml_put_escaped(f, v->evals[example[k]].reason ? v->evals[example[k]].reason : "");
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
    free(keys);
    free(count);
    free(example);
}

static void header(report *r) {
    const run_view *v = r->v;
    FILE *f = r->f;
    int ok = 0;
    double total = 0;
    for (int i = 0; i < v->n_evals; i++) {
        ok += v->evals[i].ok;
        if (isfinite(v->evals[i].wall_s)) total += v->evals[i].wall_s;
    }
    fprintf(f, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>star report: ");
    xml_put_escaped(f, v->dir);
    fprintf(f, "</title>\n<style>\n%s</style></head>\n<body><main>\n<h1>star report</h1>\n<div class=sub>Run <code>",
            css);
    xml_put_escaped(f, v->dir);
    fprintf(f, "</code> &middot; %s &middot; seed %llu &middot; generation %d</div>\n",
            v->architecture ? "architecture search" : "test problem", (unsigned long long)v->cfg.run.seed,
            v->fr.g.generation);
    fprintf(f, "<div class=cards>\n");
    fprintf(f, "<div class=card><b>%d</b><span>evaluations</span></div>\n", v->n_evals);
    fprintf(f, "<div class=card><b>%d</b><span>feasible</span></div>\n", ok);
    fprintf(f, "<div class=card><b>%d</b><span>on the front</span></div>\n", v->fr.n_pts);
    if (v->fr.n_hv) fprintf(f, "<div class=card><b>%.4f</b><span>hypervolume, last generation</span></div>\n",
                            v->fr.hv[v->fr.n_hv - 1]);
    fprintf(f, "<div class=card><b>%.1f min</b><span>in evaluations</span></div>\n", total / 60);
    fprintf(f, "</div>\n");
}

int cmd_report(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--out")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", o);
            out = argv[++i];
            continue;
        }
        if (o[0] == '-') return usage_error("unknown option '%s'", o);
        if (dir) return usage_error("unexpected argument '%s' (one RUN_DIR only)", o);
        dir = o;
    }
    if (!dir) return usage_error("no run directory given");
    star_error err = {0};
    run_view v;
    run_plot_files pf = {0};
    char html[4096], out_dir[4096], why[1200] = "";
    int rc = EXIT_FAIL;
    FILE *f = NULL;
    if (run_view_load(&v, dir, &err) != 0) goto out;
    if (out) snprintf(html, sizeof html, "%s", out);
    else if (path_join(html, sizeof html, dir, "report/index.html", &err) != 0) goto out;
    snprintf(out_dir, sizeof out_dir, "%s", html);
    char *slash = strrchr(out_dir, '/');
    if (slash) *slash = '\0';
    else snprintf(out_dir, sizeof out_dir, ".");
    if (dir_create(out_dir, &err) != 0) goto out;
    int have_charts = 0;
    if (!plot_available()) {
        snprintf(why, sizeof why, "this build of star has no plotting (PLplot was not found when it was built).");
    } else {
        star_error perr = {0};
        if (run_plots_write(&v, out_dir, 1, 0, &pf, &perr) == 0) have_charts = 1;
        else snprintf(why, sizeof why, "%s", perr.msg);
    }
    f = fopen(html, "w");
    if (!f) {
        STAR_FAIL(&err, "%s: cannot write (%s)", html, strerror(errno));
        goto out;
    }
    report r = {.v = &v, .out_dir = out_dir, .f = f};
    for (int i = 0; i < v.n_evals; i++) r.have_accuracy |= isfinite(v.evals[i].accuracy);
    header(&r);
    front_table(&r);
    baseline_table(&r);
    charts(&r, have_charts, &pf, why);
    architectures(&r);
    accounting(&r);
    fprintf(f, "<h2 id=config>Config</h2>\n<p class=sub>The resolved config (<code>config.yaml</code> of the run: "
               "every key, defaults filled in).</p>\n<pre>");
    xml_put_escaped(f, v.config_text);
    fprintf(f, "</pre>\n</main></body></html>\n");
    int werr = ferror(f);
    if (fclose(f) != 0 || werr) {
        f = NULL;
        STAR_FAIL(&err, "%s: write failed (%s)", html, strerror(errno));
        goto out;
    }
    f = NULL;
    printf("%s\n", html);
    if (!have_charts) fprintf(stderr, "star report: note: no charts: %s\n", why);
    rc = EXIT_OK;
out:
    if (f) fclose(f);
    if (rc != EXIT_OK) star_error_print(&err);
    run_view_free(&v);
    return rc;
}
