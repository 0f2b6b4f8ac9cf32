// star search: a stable merge sort of index arrays with a context-carrying comparator
// (libc qsort has no context argument and is not stable; sorting indices keeps the
// result identical on every platform, which determinism needs).
#ifndef STAR_SEARCH_INDEX_SORT_H
#define STAR_SEARCH_INDEX_SORT_H

// cmp returns <0, 0, >0 as item a sorts before, with, after item b.
typedef int (*index_cmp)(const void *ctx, int a, int b);

void index_sort(int *idx, int n, index_cmp cmp, const void *ctx);

#endif
