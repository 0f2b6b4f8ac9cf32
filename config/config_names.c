// star: the names the config uses for its enumerations, in one place for the reader and
// the writer. The class names are the config's own table (name -> liv_class); the gene
// table keeps its own for genome files.
#include <string.h>

#include "config/config_names.h"

const char *const config_class_names[LIV_CLASS_COUNT + 1] = {
    NULL, "SA-1", "SA-2", "SA-3", "SA-diff", "Rec-1", "Rec-2", "GConv-1", "GConv-2", "GMemless",
};
const char *const config_objective_names[CONFIG_OBJ_COUNT] = {"quality", "params", "cache_bytes", "flops"};
const char *const config_dtype_names[CONFIG_DTYPE_COUNT] = {"bf16", "fp32"};
const char *const config_algorithm_names[CONFIG_ALGO_COUNT] = {"nsga2", "ga", "random"};
const char *const config_backend_names[CONFIG_BACKEND_COUNT] = {"cpu", "cuda"};
const char *const config_keep_weights_names[CONFIG_KEEP_COUNT] = {"none", "all"};
const char *const config_data_kind_names[CONFIG_DATA_COUNT] = {"mad", "text", "bin"};
const char *const config_mad_task_names[CONFIG_MAD_COUNT] = {
    "in_context_recall", "fuzzy_in_context_recall", "noisy_in_context_recall",
    "selective_copying", "compression",             "memorization",
};
const char *const config_problem_names[CONFIG_PROBLEM_COUNT] = {"zdt1", "zdt2", "zdt3", "dtlz2"};

#define NAME_AT(table, count, i) ((int)(i) >= 0 && (int)(i) < (count) ? (table)[(int)(i)] : NULL)

const char *config_class_name(liv_class c) { return NAME_AT(config_class_names, LIV_CLASS_COUNT + 1, c); }
const char *config_objective_name(config_objective_kind k) { return NAME_AT(config_objective_names, CONFIG_OBJ_COUNT, k); }
const char *config_dtype_name(config_dtype d) { return NAME_AT(config_dtype_names, CONFIG_DTYPE_COUNT, d); }
const char *config_algorithm_name(config_algorithm_kind k) { return NAME_AT(config_algorithm_names, CONFIG_ALGO_COUNT, k); }
const char *config_backend_name(config_backend b) { return NAME_AT(config_backend_names, CONFIG_BACKEND_COUNT, b); }
const char *config_keep_weights_name(config_keep_weights k) { return NAME_AT(config_keep_weights_names, CONFIG_KEEP_COUNT, k); }
const char *config_data_kind_name(config_data_kind k) { return NAME_AT(config_data_kind_names, CONFIG_DATA_COUNT, k); }
const char *config_mad_task_name(config_mad_task t) { return NAME_AT(config_mad_task_names, CONFIG_MAD_COUNT, t); }
const char *config_problem_name(config_problem_kind k) { return NAME_AT(config_problem_names, CONFIG_PROBLEM_COUNT, k); }

int config_class_from_name(const char *name) {
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if (!strcmp(config_class_names[c], name)) return c;
    return -1;
}
