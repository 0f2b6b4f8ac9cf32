// star: `--set a.b=VALUE` overrides, merged into the parsed config document before it is
// validated, so an override meets exactly the checks the same key in the file would.
// VALUE is parsed as YAML on its own (under the name "--set a.b"); its nodes are copied
// into the document with their line and column inside VALUE. Missing mappings on the
// way are created; a numeric component indexes a list (objectives.1.max=5e5).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_reader.h"

#define OVERRIDE_MAX_PARTS 16
#define OVERRIDE_MAX_NESTING 64

static yaml_node_t *node_at(yaml_document_t *doc, int id) { return doc->nodes.start + (id - 1); }

static int node_count(yaml_document_t *doc) { return (int)(doc->nodes.top - doc->nodes.start); }

// Copies src's node src_id (and everything under it) into dst; returns the new id, or 0.
// Node pointers into dst are re-fetched after every addition: adding may move them.
static int copy_node(yaml_document_t *dst, yaml_document_t *src, int src_id, int nesting) {
    yaml_node_t *s = node_at(src, src_id);
    if (nesting > OVERRIDE_MAX_NESTING) return 0;
    int id = 0;
    if (s->type == YAML_SCALAR_NODE) {
        id = yaml_document_add_scalar(dst, s->tag, s->data.scalar.value, (int)s->data.scalar.length,
                                      s->data.scalar.style);
    } else if (s->type == YAML_SEQUENCE_NODE) {
        id = yaml_document_add_sequence(dst, s->tag, s->data.sequence.style);
        for (yaml_node_item_t *it = s->data.sequence.items.start; id && it < s->data.sequence.items.top; it++) {
            int item = copy_node(dst, src, *it, nesting + 1);
            if (!item || !yaml_document_append_sequence_item(dst, id, item)) return 0;
        }
    } else if (s->type == YAML_MAPPING_NODE) {
        id = yaml_document_add_mapping(dst, s->tag, s->data.mapping.style);
        for (yaml_node_pair_t *p = s->data.mapping.pairs.start; id && p < s->data.mapping.pairs.top; p++) {
            int key = copy_node(dst, src, p->key, nesting + 1);
            int value = key ? copy_node(dst, src, p->value, nesting + 1) : 0;
            if (!value || !yaml_document_append_mapping_pair(dst, id, key, value)) return 0;
        }
    }
    if (!id) return 0;
    node_at(dst, id)->start_mark = s->start_mark;
    node_at(dst, id)->end_mark = s->end_mark;
    return id;
}

static int add_key(yaml_document_t *doc, const char *key) {
    return yaml_document_add_scalar(doc, NULL, (const yaml_char_t *)key, (int)strlen(key), YAML_PLAIN_SCALAR_STYLE);
}

static int is_null_scalar(yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && cfg_is_null(n);
}

// Pair index of key in mapping node id, or -1.
static int find_pair(yaml_document_t *doc, int map, const char *key) {
    yaml_node_t *m = node_at(doc, map);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(doc, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return (int)(p - m->data.mapping.pairs.start);
    }
    return -1;
}

// The value of the override as a node of doc: a copy of VALUE's tree, or a null scalar
// when VALUE is empty (the key then takes its default).
static int value_node(yaml_document_t *doc, ydoc *val) {
    if (!ydoc_root(val)) return yaml_document_add_scalar(doc, NULL, (const yaml_char_t *)"", 0, YAML_PLAIN_SCALAR_STYLE);
    return copy_node(doc, &val->doc, 1, 0);
}

// Walks (creating mappings) to the parent of the last component and stores the value there.
static int merge(ydoc *d, char parts[][128], int n_parts, ydoc *val, const char *label, star_error *err) {
    yaml_document_t *doc = &d->doc;
    int cur = 1;  // the root is the first node
    char where[512] = "";
    for (int k = 0; k < n_parts; k++) {
        const char *part = parts[k];
        int last = k == n_parts - 1;
        yaml_node_t *n = node_at(doc, cur);
        if (n->type == YAML_MAPPING_NODE) {
            int i = find_pair(doc, cur, part);
            int child;
            if (last)
                child = value_node(doc, val);
            else if (i >= 0 && !is_null_scalar(node_at(doc, node_at(doc, cur)->data.mapping.pairs.start[i].value)))
                child = node_at(doc, cur)->data.mapping.pairs.start[i].value;
            else
                child = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
            if (!child) return STAR_FAIL(err, "%s: cannot add the value to the config (out of memory or too deeply nested)", label);
            if (i >= 0) {
                node_at(doc, cur)->data.mapping.pairs.start[i].value = child;
            } else {
                int key = add_key(doc, part);
                if (!key || !yaml_document_append_mapping_pair(doc, cur, key, child))
                    return STAR_FAIL(err, "%s: cannot add key '%s' to the config", label, part);
            }
            cur = child;
        } else if (n->type == YAML_SEQUENCE_NODE) {
            long len = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
            char *end;
            long idx = strtol(part, &end, 10);
            if (end == part || *end || idx < 0 || idx >= len)
                return STAR_FAIL(err, "%s: '%s' is not an index of the list %s (it has %ld items)", label, part,
                                 where[0] ? where : "at the root", len);
            if (last) {
                int child = value_node(doc, val);
                if (!child) return STAR_FAIL(err, "%s: cannot add the value to the config", label);
                node_at(doc, cur)->data.sequence.items.start[idx] = child;
                cur = child;
            } else {
                cur = n->data.sequence.items.start[idx];
            }
        } else {
            return STAR_FAIL(err, "%s: %s is a single value, not a mapping with key '%s'", label,
                             where[0] ? where : "the config", part);
        }
        size_t off = strlen(where);
        snprintf(where + off, sizeof where - off, "%s%s", off ? "." : "", part);
    }
    return 0;
}

int config_apply_override(ydoc *d, const char *set, int *first_id, int *last_id, star_error *err) {
    const char *eq = strchr(set, '=');
    size_t key_len = eq ? (size_t)(eq - set) : strlen(set);
    char label[320];
    snprintf(label, sizeof label, "--set %.*s", (int)(key_len < 256 ? key_len : 256), set);
    if (!eq || key_len == 0) return STAR_FAIL(err, "--set '%s': expected KEY=VALUE, e.g. algorithm.population=32", set);

    char parts[OVERRIDE_MAX_PARTS][128];
    int n_parts = 0;
    for (const char *p = set; p <= eq;) {
        size_t len = strcspn(p, ".=");
        if (p + len > eq) len = (size_t)(eq - p);
        if (len == 0 || len >= sizeof parts[0] || n_parts == OVERRIDE_MAX_PARTS)
            return STAR_FAIL(err, "%s: the key must be names joined by '.', e.g. space.depth.max", label);
        memcpy(parts[n_parts], p, len);
        parts[n_parts++][len] = '\0';
        p += len + 1;
    }

    ydoc val;
    if (ydoc_load_string(&val, eq + 1, strlen(eq + 1), label, err)) return -1;
    if (!ydoc_root(d)) {  // an empty file: start a document with an empty root mapping
        yaml_document_delete(&d->doc);
        if (!yaml_document_initialize(&d->doc, NULL, NULL, NULL, 1, 1)) {
            ydoc_free(&val);
            d->loaded = 0;
            return STAR_FAIL(err, "%s: cannot create a YAML document", label);
        }
        d->loaded = 1;
    }
    *first_id = node_count(&d->doc) + 1;
    int rc = 0;
    if (node_count(&d->doc) == 0 && !yaml_document_add_mapping(&d->doc, NULL, YAML_BLOCK_MAPPING_STYLE))
        rc = STAR_FAIL(err, "%s: cannot create a YAML document", label);
    if (!rc) rc = merge(d, parts, n_parts, &val, label, err);
    *last_id = node_count(&d->doc);
    ydoc_free(&val);
    return rc;
}
