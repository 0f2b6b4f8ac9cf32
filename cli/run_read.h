// star: reading back what a search run wrote (search/run.h): one generation's ranked
// population from DIR/generations/gen_NNNN.json and the hypervolume history from
// DIR/checkpoint.json. The files are untrusted input: every key is checked, and an
// error names the file, line, column and key path.
#ifndef STAR_CLI_RUN_READ_H
#define STAR_CLI_RUN_READ_H

#include <stddef.h>

#include "common/error.h"
#include "search/individual.h"

#define RUN_OBJ_NAME_MAX 64

typedef enum { RUN_X_NONE = 0, RUN_X_STRING, RUN_X_VECTOR } run_x_kind;

typedef struct run_member {
    char hash[24];
    run_x_kind x_kind;
    char *x_string;  // RUN_X_STRING: the candidate as written (a genome string)
    double *x_vec;   // RUN_X_VECTOR: its numbers
    int n_x;
    double f[SEARCH_MAX_OBJ];  // in the order of run_generation.obj_names; null reads as +inf
    int feasible;              // status "ok"
} run_member;

typedef struct run_generation {
    int generation;
    int n_obj;
    char obj_names[SEARCH_MAX_OBJ][RUN_OBJ_NAME_MAX];
    int n;
    run_member *pop;
    int has_hv_ref;                 // the file gives "hypervolume_reference"
    double hv_ref[SEARCH_MAX_OBJ];  // in the order of obj_names: the divisor of each objective
} run_generation;

// Path of generation gen (or, with gen < 0, the highest-numbered one) of run_dir; fails
// naming what is missing. *gen_out receives its number.
int run_generation_path(const char *run_dir, int gen, char *path, size_t cap, int *gen_out, star_error *err);
int run_generation_read(const char *path, run_generation *g, star_error *err);
void run_generation_free(run_generation *g);

// The hypervolume of every completed generation, from run_dir/checkpoint.json (*hv
// malloc'd, NaN where the file has null). A run without the file gives *n = 0.
int run_hypervolume_read(const char *run_dir, double **hv, int *n, star_error *err);

#endif
