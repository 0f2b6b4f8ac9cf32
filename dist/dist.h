// star: processes working together. A tiny interface over MPI (dist_mpi.c, built with
// STAR_WITH_MPI) with a single-process fallback (dist_single.c) that behaves as a world
// of one rank: star builds and runs without MPI, and nothing above this header knows
// which one it got.
//
// MPI is initialized only when an MPI launcher started the process (mpirun, mpiexec,
// srun with PMI/PMIx): a plain `star search` never touches MPI, so it needs no launcher
// and pays nothing for it. Communicators return errors (MPI_ERRORS_RETURN) and every
// call reports them as a star_error naming the call.
#ifndef STAR_DIST_DIST_H
#define STAR_DIST_DIST_H

#include <stddef.h>

#include "common/error.h"

typedef struct dist_comm dist_comm;

// Starts MPI when the process was launched by an MPI launcher; else a world of one.
// Idempotent. Returns -1 (err set) when the launcher asks for MPI and this build has
// none, or MPI fails to start.
int dist_init(star_error *err);
// Ends MPI normally (every rank must call it). Without MPI it does nothing.
void dist_finalize(void);
// Stops every rank of the job at once with exit status code: for a rank that cannot go
// on while the others may be waiting on it (a failed collective, a hung candidate).
// Without MPI it exits the process.
void dist_abort(int code) __attribute__((noreturn));

int dist_built_with_mpi(void);  // 1 when this build has MPI
const dist_comm *dist_world(void);  // valid after dist_init (a world of one before it)
// This rank's index among the ranks on its own machine (0 without MPI): which GPU it takes.
int dist_local_rank(void);
int dist_rank(const dist_comm *c);
int dist_size(const dist_comm *c);

// Ranks of c with the same color form a new communicator, ordered by key.
int dist_split(const dist_comm *c, int color, int key, dist_comm **out, star_error *err);
void dist_comm_free(dist_comm *c);

int dist_barrier(const dist_comm *c, star_error *err);
// Broadcasts len bytes at buf from root.
int dist_bcast(const dist_comm *c, void *buf, size_t len, int root, star_error *err);
// Broadcasts a heap buffer of any length from root: on the other ranks *buf is replaced
// by a new malloc'd buffer (NUL-terminated) of *len bytes that the caller frees.
int dist_bcast_blob(const dist_comm *c, char **buf, size_t *len, int root, star_error *err);
// Point to point, for results streamed to one rank as they finish. dist_post_send
// starts sending len bytes to dest (buf must stay valid until dist_sends_complete);
// dist_try_recv takes one message from any rank of c: 1 with *buf (malloc'd,
// NUL-terminated, the caller frees it), *len and *source set, 0 when none is there and
// wait is 0.
int dist_post_send(const dist_comm *c, const void *buf, size_t len, int dest, star_error *err);
int dist_sends_complete(star_error *err);
int dist_try_recv(const dist_comm *c, int wait, char **buf, size_t *len, int *source, star_error *err);
// In-place sums over the ranks of c.
int dist_allreduce_sum_float(const dist_comm *c, float *buf, size_t n, star_error *err);
int dist_allreduce_sum_double(const dist_comm *c, double *buf, size_t n, star_error *err);

// Every rank passes its status (0 ok, -1 failed with err set); returns 0 when all are
// 0, else -1 on every rank with err holding the message of the lowest failing rank
// (prefixed with its rank when it is not rank 0): the ranks leave together, never with
// one of them waiting in a collective for the others.
int dist_agree(const dist_comm *c, int rc, star_error *err);

// Splits the world into groups of per_group consecutive ranks (a world smaller than
// per_group is one group; ranks left over join the last group). *group is this rank's.
int dist_make_groups(const dist_comm *world, int per_group, dist_comm **group, int *group_index, int *n_groups,
                     star_error *err);
// The world rank of rank 0 of group g (groups as dist_make_groups makes them).
int dist_group_leader(int world_size, int per_group, int g);

// A watchdog for work that must not hang: armed for `seconds`, it stops the whole job
// (dist_abort(3)) with a message naming `what` unless disarmed in time. One at a time
// per process; seconds <= 0 arms nothing.
void dist_watchdog_arm(double seconds, const char *what);
void dist_watchdog_disarm(void);

#endif
