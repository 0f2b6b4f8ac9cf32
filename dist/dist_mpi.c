// star: dist.h over MPI (built when CMake finds MPI: STAR_WITH_MPI).
#ifdef STAR_WITH_MPI
#include "dist/dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dist_comm {
    MPI_Comm comm;
    int rank, size;
};

static dist_comm world = {.comm = MPI_COMM_NULL, .rank = 0, .size = 1};
static int started;  // this process called MPI_Init
static int local_rank;

// The launcher's mark in the environment: Open MPI's mpirun, PMIx (Open MPI 5, srun
// --mpi=pmix) and PMI (MPICH's hydra, srun --mpi=pmi2).
static int launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

static int mpi_fail(int rc, const char *call, star_error *err) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int n = 0;
    MPI_Error_string(rc, msg, &n);
    return STAR_FAIL(err, "%s failed on rank %d of %d: %s", call, world.rank, world.size, msg);
}
#define MPI_CHECK(call, err)                                 \
    do {                                                     \
        int rc_ = (call);                                    \
        if (rc_ != MPI_SUCCESS) return mpi_fail(rc_, #call, err); \
    } while (0)

int dist_built_with_mpi(void) { return 1; }

int dist_init(star_error *err) {
    if (started) return 0;
    if (!launched_by_mpi()) {
        // srun started several tasks that cannot find each other: each would run the
        // whole search alone, all into one run directory.
        const char *n = getenv("SLURM_STEP_NUM_TASKS");
        if (n && atoi(n) > 1)
            return STAR_FAIL(err, "srun started %s tasks but gave them no MPI process manager (PMI or PMIx): launch "
                                  "with srun --mpi=pmix (or --mpi=pmi2; srun --mpi=list shows which)", n);
        return 0;
    }
    int provided = 0;
    MPI_CHECK(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), err);
    started = 1;
    world.comm = MPI_COMM_WORLD;
    // Errors come back as return codes (reported with the call's name), not a silent abort.
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), err);
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world.rank), err);
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world.size), err);
    MPI_Comm node;
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank, MPI_INFO_NULL, &node), err);
    MPI_CHECK(MPI_Comm_rank(node, &local_rank), err);
    MPI_CHECK(MPI_Comm_free(&node), err);
    return 0;
}

void dist_finalize(void) {
    if (!started) return;
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
    started = 0;
}

void dist_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    if (started) MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code);
}

const dist_comm *dist_world(void) { return &world; }
int dist_local_rank(void) { return local_rank; }
int dist_rank(const dist_comm *c) { return c->rank; }
int dist_size(const dist_comm *c) { return c->size; }

int dist_split(const dist_comm *c, int color, int key, dist_comm **out, star_error *err) {
    *out = NULL;
    dist_comm *d = calloc(1, sizeof *d);
    if (!d) return STAR_FAIL(err, "out of memory");
    if (c->comm == MPI_COMM_NULL) {  // a world of one
        *d = (dist_comm){.comm = MPI_COMM_NULL, .rank = 0, .size = 1};
        *out = d;
        return 0;
    }
    int rc = MPI_Comm_split(c->comm, color, key, &d->comm);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(d->comm, &d->rank);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_size(d->comm, &d->size);
    if (rc != MPI_SUCCESS) {
        free(d);
        return mpi_fail(rc, "MPI_Comm_split", err);
    }
    *out = d;
    return 0;
}

void dist_comm_free(dist_comm *c) {
    if (!c) return;
    if (c->comm != MPI_COMM_NULL && c->comm != MPI_COMM_WORLD) MPI_Comm_free(&c->comm);
    free(c);
}

int dist_barrier(const dist_comm *c, star_error *err) {
    if (c->size == 1) return 0;
    MPI_CHECK(MPI_Barrier(c->comm), err);
    return 0;
}

// MPI counts are ints: large buffers go in pieces.
#define DIST_CHUNK ((size_t)1 << 30)

int dist_bcast(const dist_comm *c, void *buf, size_t len, int root, star_error *err) {
    if (c->size == 1) return 0;
    for (size_t off = 0; off < len; off += DIST_CHUNK) {
        size_t n = len - off < DIST_CHUNK ? len - off : DIST_CHUNK;
        MPI_CHECK(MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, c->comm), err);
    }
    return 0;
}

int dist_bcast_blob(const dist_comm *c, char **buf, size_t *len, int root, star_error *err) {
    if (c->size == 1) return 0;
    unsigned long long n = c->rank == root ? (unsigned long long)*len : 0;
    MPI_CHECK(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, c->comm), err);
    if (c->rank != root) {
        free(*buf);
        *buf = malloc((size_t)n + 1);
        if (!*buf) return STAR_FAIL(err, "out of memory receiving %llu bytes", n);
        (*buf)[n] = '\0';
        *len = (size_t)n;
    }
    return dist_bcast(c, *buf, (size_t)n, root, err);
}

int dist_agree(const dist_comm *c, int rc, star_error *err) {
    if (c->size == 1) return rc ? -1 : 0;
    int mine = rc ? c->rank : c->size, first = c->size;
    int mrc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
    if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Allreduce", err);
    if (first == c->size) return 0;
    star_error e;
    memset(&e, 0, sizeof e);
    if (c->rank == first) e = *err;
    mrc = MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, first, c->comm);
    if (mrc != MPI_SUCCESS) return mpi_fail(mrc, "MPI_Bcast", err);
    if (err) {
        *err = e;
        if (first != 0) star_error_prefix(err, "rank %d", first);
    }
    return -1;
}

// Sends not yet known to be complete (their buffers belong to the caller until then).
static MPI_Request *pending;
static int n_pending, cap_pending;
#define DIST_TAG_STREAM 7

int dist_post_send(const dist_comm *c, const void *buf, size_t len, int dest, star_error *err) {
    if (len > (size_t)0x7fffffff) return STAR_FAIL(err, "a message of %zu bytes is too long to send", len);
    if (n_pending == cap_pending) {
        int cap = cap_pending ? 2 * cap_pending : 16;
        MPI_Request *p = realloc(pending, sizeof *p * (size_t)cap);
        if (!p) return STAR_FAIL(err, "out of memory");
        pending = p;
        cap_pending = cap;
    }
    MPI_CHECK(MPI_Isend(buf, (int)len, MPI_BYTE, dest, DIST_TAG_STREAM, c->comm, &pending[n_pending]), err);
    n_pending++;
    return 0;
}

int dist_sends_complete(star_error *err) {
    if (n_pending == 0) return 0;
    int rc = MPI_Waitall(n_pending, pending, MPI_STATUSES_IGNORE);
    n_pending = 0;
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Waitall", err);
    return 0;
}

int dist_try_recv(const dist_comm *c, int wait, char **buf, size_t *len, int *source, star_error *err) {
    MPI_Status st;
    if (wait) {
        MPI_CHECK(MPI_Probe(MPI_ANY_SOURCE, DIST_TAG_STREAM, c->comm, &st), err);
    } else {
        int flag = 0;
        MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, DIST_TAG_STREAM, c->comm, &flag, &st), err);
        if (!flag) return 0;
    }
    int count = 0;
    MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count), err);
    char *b = malloc((size_t)count + 1);
    if (!b) return STAR_FAIL(err, "out of memory receiving %d bytes", count);
    int rc = MPI_Recv(b, count, MPI_BYTE, st.MPI_SOURCE, DIST_TAG_STREAM, c->comm, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
        free(b);
        return mpi_fail(rc, "MPI_Recv", err);
    }
    b[count] = '\0';
    *buf = b;
    *len = (size_t)count;
    *source = st.MPI_SOURCE;
    return 1;
}

static int allreduce(const dist_comm *c, void *buf, size_t n, size_t elem, MPI_Datatype type, star_error *err) {
    if (c->size == 1) return 0;
    size_t per = DIST_CHUNK / elem;
    for (size_t off = 0; off < n; off += per) {
        size_t k = n - off < per ? n - off : per;
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * elem, (int)k, type, MPI_SUM, c->comm), err);
    }
    return 0;
}

int dist_allreduce_sum_float(const dist_comm *c, float *buf, size_t n, star_error *err) {
    return allreduce(c, buf, n, sizeof(float), MPI_FLOAT, err);
}

int dist_allreduce_sum_double(const dist_comm *c, double *buf, size_t n, star_error *err) {
    return allreduce(c, buf, n, sizeof(double), MPI_DOUBLE, err);
}
#else
typedef int dist_mpi_unused;  // ISO C wants a translation unit to declare something
#endif
