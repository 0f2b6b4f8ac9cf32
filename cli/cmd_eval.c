// star eval ARCH --suite mad|text [--tasks a,b] [--data FILE] [budget] [--backend cpu|cuda] [--json]
// star eval --ckpt DIR --suite text --data FILE
//
// Scores an architecture the way the search's quality objective does: a fresh model
// per MAD task (as MAD trains them), or one model on text, trained for the budget and
// scored on at most --val-sequences held-out sequences.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_args.h"
#include "cli/ckpt_model.h"
#include "cli/commands.h"
#include "common/json.h"
#include "eval/data_open.h"
#include "eval/mad.h"
#include "eval/model.h"
#include "eval/model_cuda.h"
#include "eval/quality.h"
#include "eval/train.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: star eval ARCH --suite mad [--tasks TASK,TASK...] [options]\n"
            "       star eval ARCH --suite text (--data FILE | --bin PATTERN) [options]\n"
            "       star eval --ckpt DIR --suite text (--data FILE | --bin PATTERN) [options]\n\n"
            "--suite mad trains a fresh model on each MAD task (default: all six) for the budget\n"
            "and prints each task's accuracy and validation loss, and their means. --suite text\n"
            "trains one model on the data and prints the validation loss (nats per token) and,\n"
            "for byte-level text, bits per byte. --ckpt DIR trains nothing: it loads the\n"
            "checkpoint (genome, width and vocabulary from its metadata) and scores validation.\n\n"
            "  --suite mad|text     what to evaluate on (required)\n"
            "  --backend cpu|cuda   where the models train: the CPU engine (default) or the first\n"
            "                       CUDA device (a build with the CUDA backend; as star train)\n"
            "  --tasks A,B          MAD tasks, of:");
    for (const char *const *t = mad_task_names(); *t; t++) fprintf(f, "%s %s", t == mad_task_names() ? "" : ",", *t);
    fprintf(f,
            "\n"
            "  --ckpt DIR           score a checkpoint (suite text only; leave ARCH out)\n"
            "  --val-sequences N    score at most N validation sequences, in batches spread\n"
            "                       evenly over the split (default %d, as the search does;\n"
            "                       0 = the whole validation split)\n\n"
            "%s",
            QUALITY_VAL_SEQUENCES, arch_args_help);
}

typedef struct eval_options {
    const char *suite, *tasks, *ckpt, *backend;
    int on_cuda;
    long val_sequences;
    mad_task task[MAD_TASK_COUNT];
    int n_tasks;
} eval_options;

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star eval: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star eval --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

// Parses --tasks into o->task (each task once); all six when absent.
static int parse_tasks(eval_options *o) {
    o->n_tasks = 0;
    if (!o->tasks) {
        for (int t = 0; t < MAD_TASK_COUNT; t++) o->task[o->n_tasks++] = (mad_task)t;
        return 0;
    }
    char buf[1024];
    if (strlen(o->tasks) >= sizeof buf) return usage_error("--tasks: the list is too long");
    snprintf(buf, sizeof buf, "%s", o->tasks);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        star_error err;
        mad_task t;
        if (mad_task_by_name(tok, &t, &err) != 0) return usage_error("--tasks: %s", err.msg);
        for (int k = 0; k < o->n_tasks; k++)
            if (o->task[k] == t) return usage_error("--tasks: '%s' is named twice", tok);
        o->task[o->n_tasks++] = t;
    }
    if (o->n_tasks == 0) return usage_error("--tasks: expected at least one task, got '%s'", o->tasks);
    return 0;
}

static int parse_args(int argc, char **argv, arch_args *a, eval_options *o) {
    for (int i = 1; i < argc; i++) {
        const char **str = !strcmp(argv[i], "--suite") ? &o->suite
                           : !strcmp(argv[i], "--tasks") ? &o->tasks
                           : !strcmp(argv[i], "--ckpt")    ? &o->ckpt
                           : !strcmp(argv[i], "--backend") ? &o->backend
                                                           : NULL;
        if (str) {
            if (i + 1 >= argc) return usage_error("%s needs a value", argv[i]);
            *str = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--val-sequences")) {
            if (arch_args_long(argc, argv, &i, 0, 1L << 30, &o->val_sequences) != 0) return EXIT_USAGE;
            continue;
        }
        int r = arch_args_option(a, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        if (argv[i][0] == '-') return usage_error("unknown option '%s'", argv[i]);
        if (a->arch_arg) return usage_error("unexpected argument '%s' (one ARCH only)", argv[i]);
        a->arch_arg = argv[i];
    }
    if (!o->suite) return usage_error("--suite mad|text is required");
    int mad = !strcmp(o->suite, "mad"), text = !strcmp(o->suite, "text");
    if (!mad && !text) return usage_error("--suite: expected mad or text, got '%s'", o->suite);
    if (o->backend && strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda"))
        return usage_error("--backend: expected cpu or cuda, got '%s'", o->backend);
    o->on_cuda = o->backend && !strcmp(o->backend, "cuda");
    if (o->on_cuda && o->ckpt) return usage_error("--ckpt scores on the CPU: leave out --backend cuda");
    if (a->mad) return usage_error("--mad is not an eval option: use --suite mad --tasks %s", a->mad);
    if (a->save || a->from) return usage_error("--save and --from are train options (%s)", "star train --help");
    if (mad && (a->data || a->bin)) return usage_error("--suite mad generates its own data: leave out --data/--bin");
    if (mad && o->ckpt) return usage_error("--ckpt scores --suite text only");
    if (text && o->tasks) return usage_error("--tasks belongs to --suite mad");
    if (text && !!a->data + !!a->bin != 1) return usage_error("--suite text needs exactly one of --data FILE, --bin PATTERN");
    if (o->ckpt && a->arch_arg)
        return usage_error("--ckpt takes the architecture from the checkpoint: leave out '%s'", a->arch_arg);
    if (!o->ckpt && !a->arch_arg) return usage_error("no architecture given (a genome string or a file)");
    if (o->ckpt && (a->width || a->vocab)) return usage_error("--ckpt fixes the width and vocabulary");
    return mad ? parse_tasks(o) : 0;
}

static void json_head(json_writer *w, const char *suite, const char *genome, genome_dims dims, size_t params) {
    jw_obj_begin(w);
    jw_kv_str(w, "suite", suite);
    jw_kv_str(w, "genome", genome);
    jw_kv_int(w, "width", dims.width);
    jw_kv_int(w, "vocab", dims.vocab);
    jw_kv_int(w, "params", (int64_t)params);
}

static void print_json(json_writer *w) {
    jw_obj_end(w);
    printf("%s\n", w->buf);
    jw_free(w);
}

// Trains and scores one model on src; a failed model (diverged; on CUDA also out of
// device memory or a class the device does not run) is r->ok = 0.
static int train_on(const arch_args *a, const eval_options *o, const data_source *src, int T, size_t *params,
                    train_result *r, star_error *err) {
    model_options mo = {.max_batch = a->batch, .max_seq = T, .seed = a->seed};
    train_params tp;
    arch_args_train_params(a, T, &tp);
    tp.val_batches = validation_batches(o->val_sequences, a->batch);
    if (o->on_cuda) return train_new_cuda(&a->a, mo, 0, src, &tp, params, r, err);
    model *m;
    if (model_create(&a->a, mo, &m, err) != 0) return -1;
    *params = model_param_count(m);
    int rc = train_run(m, src, &tp, r, err);
    model_free(m);
    return rc;
}

static int eval_mad(const arch_args *a, const eval_options *o, star_error *err) {
    train_result res[MAD_TASK_COUNT];
    size_t params = 0;
    int n_failed = 0, first_failed = -1;
    double wall = 0, acc_sum = 0, loss_sum = 0;
    if (!a->json)
        printf("%s: width %d, vocab %d, %d steps of %d x %d per task\n", a->genome_string, a->dims.width, a->dims.vocab,
               a->steps, a->batch, a->seq_len);
    for (int k = 0; k < o->n_tasks; k++) {
        const char *name = mad_task_name(o->task[k]);
        data_handle h;
        data_source src;
        if (data_open(&h, DATA_MAD, name, a->seq_len, a->dims.vocab, a->seed, &src, err) != 0) return -1;
        int rc = train_on(a, o, &src, h.seq_len, &params, &res[k], err);
        data_close(&h);
        if (rc != 0) return star_error_prefix(err, "MAD task %s", name);
        wall += res[k].wall_s;
        if (!res[k].ok) {
            n_failed++;
            if (first_failed < 0) first_failed = k;
        } else {
            acc_sum += res[k].accuracy;
            loss_sum += res[k].val_loss;
        }
        if (a->json) continue;
        if (res[k].ok)
            printf("  %-26s accuracy %.4f  val_loss %.4f  (%.1f s)\n", name, res[k].accuracy, res[k].val_loss,
                   res[k].wall_s);
        else
            printf("  %-26s failed: %s\n", name, res[k].reason);
        fflush(stdout);
    }
    int n_ok = o->n_tasks - n_failed;
    double mean_acc = n_failed ? NAN : acc_sum / n_ok, mean_loss = n_failed ? NAN : loss_sum / n_ok;
    if (a->json) {
        json_writer w;
        jw_init(&w);
        json_head(&w, "mad", a->genome_string, a->dims, params);
        jw_kv_int(&w, "steps", a->steps);
        jw_kv_int(&w, "batch", a->batch);
        jw_kv_int(&w, "seq_len", a->seq_len);
        for (int k = 0; k < o->n_tasks; k++) {
            jw_key(&w, mad_task_name(o->task[k]));
            jw_obj_begin(&w);
            jw_kv_double(&w, "accuracy", res[k].ok ? res[k].accuracy : NAN);
            jw_kv_double(&w, "val_loss", res[k].ok ? res[k].val_loss : NAN);
            if (!res[k].ok) jw_kv_str(&w, "reason", res[k].reason);
            jw_obj_end(&w);
        }
        jw_kv_double(&w, "mean_accuracy", mean_acc);
        jw_kv_double(&w, "mean_val_loss", mean_loss);
        jw_kv_double(&w, "wall_s", wall);
        print_json(&w);
    } else if (!n_failed) {
        printf("mean accuracy %.4f, mean val_loss %.4f over %d tasks (%zu params, %.1f s)\n", mean_acc, mean_loss,
               o->n_tasks, params, wall);
    }
    if (n_failed)
        return STAR_FAIL(err, "%d of %d MAD tasks failed; %s: %s", n_failed, o->n_tasks,
                         mad_task_name(o->task[first_failed]), res[first_failed].reason);
    return 0;
}

static void print_text_result(const arch_args *a, const char *genome, genome_dims dims, size_t params, int is_bytes,
                              const train_result *r, const char *ckpt, long ckpt_step) {
    if (a->json) {
        json_writer w;
        jw_init(&w);
        json_head(&w, "text", genome, dims, params);
        if (ckpt) {
            jw_kv_str(&w, "checkpoint", ckpt);
            jw_kv_int(&w, "checkpoint_step", ckpt_step);
        } else {
            jw_kv_int(&w, "steps", r->steps_done);
            jw_kv_double(&w, "train_loss", r->train_loss);
            jw_kv_double(&w, "wall_s", r->wall_s);
        }
        jw_kv_double(&w, "val_loss", r->val_loss);
        if (is_bytes) jw_kv_double(&w, "bits_per_byte", r->bits_per_byte);
        jw_kv_double(&w, "accuracy", r->accuracy);
        print_json(&w);
        return;
    }
    if (ckpt)
        printf("%s: checkpoint %s (step %ld), %zu params\n", genome, ckpt, ckpt_step, params);
    else
        printf("%s: %zu params, %d steps in %.1f s\n", genome, params, r->steps_done, r->wall_s);
    printf("val_loss %.4f nats/token", r->val_loss);
    if (is_bytes) printf(", bits_per_byte %.4f", r->bits_per_byte);
    printf(", accuracy %.4f\n", r->accuracy);
}

static int eval_text(const arch_args *a, const eval_options *o, star_error *err) {
    data_kind kind = a->data ? DATA_TEXT : DATA_BIN;
    const char *path = a->data ? a->data : a->bin;
    data_handle h;
    data_source src;
    train_result r;
    size_t params = 0;
    if (!o->ckpt) {
        if (data_open(&h, kind, path, a->seq_len, a->dims.vocab, a->seed, &src, err) != 0) return -1;
        int rc = train_on(a, o, &src, h.seq_len, &params, &r, err);
        data_close(&h);
        if (rc != 0) return -1;
        if (!r.ok) return STAR_FAIL(err, "training failed: %s", r.reason);
        print_text_result(a, a->genome_string, a->dims, params, src.is_bytes, &r, NULL, 0);
        return 0;
    }
    model *m;
    checkpoint_info info;
    if (ckpt_model_load(o->ckpt, a->batch, a->seq_len, &m, &info, err) != 0) return -1;
    int rc = data_open(&h, kind, path, a->seq_len, info.vocab, a->seed, &src, err);
    if (rc == 0) {
        memset(&r, 0, sizeof r);
        rc = evaluate_validation(m, &src, a->batch, h.seq_len, validation_batches(o->val_sequences, a->batch), &r, err);
        data_close(&h);
    }
    if (rc == 0) {
        genome_dims dims = {info.width, info.vocab};
        print_text_result(a, info.genome, dims, model_param_count(m), src.is_bytes, &r, o->ckpt, info.step);
    }
    model_free(m);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    arch_args a;
    arch_args_defaults(&a);
    eval_options o = {.val_sequences = QUALITY_VAL_SEQUENCES};
    int rc = parse_args(argc, argv, &a, &o);
    if (rc != 0) return rc;
    star_error err;
    memset(&err, 0, sizeof err);
    // One check before any work: a CUDA build and a device.
    star_error cerr;
    if (o.on_cuda && cuda_backend_check(&cerr) != 0) {
        STAR_FAIL(&err, "--backend cuda: %s; use --backend cpu", cerr.msg);
        star_error_print(&err);
        return EXIT_FAIL;
    }
    quality_set_threads(a.threads);
    if (!o.ckpt && arch_args_load(&a, &err) != 0) {
        star_error_print(&err);
        return EXIT_FAIL;
    }
    rc = !strcmp(o.suite, "mad") ? eval_mad(&a, &o, &err) : eval_text(&a, &o, &err);
    if (rc != 0) {
        star_error_print(&err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
