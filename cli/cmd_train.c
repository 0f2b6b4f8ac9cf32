// star train ARCH [--data FILE | --bin PATTERN | --mad TASK] [--tokens N] ... [--save DIR]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/arch_args.h"
#include "cli/commands.h"
#include "common/json.h"
#include "dist/dist.h"
#include "dist/nccl_group.h"
#include "eval/checkpoint.h"
#include "eval/data_open.h"
#include "eval/model.h"
#include "eval/model_cuda.h"
#include "eval/quality.h"
#include "eval/train.h"

static void usage(FILE *f) {
    fprintf(f, "usage: star train ARCH (--data FILE | --bin PATTERN | --mad TASK) [options]\n\n"
               "Trains one architecture and scores it on held-out data: validation loss in nats\n"
               "per token, bits per byte for byte-level text, accuracy on the scored positions.\n"
               "--save DIR writes a checkpoint (weights in safetensors, the optimizer, the genome);\n"
               "--from DIR starts from one. --backend cuda trains on a CUDA device (a build with the\n"
               "CUDA backend; bf16 compute, fp32 weights and optimizer).\n\n"
               "Under an MPI launcher (mpirun -np N star train ...) the N ranks train the model data\n"
               "parallel: each takes its slice of the --batch rows, gradients are summed over the ranks\n"
               "(docs/distributed.md); rank 0 prints and saves. With --backend cuda each rank takes one\n"
               "GPU of its machine (its local rank) and the gradients are summed through NCCL; --nccl\n"
               "takes that path with a single rank too (to check it against training alone).\n\n"
               "validation:\n"
               "  --val-sequences N    score at most N validation sequences, in batches spread\n"
               "                       evenly over the split (default 0: all of it)\n\n%s",
            arch_args_help);
}

// Opens the data the options name (exactly one kind).
int cli_open_data(const arch_args *a, data_handle *h, data_source *src, star_error *err) {
    int kinds = !!a->data + !!a->bin + !!a->mad;
    if (kinds != 1) return STAR_FAIL(err, "name exactly one of --data, --bin, --mad");
    data_kind kind = a->data ? DATA_TEXT : a->bin ? DATA_BIN : DATA_MAD;
    const char *what = a->data ? a->data : a->bin ? a->bin : a->mad;
    if (kind == DATA_MAD && strchr(what, ',')) return STAR_FAIL(err, "star train takes one MAD task (star eval --suite mad runs several)");
    return data_open(h, kind, what, a->seq_len, a->dims.vocab, a->seed, src, err);
}

// Trains on this rank's CUDA device (its index on the machine, modulo the devices it
// sees); with several ranks, or with use_nccl, data parallel through NCCL. The host model
// *m stages the weights and opt the moments for --from and --save.
static int train_cuda(const arch_args *a, model_options mo, model **m, adamw_state *opt, const data_source *src,
                      train_params *tp, int use_nccl, train_result *r, star_error *err) {
#ifdef STAR_WITH_CUDA
    cuda_model *g = NULL;
    nccl_group *nccl = NULL;
    int rc = -1, device = 0;
    const dist_comm *world = dist_world();
    if (dist_agree(world, cuda_rank_device(&device, err), err) != 0) return -1;
    if ((use_nccl || dist_size(world) > 1) &&
        dist_agree(world, nccl_group_create(0, dist_rank(world), device, 0, &nccl, err), err) != 0) {
        nccl_group_free(nccl);
        return -1;
    }
    tp->nccl = nccl;
    if (dist_agree(world, cuda_model_create(&a->a, mo, device, &g, err), err) != 0) goto out;
    model_options ho = mo;
    ho.max_batch = ho.max_seq = 1;  // the host copy holds parameters only
    if (model_create(&a->a, ho, m, err) != 0 || adamw_init(opt, *m, err) != 0) goto out;
    if (a->from && (checkpoint_load(a->from, *m, opt, err) != 0 || cuda_model_upload_weights(g, *m, err) != 0 ||
                    cuda_model_upload_optimizer(g, opt, err) != 0))
        goto out;
    if (dist_agree(world, train_run_cuda(g, src, tp, r, err), err) != 0) goto out;
    if (cuda_model_download_weights(g, *m, err) != 0 || cuda_model_download_optimizer(g, opt, err) != 0) goto out;
    rc = 0;
out:
    cuda_model_free(g);
    nccl_group_free(nccl);
    tp->nccl = NULL;
    return rc;
#else
    (void)a, (void)mo, (void)m, (void)opt, (void)src, (void)tp, (void)use_nccl, (void)r;
    return STAR_FAIL(err, "--backend cuda: this build has no CUDA backend (it needs a CUDA compiler at configure "
                          "time); use --backend cpu");
#endif
}

int cmd_train(int argc, char **argv) {
    arch_args a;
    arch_args_defaults(&a);
    const char *backend = "cpu";
    int use_nccl = 0;
    long val_sequences = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nccl")) {
            use_nccl = 1;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--backend")) {
            if (i + 1 >= argc || (strcmp(argv[i + 1], "cpu") && strcmp(argv[i + 1], "cuda"))) {
                fprintf(stderr, "star train: error: --backend: expected cpu or cuda%s%s\n", i + 1 < argc ? ", got " : "",
                        i + 1 < argc ? argv[i + 1] : "");
                return 2;
            }
            backend = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--val-sequences")) {
            if (arch_args_long(argc, argv, &i, 0, 1L << 30, &val_sequences) != 0) return 2;
            continue;
        }
        int r = arch_args_option(&a, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (argv[i][0] == '-' || a.arch_arg) {
            fprintf(stderr, "star train: error: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        a.arch_arg = argv[i];
    }
    star_error err;
    memset(&err, 0, sizeof err);
    if (dist_init(&err) != 0) {
        star_error_print(&err);
        return 1;
    }
    const dist_comm *world = dist_world();
    int root = dist_rank(world) == 0, n_ranks = dist_size(world);
    model *m = NULL;
    data_handle h;
    memset(&h, 0, sizeof h);
    adamw_state opt = {0};
    int rc = 1, step_rc = 0;
    data_source src;
    // Every rank sets up the same model; a rank that cannot stops them all with its message.
    step_rc = arch_args_load(&a, &err);
    if (step_rc == 0 && n_ranks > 1 && a.batch < n_ranks)
        step_rc = STAR_FAIL(&err, "--batch %d cannot be split over %d ranks", a.batch, n_ranks);
    if (step_rc == 0) {
        quality_set_threads(a.threads);
        step_rc = cli_open_data(&a, &h, &src, &err);
    }
    model_options mo = {.max_batch = train_rows_per_rank(a.batch, n_ranks), .max_seq = h.seq_len, .seed = a.seed};
    int on_cuda = !strcmp(backend, "cuda");
    if (step_rc == 0 && use_nccl && !on_cuda) step_rc = STAR_FAIL(&err, "--nccl needs --backend cuda");
    if (step_rc == 0 && !on_cuda) step_rc = model_create(&a.a, mo, &m, &err);
    if (step_rc == 0 && !on_cuda) step_rc = adamw_init(&opt, m, &err);
    if (step_rc == 0 && !on_cuda && a.from) step_rc = checkpoint_load(a.from, m, &opt, &err);
    if (dist_agree(world, step_rc, &err) != 0) goto out;
    train_params tp;
    arch_args_train_params(&a, h.seq_len, &tp);
    tp.val_batches = validation_batches(val_sequences, a.batch);
    tp.log_every = a.log_every ? a.log_every : (a.json ? 0 : (a.steps >= 10 ? a.steps / 10 : 1));
    tp.group = world;
    train_result r;
    if (on_cuda ? train_cuda(&a, mo, &m, &opt, &src, &tp, use_nccl, &r, &err) != 0
                : dist_agree(world, train_run_with(m, &opt, &src, &tp, &r, &err), &err) != 0)
        goto out;
    if (!root) {
        rc = r.ok ? 0 : 1;
        goto out;
    }
    if (a.save) {
        if (checkpoint_save(a.save, m, &opt, a.genome_string, opt.t, &err) != 0)
            goto out;
    }
    size_t params = model_param_count(m);
    if (a.json) {
        json_writer w;
        jw_init(&w);
        jw_obj_begin(&w);
        jw_kv_str(&w, "genome", a.genome_string);
        jw_kv_int(&w, "width", a.dims.width);
        jw_kv_int(&w, "vocab", a.dims.vocab);
        jw_kv_int(&w, "params", (int64_t)params);
        jw_kv_bool(&w, "ok", r.ok);
        jw_kv_str(&w, "reason", r.reason);
        jw_kv_int(&w, "steps", r.steps_done);
        jw_kv_int(&w, "tokens", (int64_t)r.steps_done * a.batch * h.seq_len);
        jw_kv_double(&w, "train_loss", r.train_loss);
        jw_kv_double(&w, "val_loss", r.val_loss);
        jw_kv_int(&w, "val_sequences", val_sequences);  // 0: the whole validation split
        if (src.is_bytes) jw_kv_double(&w, "bits_per_byte", r.bits_per_byte);
        jw_kv_double(&w, "accuracy", r.accuracy);
        jw_kv_double(&w, "tokens_per_s", r.tokens_per_s);
        jw_kv_double(&w, "wall_s", r.wall_s);
        jw_obj_end(&w);
        printf("%s\n", w.buf);
        jw_free(&w);
    } else if (r.ok) {
        printf("%s: %zu params, %d steps in %.1f s (%.0f tokens/s)\n", a.genome_string, params, r.steps_done, r.wall_s,
               r.tokens_per_s);
        printf("validation loss %.4f nats/token", r.val_loss);
        if (src.is_bytes) printf(", %.4f bits/byte", r.bits_per_byte);
        printf(", accuracy %.4f\n", r.accuracy);
    }
    if (!r.ok) {
        STAR_FAIL(&err, "training failed: %s", r.reason);
        goto out;
    }
    rc = 0;
out:
    if (rc && root) star_error_print(&err);
    adamw_free(&opt);
    model_free(m);
    data_close(&h);
    dist_finalize();
    return rc;
}
