// star: charts written through PLplot (its cairo drivers: PNG and SVG). The functions
// take plain numbers and labels; what they mean (a run, its front, its baselines) is the
// caller's business. A build without PLplot compiles this library all the same: every
// chart then fails with a message saying so (plot_available() is 0), so the commands
// that need charts can tell the user instead of silently writing nothing.
#ifndef STAR_PLOT_PLOT_H
#define STAR_PLOT_PLOT_H

#include "common/error.h"

typedef enum plot_format { PLOT_PNG, PLOT_SVG } plot_format;

// 1 when this build has PLplot with its cairo drivers compiled in.
int plot_available(void);
// "png" or "svg".
const char *plot_format_ext(plot_format f);

// A scatter of one pair of objectives: every evaluated point faded behind, the front
// highlighted (and numbered), the baselines marked and labelled. A hard limit on an
// axis is drawn as a dashed line.
typedef struct plot_scatter {
    const char *title;
    const char *x_label, *y_label;  // with units
    const double *all_x, *all_y;    // every evaluated point
    int n_all;
    const double *front_x, *front_y;  // the front
    const char *const *front_labels;  // may be NULL; drawn only for fronts of at most 30
    int n_front;
    const double *base_x, *base_y;  // the baselines
    const char *const *base_labels;
    int n_base;
    int has_x_limit, has_y_limit;
    double x_limit, y_limit;
} plot_scatter;

// A line with markers, e.g. hypervolume against generation.
typedef struct plot_line {
    const char *title;
    const char *x_label, *y_label;
    const double *x, *y;  // NaN values are left out
    int n;
    int integer_x;    // x ticks at whole numbers only
    int y_from_zero;  // the y axis starts at 0 (values are never negative)
} plot_line;

// Write the chart to path (overwritten) in the given format.
int plot_scatter_write(const char *path, plot_format fmt, const plot_scatter *s, star_error *err);
int plot_line_write(const char *path, plot_format fmt, const plot_line *l, star_error *err);

#endif
