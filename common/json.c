#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static void put(json_writer *w, const char *s, size_t n) {
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1) cap *= 2;
        w->buf = star_realloc(w->buf, cap);
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(json_writer *w, const char *s) { put(w, s, strlen(s)); }

// Every value or key is preceded by a comma unless it is the first at its depth or
// the value of a key just written.
static void sep(json_writer *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->need_comma[w->depth]) put(w, ",", 1);
        w->need_comma[w->depth] = 1;
    }
}

void jw_init(json_writer *w) { memset(w, 0, sizeof *w); }

void jw_free(json_writer *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void jw_reset(json_writer *w) {
    w->len = 0;
    if (w->buf) w->buf[0] = '\0';
    w->depth = 0;
    w->after_key = 0;
    memset(w->need_comma, 0, sizeof w->need_comma);
}

static void open_(json_writer *w, const char *c) {
    sep(w);
    put(w, c, 1);
    if (w->depth < 63) w->depth++;
    w->need_comma[w->depth] = 0;
}

static void close_(json_writer *w, const char *c) {
    if (w->depth > 0) w->depth--;
    put(w, c, 1);
}

void jw_obj_begin(json_writer *w) { open_(w, "{"); }
void jw_obj_end(json_writer *w) { close_(w, "}"); }
void jw_arr_begin(json_writer *w) { open_(w, "["); }
void jw_arr_end(json_writer *w) { close_(w, "]"); }

static void quoted(json_writer *w, const char *s) {
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': puts_(w, "\\\""); break;
        case '\\': puts_(w, "\\\\"); break;
        case '\n': puts_(w, "\\n"); break;
        case '\r': puts_(w, "\\r"); break;
        case '\t': puts_(w, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(w, esc);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void jw_key(json_writer *w, const char *key) {
    sep(w);
    quoted(w, key);
    put(w, ":", 1);
    w->after_key = 1;
}

void jw_str(json_writer *w, const char *s) {
    sep(w);
    quoted(w, s);
}

void jw_int(json_writer *w, int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    sep(w);
    puts_(w, b);
}

void jw_double(json_writer *w, double v) {
    sep(w);
    if (!isfinite(v)) {
        puts_(w, "null");
        return;
    }
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    puts_(w, b);
}

void jw_bool(json_writer *w, int v) {
    sep(w);
    puts_(w, v ? "true" : "false");
}

void jw_null(json_writer *w) {
    sep(w);
    puts_(w, "null");
}

void jw_raw(json_writer *w, const char *json) {
    sep(w);
    puts_(w, json);
}

void jw_kv_str(json_writer *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
void jw_kv_int(json_writer *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kv_double(json_writer *w, const char *k, double v) { jw_key(w, k); jw_double(w, v); }
void jw_kv_bool(json_writer *w, const char *k, int v) { jw_key(w, k); jw_bool(w, v); }
