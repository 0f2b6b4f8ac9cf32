#!/usr/bin/env bash
# A change against its base in one run (a timing counts only as a ratio measured side by
# side): builds BASE beside this tree, then times both, alternating, and prints the ratios.
#
#   bench/ab.sh BASE [--backend cuda|cpu] [--rounds N] [--kernels] [--bench 'ARCH OPTIONS']...
#                    [--tests 'TEST...'] [--same-loss] [--base-star BIN --star BIN] [--out FILE]
#
# BASE: a source tree (a directory, or a .tgz such as `git archive main | gzip >
# .carry/base.tgz`, unpacked into a temporary directory); both trees build at once into
# their own build-ab/ (CMake, the same options), a .carry/yaml beside this tree is lent to BASE.
# Each --bench is an ARCH and star bench options (default: per backend, below); each runs
# --rounds times (default 2), BASE first then this tree, every run its own process.
# --kernels (cuda) also runs `test_attention_kernels --time` and `test_seq_kernels --time`
# of both. --tests names test programs (CMake targets, such as 'test_seq_kernels
# test_model_cuda') built in this tree and run before any timing: one that fails stops the
# script (exit 1) before it times anything, so a change is checked and timed in one call
# (exit 77, a skip, is reported and passed over).
# Each round also compares the last step's loss of the two sides (star bench trains on the
# same random batch every step, so a change that keeps the arithmetic keeps the bits);
# --same-loss makes a difference an error (exit 1, after every bench is timed and written):
# the check for a change meant to move only addresses, loads or schedules.
# --base-star and --star take two built star binaries instead (BASE is then a label; the
# tests are then looked for beside --star). Prints one line per bench and round with the ratio (this / BASE), and appends one
# JSON line per bench to bench/results/ab.jsonl (--out FILE elsewhere): base, arch,
# options, backend, tokens/s of each side and round, the ratio of the means, device, date.
# Exit 2 on bad usage, 1 when a build or a run fails.
#
# Default benches, cuda: one LIV class each with SwiGLU at a search's shapes (12 LIVs,
# width 256, vocabulary 256, 32 x 256: SA-1, Rec-1, Rec-2, GConv-1, GConv-2), then
# Transformer++ and the striped hybrid at STAR scale (24 LIVs, width 768, vocabulary
# 50304, 8 x 4096). cpu: a quickstart-shaped mixed genome (width 64, 16 x 64).
set -uo pipefail
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
fail() { echo "ab: error: $*" >&2; exit 1; }
bad() { echo "ab: error: $*" >&2; exit 2; }
[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; -*) bad "BASE must come first (got '$1')" ;; esac
BASE=$1
shift
HERE=$(cd "$(dirname "$0")/.." && pwd)
backend=cuda rounds=2 kernels=0 base_star= new_star= out=$HERE/bench/results/ab.jsonl tests= same_loss=0
benches=()
while [ $# -gt 0 ]; do
    case "$1" in
    --backend) backend=${2:-}; shift 2 || bad "--backend needs a value" ;;
    --rounds) rounds=${2:-}; shift 2 || bad "--rounds needs a value" ;;
    --kernels) kernels=1; shift ;;
    --same-loss) same_loss=1; shift ;;
    --bench) [ -n "${2:-}" ] || bad "--bench needs 'ARCH OPTIONS'"; benches+=("$2"); shift 2 ;;
    --tests) [ -n "${2:-}" ] || bad "--tests needs 'TEST...'"; tests=$2; shift 2 ;;
    --base-star) base_star=${2:-}; shift 2 || bad "--base-star needs a value" ;;
    --star) new_star=${2:-}; shift 2 || bad "--star needs a value" ;;
    --out) out=${2:-}; shift 2 || bad "--out needs a value" ;;
    *) bad "unknown option '$1'" ;;
    esac
done
case "$backend" in cuda|cpu) ;; *) bad "--backend: expected cuda or cpu, got '$backend'" ;; esac
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || bad "--rounds: expected a whole number from 1 to 99, got '$rounds'"
if [ -n "$base_star" ] || [ -n "$new_star" ]; then
    [ -x "$base_star" ] && [ -x "$new_star" ] || bad "--base-star and --star: two executable star binaries"
    [ $kernels = 0 ] || bad "--kernels needs the builds (not --base-star / --star)"
fi
command -v python3 >/dev/null || fail "python3 is not on PATH"
if [ ${#benches[@]} -eq 0 ]; then
    rep() { python3 -c "import sys; print('-'.join([sys.argv[1]] * int(sys.argv[2])) + sys.argv[3])" "$@"; }
    if [ $backend = cuda ]; then
        small="--width 256 --vocab 256 --batch 32 --seq-len 256 --steps 30"
        for g in 11111 51111 61111 71111 81111; do benches+=("$(rep "$g-91111" 6 '') $small"); done
        big="--width 768 --vocab 50304 --batch 8 --seq-len 4096 --steps 10"
        benches+=("$(rep 11111-91111 12 '') $big")
        benches+=("$(rep 81111-91111-71111-91111-81111-91111-11111-91111 3 ';o7=12111;o8=21111') $big")
    else
        benches+=("51111-91111-71111-91111-61111-91111-11111-91111 --width 64 --vocab 256 --batch 16 --seq-len 64 --steps 30")
    fi
fi
tmp=$(mktemp -d)
base_pid=
kill_tree() {  # a process and its descendants (the base build's cmake, ninja, compilers)
    local c
    if command -v pgrep >/dev/null; then for c in $(pgrep -P "$1"); do kill_tree "$c"; done; fi
    kill "$1" 2>/dev/null
}
trap '[ -n "$base_pid" ] && kill_tree "$base_pid"; rm -rf "$tmp"' EXIT

build() {  # build SIDE TREE TARGETS...: TREE/build-ab, logs in $tmp/SIDE.*.log
    local side=$1 tree=$2
    shift 2
    local gen=()
    command -v ninja >/dev/null && gen=(-G Ninja)
    echo "ab: building $tree/build-ab ($*)" >&2
    cmake -S "$tree" -B "$tree/build-ab" "${gen[@]}" >"$tmp/$side.cmake.log" 2>&1 || { tail -20 "$tmp/$side.cmake.log" >&2; fail "cmake failed in $tree"; }
    cmake --build "$tree/build-ab" -j"$(nproc)" --target "$@" >"$tmp/$side.build.log" 2>&1 || { tail -30 "$tmp/$side.build.log" >&2; fail "the build failed in $tree"; }
}
if [ -z "$base_star" ]; then
    base_tree=$BASE
    if [ -f "$BASE" ]; then
        base_tree=$tmp/base
        mkdir -p "$base_tree" && tar xzf "$BASE" -C "$base_tree" || fail "cannot unpack '$BASE'"
    fi
    [ -f "$base_tree/CMakeLists.txt" ] || bad "BASE '$BASE' is neither a source tree nor a .tgz of one"
    if [ -d "$HERE/.carry/yaml" ] && [ ! -e "$base_tree/.carry/yaml" ]; then
        mkdir -p "$base_tree/.carry" && cp -r "$HERE/.carry/yaml" "$base_tree/.carry/"
    fi
    targets=(star)
    [ $kernels = 1 ] && targets+=(test_attention_kernels test_seq_kernels)
    # Both trees at once (a device call's minutes go to the builds otherwise).
    build base "$base_tree" "${targets[@]}" &
    base_pid=$!
    # shellcheck disable=SC2086
    build this "$HERE" "${targets[@]}" $tests
    wait "$base_pid" || exit 1  # (the build said why)
    base_pid=
    base_star=$base_tree/build-ab/star new_star=$HERE/build-ab/star
fi

for t in $tests; do
    bin=$(dirname "$new_star")/$t
    [ -x "$bin" ] || fail "no test program '$t' beside $new_star"
    echo "ab: $t" >&2
    rc=0
    "$bin" >"$tmp/test.log" 2>&1 || rc=$?
    if [ $rc = 77 ]; then  # ctest's skip (a GPU test without a GPU)
        echo "ab: $t skipped: $(tail -1 "$tmp/test.log")" >&2
        continue
    fi
    [ $rc = 0 ] || { grep -E 'FAIL' "$tmp/test.log" | head -20 >&2; tail -3 "$tmp/test.log" >&2; fail "test $t failed (exit $rc): nothing timed"; }
    tail -1 "$tmp/test.log" | sed "s/^/ab: $t: /" >&2
done

if [ $kernels = 1 ]; then
    for t in test_attention_kernels test_seq_kernels; do
        for side in base this; do
            bin=$([ $side = base ] && echo "$base_tree" || echo "$HERE")/build-ab/$t
            "$bin" --time 2>&1 | sed "s/^/$side $t: /" || fail "$t --time failed ($side)"
        done
    done
fi

device=
for spec in "${benches[@]}"; do
    read -r arch opts <<<"$spec"
    for ((r = 1; r <= rounds; r++)); do
        for side in base this; do
            bin=$([ $side = base ] && echo "$base_star" || echo "$new_star")
            # shellcheck disable=SC2086
            "$bin" bench "$arch" --backend $backend $opts --json --results "$tmp/results.jsonl" \
                >"$tmp/$side.$r.json" 2>"$tmp/err" || { tail -5 "$tmp/err" >&2; fail "star bench failed ($side, $arch)"; }
        done
        python3 - "$tmp/base.$r.json" "$tmp/this.$r.json" "$arch" "$r" <<'PY' || fail "star bench gave no tokens_per_s"
import json, sys
ja, jb = (json.load(open(p)) for p in sys.argv[1:3])
a, b = ja["tokens_per_s"], jb["tokens_per_s"]
la, lb = ja.get("loss"), jb.get("loss")
same = "loss the same bits" if la == lb else "loss differs: base %r, this %r" % (la, lb)
print("%s round %s: base %.0f, this %.0f tokens/s, this / base %.3f, %s" % (sys.argv[3][:60], sys.argv[4], a, b, b / a, same))
PY
    done
    python3 - "$tmp" "$rounds" "$BASE" "$arch" "$opts" "$backend" "$out" <<'PY' || fail "cannot write '$out'"
import datetime, json, sys
tmp, rounds, base, arch, opts, backend, out = sys.argv[1:]
side = {s: [json.load(open("%s/%s.%d.json" % (tmp, s, r))) for r in range(1, int(rounds) + 1)] for s in ("base", "this")}
tps = {s: [j["tokens_per_s"] for j in side[s]] for s in side}
loss = {s: [j.get("loss") for j in side[s]] for s in side}
row = {"base": base, "arch": arch, "options": opts, "backend": backend,
       "base_tokens_per_s": tps["base"], "this_tokens_per_s": tps["this"],
       "base_loss": loss["base"], "this_loss": loss["this"], "same_loss": loss["base"] == loss["this"],
       "ratio": (sum(tps["this"]) / len(tps["this"])) / (sum(tps["base"]) / len(tps["base"])),
       "device": side["this"][0].get("device", ""),
       "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")
print("%s: this / base %.3f over %s rounds" % (arch[:60], row["ratio"], rounds))
if not row["same_loss"]:
    open(tmp + "/loss_differs", "a").write(arch[:60] + "\n")
PY
done
echo "ab: appended ${#benches[@]} line(s) to $out" >&2
if [ $same_loss = 1 ] && [ -s "$tmp/loss_differs" ]; then
    fail "--same-loss: the last step's loss differs between base and this for: $(paste -sd, "$tmp/loss_differs")"
fi
