// star: dist.h for a build without MPI: a world of one rank. A process that an MPI
// launcher started is refused with a clear message rather than run N times alone.
#ifndef STAR_WITH_MPI
#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dist_comm {
    int rank, size;
};

static dist_comm world = {.rank = 0, .size = 1};

int dist_built_with_mpi(void) { return 0; }

int dist_init(star_error *err) {
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = getenv("PMI_SIZE");
    if (!n) n = getenv("SLURM_STEP_NUM_TASKS");
    if (n && atoi(n) > 1)
        return STAR_FAIL(err, "started by a launcher as %s ranks, but this star was built without MPI "
                              "(install libopenmpi-dev and build again)", n);
    return 0;
}

void dist_finalize(void) {}

void dist_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}

const dist_comm *dist_world(void) { return &world; }
int dist_local_rank(void) { return 0; }
int dist_rank(const dist_comm *c) { return c->rank; }
int dist_size(const dist_comm *c) { return c->size; }

int dist_split(const dist_comm *c, int color, int key, dist_comm **out, star_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return STAR_FAIL(err, "out of memory");
    (*out)->size = 1;
    return 0;
}

void dist_comm_free(dist_comm *c) { free(c); }
int dist_barrier(const dist_comm *c, star_error *err) { return 0; }
int dist_bcast(const dist_comm *c, void *buf, size_t len, int root, star_error *err) { return 0; }
int dist_bcast_blob(const dist_comm *c, char **buf, size_t *len, int root, star_error *err) { return 0; }
int dist_agree(const dist_comm *c, int rc, star_error *err) { return rc ? -1 : 0; }
// A world of one has no one to talk to: sends and receives are errors of the caller.
int dist_post_send(const dist_comm *c, const void *buf, size_t len, int dest, star_error *err) {
    return STAR_FAIL(err, "dist_post_send in a world of one rank");
}
int dist_sends_complete(star_error *err) { return 0; }
int dist_try_recv(const dist_comm *c, int wait, char **buf, size_t *len, int *source, star_error *err) {
    if (wait) return STAR_FAIL(err, "dist_try_recv would wait for ever in a world of one rank");
    return 0;
}
int dist_allreduce_sum_float(const dist_comm *c, float *buf, size_t n, star_error *err) { return 0; }
int dist_allreduce_sum_double(const dist_comm *c, double *buf, size_t n, star_error *err) { return 0; }
#else
typedef int dist_single_unused;  // ISO C wants a translation unit to declare something
#endif
