#include "search/algorithm.h"

#include <string.h>

static const algorithm *const algorithms[] = {&algorithm_nsga2, &algorithm_ga, &algorithm_random};
#define N_ALGORITHMS ((int)(sizeof algorithms / sizeof algorithms[0]))

const algorithm *algorithm_by_name(const char *name) {
    for (int i = 0; i < N_ALGORITHMS; i++)
        if (!strcmp(algorithms[i]->name, name)) return algorithms[i];
    return NULL;
}

const char *algorithm_names(void) { return "nsga2, ga, random"; }
