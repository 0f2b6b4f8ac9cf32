#ifdef STAR_HAVE_PLPLOT
#include "plot/plot_page.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

// Page geometry: the plot area in normalized page coordinates.
#define PAGE_W 1000
#define PAGE_H 720
#define VP_X0 0.11
#define VP_X1 0.96
#define VP_Y0 0.12
#define VP_Y1 0.84
#define LEGEND_Y 0.885
// Character heights, as factors of PLplot's default.
#define CH_TICKS 0.8
#define CH_LABEL 0.9
#define CH_TITLE 1.0
#define CH_LEGEND 0.8

static const unsigned char colours[PC_COUNT][3] = {
    [PC_BACKGROUND] = {255, 255, 255}, [PC_AXES] = {40, 40, 40},     [PC_GRID] = {222, 222, 222},
    [PC_FADED] = {150, 160, 175},      [PC_FRONT] = {31, 119, 180},  [PC_FRONT_EDGE] = {12, 52, 92},
    [PC_BASELINE] = {222, 96, 22},     [PC_LIMIT] = {190, 40, 40},   [PC_TEXT] = {35, 35, 35},
    [PC_STEP] = {31, 119, 180},
};
static const double alphas[PC_COUNT] = {
    [PC_BACKGROUND] = 1, [PC_AXES] = 1, [PC_GRID] = 1,  [PC_FADED] = 0.55, [PC_FRONT] = 1,
    [PC_FRONT_EDGE] = 1, [PC_BASELINE] = 1, [PC_LIMIT] = 0.9, [PC_TEXT] = 1, [PC_STEP] = 0.55,
};

// PLplot ends the process on an internal error; say it is PLplot's before it does.
static int on_plplot_exit(PLCHAR_VECTOR msg) {
    fprintf(stderr, "star: error: PLplot: %s\n", msg ? msg : "(no message)");
    return 1;
}

static int has_device(const char *name) {
    PLCHAR_VECTOR menu[128], devs[128];
    PLCHAR_VECTOR *pm = menu, *pd = devs;
    int n = 128;
    plgDevs(&pm, &pd, &n);
    for (int i = 0; i < n; i++)
        if (pd[i] && !strcmp(pd[i], name)) return 1;
    return 0;
}

int plot_page_begin(const char *path, plot_format fmt, star_error *err) {
    const char *dev = fmt == PLOT_SVG ? "svgcairo" : "pngcairo";
    if (!has_device(dev))
        return STAR_FAIL(err, "%s: PLplot has no '%s' driver (install plplot-driver-cairo)", path, dev);
    FILE *f = fopen(path, "wb");  // fail here, with the reason, rather than inside PLplot
    if (!f) return STAR_FAIL(err, "%s: cannot write (%s)", path, strerror(errno));
    fclose(f);
    plsexit(on_plplot_exit);
    plsdev(dev);
    plsfnam(path);
    plspage(0, 0, PAGE_W, PAGE_H, 0, 0);
    for (int i = 0; i < PC_COUNT; i++) plscol0a(i, colours[i][0], colours[i][1], colours[i][2], alphas[i]);
    plscolbga(255, 255, 255, 1.0);
    plinit();
    pladv(0);
    plfontld(1);
    plschr(0, CH_TICKS);
    return 0;
}

int plot_page_end(const char *path, star_error *err) {
    plend();
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0)
        return STAR_FAIL(err, "%s: PLplot wrote nothing (is the cairo driver installed?)", path);
    return 0;
}

void plot_range_extend(double v, double *lo, double *hi) {
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

void plot_range(const double *v, int n, double *lo, double *hi) {
    for (int i = 0; i < n; i++) plot_range_extend(v[i], lo, hi);
}

void plot_range_pad(double *lo, double *hi, double frac) {
    if (!(*lo <= *hi)) {  // nothing finite
        *lo = 0;
        *hi = 1;
        return;
    }
    double span = *hi - *lo;
    if (span <= 1e-12 * (fabs(*hi) + 1)) span = fabs(*hi) > 0 ? fabs(*hi) * 0.2 : 1;
    *lo -= span * frac;
    *hi += span * frac;
}

void plot_axes(double x0, double x1, double y0, double y1, const char *x_label, const char *y_label,
               const char *title, int integer_x) {
    plvpor(VP_X0, VP_X1, VP_Y0, VP_Y1);
    plwind(x0, x1, y0, y1);
    plcol0(PC_GRID);
    plwidth(1);
    double xtick = 0;
    if (integer_x && x1 - x0 <= 13) xtick = 1;  // every whole number; wider spans: PLplot's 1-2-5 ticks
    plbox("g", xtick, 0, "g", 0, 0);
    plcol0(PC_AXES);
    plwidth(1.2);
    plschr(0, CH_TICKS);
    plbox("bcnst", xtick, xtick == 1 ? 1 : 0, "bcnstv", 0, 0);
    plcol0(PC_TEXT);
    plschr(0, CH_LABEL);
    plmtex("b", 3.2, 0.5, 0.5, x_label);
    plmtex("l", 5.0, 0.5, 0.5, y_label);
    plschr(0, CH_TITLE);
    plmtex("t", 4.6, 0.5, 0.5, title);
    plschr(0, CH_TICKS);
}

void plot_world_per_mm(double *wx, double *wy) {
    PLFLT sx0, sx1, sy0, sy1, vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1;
    plgspa(&sx0, &sx1, &sy0, &sy1);
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    *wx = (wx1 - wx0) / ((vx1 - vx0) * (sx1 - sx0));
    *wy = (wy1 - wy0) / ((vy1 - vy0) * (sy1 - sy0));
}

void plot_marker(plot_mark m, double x, double y, double r_mm, int fill, int edge) {
    if (!isfinite(x) || !isfinite(y)) return;
    double wx, wy;
    plot_world_per_mm(&wx, &wy);
    enum { N = 24 };
    PLFLT px[N + 1], py[N + 1];
    int n = m == MARK_DIAMOND ? 4 : N;
    double r = m == MARK_DIAMOND ? r_mm * 1.35 : r_mm;
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * i / n + (m == MARK_DIAMOND ? M_PI / 2 : 0);
        px[i] = x + r * wx * cos(a);
        py[i] = y + r * wy * sin(a);
    }
    plcol0(fill);
    plfill(n, px, py);
    if (edge >= 0) {
        px[n] = px[0];
        py[n] = py[0];
        plcol0(edge);
        plwidth(1.0);
        plline(n + 1, px, py);
    }
}

// The entry's text after its sample; restores the plot area and returns where the next
// entry goes.
static double legend_text(double x, const char *text, PLFLT vx0, PLFLT vx1, PLFLT vy0, PLFLT vy1, PLFLT wx0,
                          PLFLT wx1, PLFLT wy0, PLFLT wy1) {
    PLFLT sx0, sx1, sy0, sy1;
    plgspa(&sx0, &sx1, &sy0, &sy1);
    plschr(0, CH_LEGEND);
    plcol0(PC_TEXT);
    plptex(x + 0.014, LEGEND_Y, 1, 0, 0, text);
    PLFLT def_ht, ht;
    plgchr(&def_ht, &ht);  // ht: character height in mm; sans-serif glyphs average ~0.7 of it
    double next = x + 0.014 + strlen(text) * 0.7 * ht / (sx1 - sx0) + 0.028;
    plvpor(vx0, vx1, vy0, vy1);
    plwind(wx0, wx1, wy0, wy1);
    return next;
}

// Switches to whole-page coordinates (0..1) for the legend, and back.
static void legend_begin(void) {
    plvpor(0, 1, 0, 1);
    plwind(0, 1, 0, 1);
}

double plot_legend_item(double x, plot_mark m, double r_mm, int fill, int edge, const char *text) {
    PLFLT vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    legend_begin();
    plot_marker(m, x, LEGEND_Y, r_mm, fill, edge);
    return legend_text(x, text, vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1);
}

double plot_legend_line(double x, int colour, int style, const char *text) {
    PLFLT vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    legend_begin();
    PLFLT lx[2] = {x - 0.012, x + 0.008}, ly[2] = {LEGEND_Y, LEGEND_Y};
    plcol0(colour);
    pllsty(style);
    plwidth(2);
    plline(2, lx, ly);
    pllsty(1);
    return legend_text(x, text, vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1);
}
#endif
