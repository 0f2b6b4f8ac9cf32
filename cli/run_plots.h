// star: the charts of a run (through plot/): its front in every pair of objectives
// (every evaluated point faded, the front numbered as in `star front`, the baselines
// marked) and its hypervolume per generation, as PNG and/or SVG files in a folder.
#ifndef STAR_CLI_RUN_PLOTS_H
#define STAR_CLI_RUN_PLOTS_H

#include "cli/run_view.h"
#include "plot/plot.h"

#define RUN_PLOTS_MAX 16

typedef struct run_plot_files {
    int n;
    char name[RUN_PLOTS_MAX][128];    // file name without extension, e.g. front_quality_vs_params
    char caption[RUN_PLOTS_MAX][256];
} run_plot_files;

// Writes out_dir/<name>.png and/or .svg for every chart (out_dir is created).
int run_plots_write(const run_view *v, const char *out_dir, int png, int svg, run_plot_files *files,
                    star_error *err);

#endif
