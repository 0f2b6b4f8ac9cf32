#include "search/fitness_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

struct fitness_entry {
    uint64_t hash;
    int used;
    int status;
    double f[SEARCH_MAX_OBJ];
    double cv;
    char *reason;  // only for failed candidates
};

void fitness_cache_init(fitness_cache *c) { memset(c, 0, sizeof *c); }

void fitness_cache_free(fitness_cache *c) {
    for (long i = 0; i < c->cap; i++) free(c->slots[i].reason);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

static long find_slot(const fitness_entry *slots, long cap, uint64_t hash) {
    long i = (long)(hash & (uint64_t)(cap - 1));
    while (slots[i].used && slots[i].hash != hash) i = (i + 1) & (cap - 1);
    return i;
}

static void grow(fitness_cache *c) {
    long cap = c->cap ? c->cap * 2 : 1024;
    fitness_entry *slots = star_calloc((size_t)cap, sizeof *slots);
    for (long i = 0; i < c->cap; i++)
        if (c->slots[i].used) slots[find_slot(slots, cap, c->slots[i].hash)] = c->slots[i];
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
}

void fitness_cache_put(fitness_cache *c, const individual *ind) {
    if ((c->count + 1) * 2 > c->cap) grow(c);  // load factor at most 1/2
    fitness_entry *e = &c->slots[find_slot(c->slots, c->cap, ind->hash)];
    if (!e->used) c->count++;
    free(e->reason);
    e->reason = ind->status != INDIVIDUAL_OK ? star_strdup(ind->reason) : NULL;
    e->hash = ind->hash;
    e->used = 1;
    e->status = ind->status;
    memcpy(e->f, ind->f, sizeof e->f);
    e->cv = ind->cv;
}

int fitness_cache_get(const fitness_cache *c, uint64_t hash, individual *ind) {
    if (!c->cap) return 0;
    const fitness_entry *e = &c->slots[find_slot(c->slots, c->cap, hash)];
    if (!e->used) return 0;
    memcpy(ind->f, e->f, sizeof ind->f);
    ind->cv = e->cv;
    ind->status = e->status;
    if (e->reason) snprintf(ind->reason, sizeof ind->reason, "%s", e->reason);
    else ind->reason[0] = '\0';
    return 1;
}
