#include "search/index_sort.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static void merge_sort(int *a, int *tmp, int n, index_cmp cmp, const void *ctx) {
    if (n < 2) return;
    int h = n / 2;
    merge_sort(a, tmp, h, cmp, ctx);
    merge_sort(a + h, tmp, n - h, cmp, ctx);
    int i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp(ctx, a[j], a[i]) < 0 ? a[j++] : a[i++];  // ties keep order
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

void index_sort(int *idx, int n, index_cmp cmp, const void *ctx) {
    if (n < 2) return;
    int *tmp = star_malloc((size_t)n * sizeof *tmp);
    merge_sort(idx, tmp, n, cmp, ctx);
    free(tmp);
}
