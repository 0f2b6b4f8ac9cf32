// star: a small JSON writer into a growable buffer (archive lines, --json output,
// safetensors headers). Doubles print with %.17g so they read back bit-exact;
// non-finite doubles print as null (JSON has no NaN).
#ifndef STAR_COMMON_JSON_H
#define STAR_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct json_writer {
    char *buf;
    size_t len, cap;
    int need_comma[64];  // per nesting depth
    int depth;
    int after_key;  // the next value follows a key: no comma before it
} json_writer;

void jw_init(json_writer *w);
void jw_free(json_writer *w);
void jw_reset(json_writer *w);
void jw_obj_begin(json_writer *w);
void jw_obj_end(json_writer *w);
void jw_arr_begin(json_writer *w);
void jw_arr_end(json_writer *w);
void jw_key(json_writer *w, const char *key);  // inside an object, before a value
void jw_str(json_writer *w, const char *s);
void jw_int(json_writer *w, int64_t v);
void jw_double(json_writer *w, double v);
void jw_bool(json_writer *w, int v);
void jw_null(json_writer *w);
// Emits raw text as a value (must be valid JSON).
void jw_raw(json_writer *w, const char *json);
// Convenience: key + value.
void jw_kv_str(json_writer *w, const char *k, const char *v);
void jw_kv_int(json_writer *w, const char *k, int64_t v);
void jw_kv_double(json_writer *w, const char *k, double v);
void jw_kv_bool(json_writer *w, const char *k, int v);

#endif
