// star: the config's name tables (index = enum value), shared by the reader and the
// writer inside config/; other code uses the config_*_name functions of config.h.
#ifndef STAR_CONFIG_CONFIG_NAMES_H
#define STAR_CONFIG_CONFIG_NAMES_H

#include "config/config.h"

extern const char *const config_class_names[LIV_CLASS_COUNT + 1];  // [0] is NULL
extern const char *const config_objective_names[CONFIG_OBJ_COUNT];
extern const char *const config_dtype_names[CONFIG_DTYPE_COUNT];
extern const char *const config_algorithm_names[CONFIG_ALGO_COUNT];
extern const char *const config_backend_names[CONFIG_BACKEND_COUNT];
extern const char *const config_keep_weights_names[CONFIG_KEEP_COUNT];
extern const char *const config_data_kind_names[CONFIG_DATA_COUNT];
extern const char *const config_mad_task_names[CONFIG_MAD_COUNT];
extern const char *const config_problem_names[CONFIG_PROBLEM_COUNT];

#endif
