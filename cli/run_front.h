// star: the Pareto front of one generation of a run, as `star front`, `star plot` and
// `star report` show it: the feasible members that no other feasible member dominates
// on the chosen objectives, sorted by them in turn, each with how many feasible members
// it dominates and, for architecture runs, its class summary (e.g. 4xSA-1 4xGMemless).
#ifndef STAR_CLI_RUN_FRONT_H
#define STAR_CLI_RUN_FRONT_H

#include "cli/run_read.h"
#include "common/error.h"

typedef struct front_point {
    int member;                // index in the population
    double f[SEARCH_MAX_OBJ];  // the chosen objectives
    int dominates;
    char classes[256];
} front_point;

typedef struct run_front {
    const char *run_dir;
    char path[4096];  // the generation file
    run_generation g;
    int sel[SEARCH_MAX_OBJ], n_sel;  // chosen objectives (indices into g.obj_names)
    int n_feasible;
    front_point *pts;
    int n_pts;
    double *hv;  // hypervolume of every generation (checkpoint.json), n_hv of them
    int n_hv;
} run_front;

// Reads generation gen (< 0: the last) of run_dir and its front on the objectives named
// in the comma list (NULL: all), and the hypervolume history. fr is zeroed first; free
// it with run_front_free whatever the result.
int run_front_load(run_front *fr, const char *run_dir, int gen, const char *objectives, star_error *err);
void run_front_free(run_front *fr);

#endif
