// star: the front as a table: the feasible non-dominated members of a ranked
// population, sorted by the first objective, one line each.
#ifndef STAR_CLI_FRONT_PRINT_H
#define STAR_CLI_FRONT_PRINT_H

#include <stdio.h>

#include "common/json.h"
#include "search/individual.h"

// write_x (may be NULL) renders a candidate; a JSON string is printed without quotes.
void front_print_population(FILE *f, const individual *pop, int n, const char *const *obj_names, int n_obj,
                            void (*write_x)(void *ctx, const void *x, json_writer *w), void *ctx);

#endif
