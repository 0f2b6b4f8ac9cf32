// star: the front in one pair of objectives. Drawing order sets what reads first: the
// grid, every evaluated point faded, the staircase of the points no other evaluated
// point beats in this pair, hard limits, the baselines, then the front on top.
#include "plot/plot.h"

#ifdef STAR_HAVE_PLPLOT
#include <math.h>
#include <plplot.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot_page.h"

typedef struct xy {
    double x, y;
} xy;

static int by_x_then_y(const void *a, const void *b) {
    const xy *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

// The 2-D non-dominated staircase (both minimized) of the evaluated and front points.
static void draw_staircase(const plot_scatter *s, double x_hi, double y_hi) {
    int n = s->n_all + s->n_front;
    xy *p = malloc(sizeof(xy) * (size_t)(n > 0 ? n : 1));
    PLFLT *lx = malloc(sizeof(PLFLT) * (size_t)(2 * n + 2)), *ly = malloc(sizeof(PLFLT) * (size_t)(2 * n + 2));
    if (!p || !lx || !ly) goto out;
    int m = 0;
    for (int i = 0; i < s->n_all; i++) p[m++] = (xy){s->all_x[i], s->all_y[i]};
    for (int i = 0; i < s->n_front; i++) p[m++] = (xy){s->front_x[i], s->front_y[i]};
    int k = 0;
    for (int i = 0; i < m; i++)
        if (isfinite(p[i].x) && isfinite(p[i].y)) p[k++] = p[i];
    qsort(p, (size_t)k, sizeof *p, by_x_then_y);
    int nl = 0;
    double best = INFINITY;
    for (int i = 0; i < k; i++) {
        if (p[i].y >= best) continue;
        if (nl == 0) {  // rise from the top edge
            lx[nl] = p[i].x, ly[nl++] = y_hi;
        } else {
            lx[nl] = p[i].x, ly[nl++] = best;
        }
        lx[nl] = p[i].x, ly[nl++] = p[i].y;
        best = p[i].y;
    }
    if (nl > 0) {
        lx[nl] = x_hi, ly[nl++] = best;
        plcol0(PC_STEP);
        plwidth(1.6);
        plline(nl, lx, ly);
    }
out:
    free(p);
    free(lx);
    free(ly);
}

// Numbers beside the front points: each goes to the first of four corners around its
// point where it overlaps no number already placed (else upper right).
static void draw_front_labels(const plot_scatter *s) {
    double mx, my;
    plot_world_per_mm(&mx, &my);
    PLFLT def_ht, ht;
    plgchr(&def_ht, &ht);
    double cw = 0.7 * ht * mx, ch = ht * my, gap_x = 1.6 * mx, gap_y = 1.2 * my;
    typedef struct box { double x0, y0, x1, y1; } box;
    box *placed = malloc(sizeof(box) * (size_t)(s->n_front > 0 ? s->n_front : 1));
    if (!placed) return;
    int n_placed = 0;
    plcol0(PC_FRONT_EDGE);
    for (int i = 0; i < s->n_front; i++) {
        double x = s->front_x[i], y = s->front_y[i];
        if (!s->front_labels[i] || !isfinite(x) || !isfinite(y)) continue;
        double w = cw * (double)strlen(s->front_labels[i]);
        box best = {x + gap_x, y + gap_y, x + gap_x + w, y + gap_y + ch};
        for (int c = 0; c < 4; c++) {
            double bx = c % 2 == 0 ? x + gap_x : x - gap_x - w, by = c < 2 ? y + gap_y : y - gap_y - ch;
            box b = {bx, by, bx + w, by + ch};
            int clash = 0;
            for (int j = 0; j < n_placed && !clash; j++)
                clash = b.x0 < placed[j].x1 && placed[j].x0 < b.x1 && b.y0 < placed[j].y1 && placed[j].y0 < b.y1;
            if (!clash) {
                best = b;
                break;
            }
        }
        placed[n_placed++] = best;
        plptex(best.x0, best.y0 + 0.1 * ch, 1, 0, 0, s->front_labels[i]);
    }
    free(placed);
}

int plot_scatter_write(const char *path, plot_format fmt, const plot_scatter *s, star_error *err) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    plot_range(s->all_x, s->n_all, &x0, &x1);
    plot_range(s->front_x, s->n_front, &x0, &x1);
    plot_range(s->base_x, s->n_base, &x0, &x1);
    plot_range(s->all_y, s->n_all, &y0, &y1);
    plot_range(s->front_y, s->n_front, &y0, &y1);
    plot_range(s->base_y, s->n_base, &y0, &y1);
    // A limit is shown when it lies near the data; one far away would squash the points.
    int show_xl = s->has_x_limit && x0 <= x1 && s->x_limit <= x1 + 0.25 * (x1 - x0);
    int show_yl = s->has_y_limit && y0 <= y1 && s->y_limit <= y1 + 0.25 * (y1 - y0);
    if (show_xl) plot_range_extend(s->x_limit, &x0, &x1);
    if (show_yl) plot_range_extend(s->y_limit, &y0, &y1);
    plot_range_pad(&x0, &x1, 0.06);
    plot_range_pad(&y0, &y1, 0.08);

    if (plot_page_begin(path, fmt, err) != 0) return -1;
    plot_axes(x0, x1, y0, y1, s->x_label, s->y_label, s->title, 0);

    // Many points: smaller marks, and numbers only while they can still be read.
    double r_all = s->n_all > 2000 ? 0.6 : 1.1, r_front = s->n_front > 40 ? 1.1 : 1.6;
    int numbered = s->front_labels && s->n_front <= 30;
    for (int i = 0; i < s->n_all; i++) plot_marker(MARK_CIRCLE, s->all_x[i], s->all_y[i], r_all, PC_FADED, -1);
    draw_staircase(s, x1, y1);
    PLFLT lx[2], ly[2];
    plcol0(PC_LIMIT);
    pllsty(2);
    plwidth(1.5);
    if (show_xl) {
        lx[0] = lx[1] = s->x_limit, ly[0] = y0, ly[1] = y1;
        plline(2, lx, ly);
    }
    if (show_yl) {
        lx[0] = x0, lx[1] = x1, ly[0] = ly[1] = s->y_limit;
        plline(2, lx, ly);
    }
    pllsty(1);

    double wx = (x1 - x0) / 200, wy = (y1 - y0) / 120;  // label offsets: a little right and up
    plschr(0, 0.8);
    for (int i = 0; i < s->n_base; i++) {
        plot_marker(MARK_DIAMOND, s->base_x[i], s->base_y[i], 2.0, PC_BASELINE, PC_AXES);
        if (s->base_labels && s->base_labels[i] && isfinite(s->base_x[i]) && isfinite(s->base_y[i])) {
            plcol0(PC_BASELINE);
            // near the right edge the label goes to the left of its marker
            int left = s->base_x[i] > x0 + 0.8 * (x1 - x0);
            plptex(s->base_x[i] + (left ? -2.5 : 2.5) * wx, s->base_y[i] - 1.5 * wy, 1, 0, left ? 1.0 : 0.0,
                   s->base_labels[i]);
        }
    }
    for (int i = 0; i < s->n_front; i++)
        plot_marker(MARK_CIRCLE, s->front_x[i], s->front_y[i], r_front, PC_FRONT, PC_FRONT_EDGE);
    if (numbered) draw_front_labels(s);

    double lx_ = 0.12;
    lx_ = plot_legend_item(lx_, MARK_CIRCLE, 1.1, PC_FADED, -1, "evaluated");
    lx_ = plot_legend_item(lx_, MARK_CIRCLE, 1.6, PC_FRONT, PC_FRONT_EDGE, numbered ? "front (# as in the table)" : "front");
    if (s->n_base) lx_ = plot_legend_item(lx_, MARK_DIAMOND, 2.0, PC_BASELINE, PC_AXES, "baseline");
    lx_ = plot_legend_line(lx_, PC_STEP, 1, "best in this pair");
    if (show_xl || show_yl) plot_legend_line(lx_, PC_LIMIT, 2, "hard limit");
    return plot_page_end(path, err);
}

#else
int plot_scatter_write(const char *path, plot_format fmt, const plot_scatter *s, star_error *err) {
    (void)fmt, (void)s;
    return STAR_FAIL(err, "%s: this build of star has no plotting (PLplot was not found at build time; "
                     "install libplplot-dev and plplot-driver-cairo, then rebuild)", path);
}
#endif
