// star: a line with markers (hypervolume against generation).
#include "plot/plot.h"

#ifdef STAR_HAVE_PLPLOT
#include <math.h>
#include <plplot.h>
#include <stdlib.h>

#include "plot/plot_page.h"

int plot_line_write(const char *path, plot_format fmt, const plot_line *l, star_error *err) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    plot_range(l->x, l->n, &x0, &x1);
    plot_range(l->y, l->n, &y0, &y1);
    if (l->integer_x && x0 <= x1) {  // whole generations, with half a step of margin
        x0 -= 0.5;
        x1 += 0.5;
    } else {
        plot_range_pad(&x0, &x1, 0.04);
    }
    plot_range_pad(&y0, &y1, 0.1);
    if (l->y_from_zero) y0 = 0;  // so that a small gain does not look like a large one
    if (plot_page_begin(path, fmt, err) != 0) return -1;
    plot_axes(x0, x1, y0, y1, l->x_label, l->y_label, l->title, l->integer_x);
    PLFLT *px = malloc(sizeof(PLFLT) * (size_t)(l->n > 0 ? l->n : 1));
    PLFLT *py = malloc(sizeof(PLFLT) * (size_t)(l->n > 0 ? l->n : 1));
    if (!px || !py) {
        free(px);
        free(py);
        plend();
        return STAR_FAIL(err, "%s: out of memory", path);
    }
    // Runs of finite values are joined; a NaN breaks the line.
    int m = 0;
    plcol0(PC_FRONT);
    plwidth(2.2);
    for (int i = 0; i <= l->n; i++) {
        if (i < l->n && isfinite(l->x[i]) && isfinite(l->y[i])) {
            px[m] = l->x[i], py[m++] = l->y[i];
            continue;
        }
        if (m > 1) plline(m, px, py);
        m = 0;
    }
    if (l->n <= 60)  // beyond that the line alone reads better
        for (int i = 0; i < l->n; i++) plot_marker(MARK_CIRCLE, l->x[i], l->y[i], 1.5, PC_FRONT, PC_FRONT_EDGE);
    free(px);
    free(py);
    return plot_page_end(path, err);
}

#else
int plot_line_write(const char *path, plot_format fmt, const plot_line *l, star_error *err) {
    (void)fmt, (void)l;
    return STAR_FAIL(err, "%s: this build of star has no plotting (PLplot was not found at build time; "
                     "install libplplot-dev and plplot-driver-cairo, then rebuild)", path);
}
#endif
