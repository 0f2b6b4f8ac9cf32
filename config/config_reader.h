// star: reading the config's YAML document (internal to config/). A cfg_reader wraps the
// document after the `--set` overrides were merged into it. Nodes an override added
// keep their line and column inside the override's value, and messages about them name
// the override ("--set a.b:1:8: ...") instead of the file: cfg_doc picks, per node, a
// view of the same document under the right name.
//
// Each cfg_<type> reads map[key] when it is present and not null, leaving *out (the
// default) alone otherwise; paths in messages are "section.key".
#ifndef STAR_CONFIG_CONFIG_READER_H
#define STAR_CONFIG_CONFIG_READER_H

#include <stddef.h>

#include "common/ydoc.h"
#include "config/config.h"

typedef struct cfg_origin {
    int first, last;  // node ids [first, last] were added by this override
    ydoc view;        // the merged document under the override's name (shares its nodes)
} cfg_origin;

typedef struct cfg_reader {
    ydoc *d;
    cfg_origin *origins;
    int n_origins;
    star_error *err;
} cfg_reader;

// The document to report node n against (the file, or the override that added it).
ydoc *cfg_doc(cfg_reader *r, const ynode *n);
int cfg_fail(cfg_reader *r, const ynode *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

// 1 for an absent node or a null scalar (plain "", "~", "null"): the key takes its default.
int cfg_is_null(const ynode *n);
// map[key], or NULL when absent or null.
ynode *cfg_get(cfg_reader *r, ynode *map, const char *key);
// Joins "section.key" into out (cap bytes).
void cfg_path(char *out, size_t cap, const char *section, const char *key);

// n must be a mapping whose keys are all in `allowed` (NULL-terminated), without repeats.
int cfg_check_keys(cfg_reader *r, ynode *n, const char *path, const char *const *allowed);
int cfg_expect_seq(cfg_reader *r, ynode *n, const char *path);

int cfg_int(cfg_reader *r, ynode *map, const char *section, const char *key, long lo, long hi, int *out);
int cfg_long(cfg_reader *r, ynode *map, const char *section, const char *key, long lo, long hi, long *out);
int cfg_double(cfg_reader *r, ynode *map, const char *section, const char *key, double lo, double hi,
               double *out);
int cfg_bool(cfg_reader *r, ynode *map, const char *section, const char *key, int *out);
// A non-empty string of fewer than cap bytes, copied into out.
int cfg_string(cfg_reader *r, ynode *map, const char *section, const char *key, char *out, size_t cap);
// A scalar node that must be one of names[0..count) (NULL entries are skipped); *out = index.
int cfg_choice_node(cfg_reader *r, ynode *n, const char *path, const char *const *names, int count, int *out);
int cfg_choice(cfg_reader *r, ynode *map, const char *section, const char *key, const char *const *names,
               int count, int *out);
// A non-empty string node (not a map or list) of fewer than cap bytes.
int cfg_string_node(cfg_reader *r, ynode *n, const char *path, char *out, size_t cap);

// The sections (config_read_*.c); each reads its mapping into c, defaults already there.
int cfg_read_run(cfg_reader *r, ynode *n, star_config *c);
int cfg_read_space(cfg_reader *r, ynode *n, star_config *c);
int cfg_read_objectives(cfg_reader *r, ynode *n, star_config *c);
int cfg_read_algorithm(cfg_reader *r, ynode *n, star_config *c);
int cfg_read_evaluation(cfg_reader *r, ynode *n, star_config *c);
int cfg_read_problem(cfg_reader *r, ynode *n, star_config *c);

// Merges one "a.b=VALUE" override into d (config_override.c). On success *first_id and
// *last_id span the nodes it added (first > last when it added none).
int config_apply_override(ydoc *d, const char *set, int *first_id, int *last_id, star_error *err);

#endif
