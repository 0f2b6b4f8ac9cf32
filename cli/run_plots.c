#include "cli/run_plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"

static int write_both(const char *out_dir, const char *name, int png, int svg, const plot_scatter *s,
                      const plot_line *l, star_error *err) {
    for (int f = 0; f < 2; f++) {
        if (!(f == 0 ? png : svg)) continue;
        plot_format fmt = f == 0 ? PLOT_PNG : PLOT_SVG;
        char file[256], path[4096];
        snprintf(file, sizeof file, "%s.%s", name, plot_format_ext(fmt));
        if (path_join(path, sizeof path, out_dir, file, err) != 0) return -1;
        if ((s ? plot_scatter_write(path, fmt, s, err) : plot_line_write(path, fmt, l, err)) != 0) return -1;
    }
    return 0;
}

// The front in objectives yk (up) and xk (across).
static int front_pair(const run_view *v, int yk, int xk, const char *out_dir, int png, int svg,
                      run_plot_files *files, star_error *err) {
    const run_axis *ax = &v->axis[xk], *ay = &v->axis[yk];
    int n = v->n_evals, nf = v->fr.n_pts;
    double *buf = star_malloc(sizeof(double) * (size_t)(2 * n + 2 * nf + 2 * v->n_base + 6));
    double *all_x = buf, *all_y = all_x + n, *fx = all_y + n, *fy = fx + nf, *bx = fy + nf, *by = bx + v->n_base;
    int n_all = 0, n_base = 0;
    for (int i = 0; i < n; i++) {
        const run_eval *e = &v->evals[i];
        if (!e->ok || !isfinite(e->f[xk]) || !isfinite(e->f[yk])) continue;
        if (v->architecture && run_view_find(v, e->hash) != i) continue;  // one point per architecture
        all_x[n_all] = e->f[xk] * ax->scale;
        all_y[n_all++] = e->f[yk] * ay->scale;
    }
    char (*labels)[16] = star_malloc(sizeof *labels * (size_t)(nf > 0 ? nf : 1));
    const char **front_labels = star_malloc(sizeof(char *) * (size_t)(nf > 0 ? nf : 1));
    for (int j = 0; j < nf; j++) {
        fx[j] = v->fr.pts[j].f[xk] * ax->scale;
        fy[j] = v->fr.pts[j].f[yk] * ay->scale;
        snprintf(labels[j], sizeof labels[j], "%d", j + 1);
        front_labels[j] = labels[j];
    }
    const char *base_labels[CONFIG_MAX_SEEDS];
    for (int b = 0; b < v->n_base; b++) {
        if (v->base[b].eval < 0) continue;
        const run_eval *e = &v->evals[v->base[b].eval];
        bx[n_base] = e->f[xk] * ax->scale;
        by[n_base] = e->f[yk] * ay->scale;
        base_labels[n_base++] = v->base[b].name;
    }
    char title[256];
    snprintf(title, sizeof title, "%s vs %s: front of generation %d (%d points), %d evaluated", ay->name, ax->name,
             v->fr.g.generation, nf, n_all);
    plot_scatter s = {.title = title,
                      .x_label = ax->label,
                      .y_label = ay->label,
                      .all_x = all_x,
                      .all_y = all_y,
                      .n_all = n_all,
                      .front_x = fx,
                      .front_y = fy,
                      .front_labels = front_labels,
                      .n_front = nf,
                      .base_x = bx,
                      .base_y = by,
                      .base_labels = base_labels,
                      .n_base = n_base,
                      .has_x_limit = ax->has_limit,
                      .x_limit = ax->limit * ax->scale,
                      .has_y_limit = ay->has_limit,
                      .y_limit = ay->limit * ay->scale};
    int i = files->n;
    snprintf(files->name[i], sizeof files->name[i], "front_%s_vs_%s", ay->name, ax->name);
    snprintf(files->caption[i], sizeof files->caption[i], "%s against %s", ay->label, ax->label);
    int rc = write_both(out_dir, files->name[i], png, svg, &s, NULL, err);
    if (rc == 0) files->n++;
    free(buf);
    free(labels);
    free(front_labels);
    return rc;
}

static int hypervolume_chart(const run_view *v, const char *out_dir, int png, int svg, run_plot_files *files,
                             star_error *err) {
    int n = v->fr.n_hv;
    double *x = star_malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) x[i] = i;
    char title[160];
    snprintf(title, sizeof title, "Hypervolume per generation (%d objectives)", v->n_obj);
    plot_line l = {.title = title,
                   .x_label = "generation",
                   .y_label = "hypervolume (objectives / reference point)",
                   .x = x,
                   .y = v->fr.hv,
                   .n = n,
                   .integer_x = 1,
                   .y_from_zero = 1};
    int i = files->n;
    snprintf(files->name[i], sizeof files->name[i], "hypervolume");
    char *c = files->caption[i];
    size_t cap = sizeof files->caption[i];
    snprintf(c, cap, "hypervolume of the feasible members, each objective divided by its reference value");
    if (v->fr.g.has_hv_ref) {  // the reference point in the chart units
        snprintf(c + strlen(c), cap - strlen(c), " (reference point:");
        for (int k = 0; k < v->n_obj; k++)
            snprintf(c + strlen(c), cap - strlen(c), "%s %s %.4g%s%s", k ? "," : "", v->axis[k].name,
                     v->fr.g.hv_ref[k] * v->axis[k].scale, v->axis[k].unit[0] ? " " : "", v->axis[k].unit);
        snprintf(c + strlen(c), cap - strlen(c), ")");
    }
    int rc = write_both(out_dir, files->name[i], png, svg, NULL, &l, err);
    if (rc == 0) files->n++;
    free(x);
    return rc;
}

int run_plots_write(const run_view *v, const char *out_dir, int png, int svg, run_plot_files *files,
                    star_error *err) {
    memset(files, 0, sizeof *files);
    if (dir_create(out_dir, err) != 0) return -1;
    for (int a = 0; a < v->n_obj; a++)
        for (int b = a + 1; b < v->n_obj; b++)
            // Architecture runs: quality (first) up, size across; test problems: f1 across.
            if (files->n < RUN_PLOTS_MAX - 1 &&
                front_pair(v, v->architecture ? a : b, v->architecture ? b : a, out_dir, png, svg, files, err) != 0)
                return -1;
    if (v->fr.n_hv > 0 && hypervolume_chart(v, out_dir, png, svg, files, err) != 0) return -1;
    return 0;
}
