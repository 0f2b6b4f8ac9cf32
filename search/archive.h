// star search: the run's archive, archive.jsonl: one JSON line per evaluation, appended
// and fsync'd as soon as the evaluation ends, so a crash loses nothing measured. On
// resume it is read back into a fitness cache: the evolution is replayed from the seed
// and every candidate found in the archive takes its stored result instead of being
// evaluated again. Lines are untrusted input: a malformed line is an error naming the
// file and line, except a torn last line (a crash mid-append), which is cut off.
//
// A line: {"gen":G,"eval":K,"hash":"16 hex digits","fidelity":F,"x":<candidate>,"status":"ok"|
// "infeasible","failed":bool,"reason":"...","objectives":{"name":value|null,...},
// "cv":C,"metrics":{...},"seed":S,"wall_s":W}
#ifndef STAR_SEARCH_ARCHIVE_H
#define STAR_SEARCH_ARCHIVE_H

#include <stdint.h>

#include "common/error.h"
#include "common/json.h"
#include "search/fitness_cache.h"
#include "search/individual.h"

typedef struct archive_record {
    int gen;
    long eval;  // 0-based sequence number of the evaluation in the run
    int fidelity;  // training steps of a multi-fidelity rung; 0 = the run's one fidelity
    const individual *ind;
    const char *const *obj_names;
    int n_obj;
    uint64_t seed;  // the seed its evaluation used
    double wall_s;
    int rank;  // the MPI rank (world) that evaluated it; 0 in a run of one process
    // Writers of the "x" value and of the members of "metrics" (may be NULL).
    void (*write_x)(void *ctx, const void *x, json_writer *w);
    void (*write_metrics)(void *ctx, uint64_t hash, json_writer *w);
    void *ctx;
} archive_record;

// Formats one record as a JSON line (no newline) into w.
void archive_format(const archive_record *r, json_writer *w);
int archive_append(const char *path, const archive_record *r, star_error *err);

// The key a result is stored under: the candidate's hash mixed with its fidelity.
uint64_t archive_key(uint64_t hash, int fidelity);

// Reads path (absent = empty) into cache, keyed by archive_key, with f in the order of
// obj_names (null = +inf). Cuts a torn last line off the file. *n_lines = records read.
int archive_load(const char *path, const char *const *obj_names, int n_obj, fitness_cache *cache, long *n_lines,
                 star_error *err);
// Reads an archive that ends with a newline (or is empty) from memory; path names it in
// messages. archive_read_text reads path, cuts a torn last line off the file as
// archive_load does, and returns the text (the caller frees it; NULL and 0 when absent).
int archive_load_text(const char *path, const char *text, size_t len, const char *const *obj_names, int n_obj,
                      fitness_cache *cache, long *n_lines, star_error *err);
int archive_read_text(const char *path, char **text, size_t *len, star_error *err);

#endif
