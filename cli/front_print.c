#include "cli/front_print.h"

#include <stdlib.h>
#include <string.h>

static const individual *sort_pop;
static int by_first_objective(const void *a, const void *b) {
    double fa = sort_pop[*(const int *)a].f[0], fb = sort_pop[*(const int *)b].f[0];
    return fa < fb ? -1 : fa > fb ? 1 : (*(const int *)a - *(const int *)b);
}

void front_print_population(FILE *f, const individual *pop, int n, const char *const *obj_names, int n_obj,
                            void (*write_x)(void *ctx, const void *x, json_writer *w), void *ctx) {
    int *idx = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!idx) return;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (pop[i].rank == 0 && individual_feasible(&pop[i])) idx[m++] = i;
    sort_pop = pop;
    qsort(idx, (size_t)m, sizeof(int), by_first_objective);
    fprintf(f, "front: %d non-dominated of %d\n", m, n);
    fprintf(f, "%4s", "#");
    for (int k = 0; k < n_obj; k++) fprintf(f, " %14s", obj_names[k]);
    if (write_x) fprintf(f, "  candidate");
    fprintf(f, "\n");
    json_writer w;
    jw_init(&w);
    for (int j = 0; j < m; j++) {
        const individual *ind = &pop[idx[j]];
        fprintf(f, "%4d", j + 1);
        for (int k = 0; k < n_obj; k++) fprintf(f, " %14.6g", ind->f[k]);
        if (write_x) {
            jw_reset(&w);
            write_x(ctx, ind->x, &w);
            const char *s = w.buf ? w.buf : "";
            size_t len = strlen(s);
            if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
                fprintf(f, "  %.*s", (int)(len - 2), s + 1);
            else
                fprintf(f, "  %s", s);
        }
        fprintf(f, "\n");
    }
    jw_free(&w);
    free(idx);
}
