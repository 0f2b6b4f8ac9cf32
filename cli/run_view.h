// star: everything `star plot` and `star report` show about a run, read once: the
// resolved config (parsed, and as text), every archive line, the front of the last
// generation (cli/run_front.h) with its hypervolume history, the baselines (the
// config's seed_with genomes, found in the archive by hash), and how each objective
// is shown (label with units, scale, hard limit).
#ifndef STAR_CLI_RUN_VIEW_H
#define STAR_CLI_RUN_VIEW_H

#include "cli/run_front.h"
#include "common/error.h"
#include "config/config.h"

// One archive line.
typedef struct run_eval {
    int gen;
    long eval;
    int fidelity;
    char hash[24];
    char *x;  // genome string (architecture runs), else NULL
    int ok;   // status "ok"
    int failed;
    char *reason;
    double f[SEARCH_MAX_OBJ];  // in the order of run_view.obj; NaN when absent or null
    double accuracy;           // metrics.accuracy, NaN when absent
    double wall_s;
} run_eval;

// How an objective is shown.
typedef struct run_axis {
    const char *name;  // as in the run's files
    char label[128];   // with units, e.g. "parameters (M)"
    char unit[32];     // short unit for table headers, e.g. "M"
    double scale;      // shown value = stored value * scale
    int has_limit;
    double limit;      // stored units
} run_axis;

typedef struct run_baseline {
    char name[64];        // file name without directory and extension
    char path[CONFIG_PATH_MAX];
    char hash[24];        // "" when the file could not be read
    char problem[256];    // why it is not shown (or that it is infeasible), or ""
    int eval;             // its last ok archive line, else its last line, or -1
    int infeasible;       // eval is an infeasible line
} run_baseline;

typedef struct run_view {
    const char *dir;
    star_config cfg;
    char *config_text;  // RUN/config.yaml as written
    int architecture;   // 1: genomes; 0: a test problem (vectors)
    run_front fr;       // last generation, all objectives
    run_axis axis[SEARCH_MAX_OBJ];
    int n_obj;
    run_eval *evals;
    int n_evals;
    run_baseline base[CONFIG_MAX_SEEDS];
    int n_base;
} run_view;

// Reads the run; fails naming the file, line and key of what is missing or malformed.
int run_view_load(run_view *v, const char *dir, star_error *err);
void run_view_free(run_view *v);
// The archive line of the highest fidelity with this hash and status ok, or -1.
int run_view_find(const run_view *v, const char *hash);

#endif
