// star: what the charts share inside plot/: one page (device, size, colours, fonts),
// axis ranges, markers drawn as filled polygons (so they look the same in PNG and SVG),
// and a legend row. Only plot/*.c include this; it needs PLplot.
#ifndef STAR_PLOT_PLOT_PAGE_H
#define STAR_PLOT_PLOT_PAGE_H

#include "common/error.h"
#include "plot/plot.h"

// Colour-map-0 slots the charts use.
enum {
    PC_BACKGROUND = 0,
    PC_AXES,
    PC_GRID,
    PC_FADED,
    PC_FRONT,
    PC_FRONT_EDGE,
    PC_BASELINE,
    PC_LIMIT,
    PC_TEXT,
    PC_STEP,
    PC_COUNT
};

typedef enum { MARK_CIRCLE, MARK_DIAMOND } plot_mark;

// Starts a page on path (PNG or SVG, 1000x720 px) with the colours set; fails when the
// cairo driver is missing or the file cannot be written.
int plot_page_begin(const char *path, plot_format fmt, star_error *err);
// Ends the page and checks that the file was written.
int plot_page_end(const char *path, star_error *err);

// A padded range around values (NaN and inf skipped); a degenerate range is widened.
void plot_range(const double *v, int n, double *lo, double *hi);
void plot_range_extend(double v, double *lo, double *hi);
void plot_range_pad(double *lo, double *hi, double frac);

// The plot area with its axes, grid, labels and title (title at the top, legend row below it).
void plot_axes(double x0, double x1, double y0, double y1, const char *x_label, const char *y_label,
               const char *title, int integer_x);
// World units per millimetre of the current plot area, in x and y.
void plot_world_per_mm(double *wx, double *wy);
// A marker at world (x, y) with radius r_mm, filled with fill and outlined with edge
// (edge < 0: no outline).
void plot_marker(plot_mark m, double x, double y, double r_mm, int fill, int edge);
// Legend entries in one row above the plot area; x is the entry's place across the
// page (0..1); each returns where the next entry goes.
double plot_legend_item(double x, plot_mark m, double r_mm, int fill, int edge, const char *text);
double plot_legend_line(double x, int colour, int style, const char *text);

#endif
