// star: checkpoints in the safetensors format (huggingface/safetensors), written and
// read exactly as published: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
// padded with spaces to a multiple of 8, then the data: each tensor row-major,
// little-endian, at [begin, end) of the bytes after the header, the tensors tiling
// that buffer without gaps.
//
// A file is untrusted input: the reader checks the header length against the file
// size, that the header is JSON of this shape (parsed with libyaml through common/ydoc),
// that every dtype is known, every shape's byte size matches its offsets, offsets are
// in bounds and contiguous, and names are unique; each failure names the file.
#ifndef STAR_EVAL_SAFETENSORS_H
#define STAR_EVAL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum st_dtype {
    ST_BOOL = 0, ST_U8, ST_I8, ST_F8_E5M2, ST_F8_E4M3, ST_I16, ST_U16, ST_F16, ST_BF16,
    ST_I32, ST_U32, ST_F32, ST_F64, ST_I64, ST_U64, ST_DTYPE_COUNT
} st_dtype;

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER (100u << 20)  // the reference implementation's limit

const char *st_dtype_name(st_dtype t);  // "F32", ...
int st_dtype_from_name(const char *name, st_dtype *out);  // 0, or -1 if unknown
size_t st_dtype_size(st_dtype t);       // bytes per element

// ---- writing ----
typedef struct st_writer st_writer;

st_writer *st_writer_create(void);
void st_writer_free(st_writer *w);
// Adds a tensor stored as dtype (ST_F32 or ST_BF16, rounded to nearest even) from
// float data of prod(shape) elements (ndim 0 is a scalar). The data is copied. Fails on
// an empty, reserved ("__metadata__") or repeated name, or a bad shape.
int st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim, const int64_t *shape, const float *data,
                  star_error *err);
int st_writer_add_metadata(st_writer *w, const char *key, const char *value, star_error *err);
// Writes the file atomically (common/file.h): tensors in the order they were added.
int st_writer_write(const st_writer *w, const char *path, star_error *err);

// ---- reading ----
typedef struct st_tensor_info {
    char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end;  // offsets into the data buffer
} st_tensor_info;

typedef struct st_file st_file;

int st_file_open(const char *path, st_file **out, star_error *err);
void st_file_close(st_file *f);
int st_file_count(const st_file *f);
const st_tensor_info *st_file_tensor(const st_file *f, int i);  // in header order
const st_tensor_info *st_file_find(const st_file *f, const char *name);  // NULL if absent
int st_file_metadata_count(const st_file *f);
const char *st_file_metadata_key(const st_file *f, int i);
const char *st_file_metadata(const st_file *f, const char *key);  // NULL if absent
// Reads a tensor into float (from F32, BF16, F16 or F64); n must equal its numel.
int st_file_read_f32(st_file *f, const char *name, float *out, size_t n, star_error *err);

// bf16 <-> float (round to nearest even; NaN stays NaN).
uint16_t st_f32_to_bf16(float x);
float st_bf16_to_f32(uint16_t h);
float st_f16_to_f32(uint16_t h);

#endif
