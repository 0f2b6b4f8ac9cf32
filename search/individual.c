#include "search/individual.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void individual_init(individual *ind, size_t size) {
    memset(ind, 0, sizeof *ind);
    ind->x = star_calloc(1, size);
}

void individual_free(individual *ind) {
    free(ind->x);
    ind->x = NULL;
}

void individual_copy(individual *dst, const individual *src, size_t size) {
    void *x = dst->x;
    memcpy(x, src->x, size);
    *dst = *src;
    dst->x = x;
}

void individual_set_failed(individual *ind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ind->reason, sizeof ind->reason, fmt, ap);
    va_end(ap);
    ind->status = INDIVIDUAL_FAILED;
    ind->cv = SEARCH_CV_FAILED;
}

int individual_feasible(const individual *ind) { return ind->status == INDIVIDUAL_OK && ind->cv <= 0.0; }

individual *population_new(int n, size_t size) {
    individual *pop = star_calloc((size_t)(n > 0 ? n : 1), sizeof *pop);
    for (int i = 0; i < n; i++) individual_init(&pop[i], size);
    return pop;
}

void population_free(individual *pop, int n) {
    if (!pop) return;
    for (int i = 0; i < n; i++) individual_free(&pop[i]);
    free(pop);
}
