#!/usr/bin/env bash
# star front: the front of a ZDT1 run and of an architecture run (no training), checked
# against an independent recomputation from the generation file (feasible members no
# other feasible member dominates, how many each dominates, the order), against the
# search's own "front" indices, and the hypervolume history of checkpoint.json;
# --objectives, --gen, --format csv|json; errors for a missing run, an unknown
# objective or generation and a corrupt generation file. $1 is the star binary; run
# from the source root.
set -u
STAR="$1"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # check "what" expected_rc actual_rc
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); fi
}
contains() {  # contains "what" file needle
    if ! grep -qF -- "$3" "$2"; then echo "FAIL: $1: '$3' not in output:"; cat "$2"; fails=$((fails + 1)); fi
}

# Recomputes the front of generation file $1 on objectives $2 (comma list, "" = all)
# and compares it with star's JSON in $3. Prints what differs; exits 1 if anything does.
verify_front() {
    python3 - "$1" "$2" "$3" "$4" <<'EOF'
import json, sys, math
gen_path, objs, out_path, ckpt_path = sys.argv[1:5]
g = json.load(open(gen_path))
out = json.load(open(out_path))
pop = g["population"]
names = objs.split(",") if objs else list(pop[0]["objectives"].keys())
bad = []
if out["objectives"] != names: bad.append("objectives %s, expected %s" % (out["objectives"], names))
feas = [i for i, m in enumerate(pop) if m["status"] == "ok" and all(m["objectives"][n] is not None for n in names)]
vec = {i: [pop[i]["objectives"][n] for n in names] for i in feas}
def dom(a, b): return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))
front = [i for i in feas if not any(dom(vec[j], vec[i]) for j in feas if j != i)]
front.sort(key=lambda i: (vec[i], i))
got = [p["member"] for p in out["front"]]
if got != front: bad.append("front members %s, expected %s (in this order)" % (got, front))
for p in out["front"]:
    i = p["member"]
    if p["hash"] != pop[i]["hash"]: bad.append("member %d hash" % i)
    if [p["objectives"][n] for n in names] != vec.get(i): bad.append("member %d objectives" % i)
    want = sum(dom(vec[i], vec[j]) for j in feas)
    if p["dominates"] != want: bad.append("member %d dominates %d, expected %d" % (i, p["dominates"], want))
    if isinstance(pop[i]["x"], str):
        if p.get("genome") != pop[i]["x"]: bad.append("member %d genome" % i)
        depth = len(pop[i]["x"].split(";")[0].split("-"))
        counted = sum(int(c.split("x")[0]) for c in p["classes"].split())
        if counted != depth: bad.append("member %d classes '%s' count %d LIVs, genome has %d" % (i, p["classes"], counted, depth))
    elif p.get("x") != pop[i]["x"]: bad.append("member %d x" % i)
if not objs and sorted(got) != sorted(g["front"]): bad.append("front %s differs from the run's own %s" % (sorted(got), sorted(g["front"])))
if out["hypervolume"] != json.load(open(ckpt_path))["hypervolume"]: bad.append("hypervolume history")
if out["generation"] != g["generation"] or out["population"] != len(pop) or out["feasible"] != len(feas): bad.append("counts")
if not got: bad.append("empty front")
for b in bad: print("  " + b)
sys.exit(1 if bad else 0)
EOF
}

# A test problem run (seconds) and an architecture run scored without training.
"$STAR" search configs/zdt1.yaml --set run.dir="$tmp/zdt" --set algorithm.generations=3 \
    --set algorithm.population=20 --quiet >"$tmp/out" 2>&1
check "zdt1 search" 0 $?
"$STAR" search configs/quickstart.yaml --set run.dir="$tmp/arch" \
    --set 'objectives=[{name: params}, {name: cache_bytes, context: 1024}]' \
    --set algorithm.generations=2 --set 'algorithm.seed_with=[]' --quiet >"$tmp/out" 2>&1
check "architecture search without training" 0 $?
[ -f "$tmp/arch/generations/gen_0002.json" ] || { echo "FAIL: architecture run has no gen_0002.json"; fails=$((fails + 1)); }

for run in zdt arch; do
    last=$(ls "$tmp/$run/generations" | sort | tail -1)
    "$STAR" front "$tmp/$run" --format json >"$tmp/$run.json" 2>"$tmp/err"; check "$run front json" 0 $?
    verify_front "$tmp/$run/generations/$last" "" "$tmp/$run.json" "$tmp/$run/checkpoint.json" ||
        { echo "FAIL: $run front differs from the recomputation"; fails=$((fails + 1)); }
done

# Restricted and reordered objectives recompute non-domination.
"$STAR" front "$tmp/arch" --objectives cache_bytes --format json >"$tmp/o1.json" 2>&1; check "--objectives one" 0 $?
verify_front "$tmp/arch/generations/gen_0002.json" cache_bytes "$tmp/o1.json" "$tmp/arch/checkpoint.json" ||
    { echo "FAIL: --objectives cache_bytes"; fails=$((fails + 1)); }
"$STAR" front "$tmp/arch" --objectives cache_bytes,params --format json >"$tmp/o2.json" 2>&1; check "--objectives two" 0 $?
verify_front "$tmp/arch/generations/gen_0002.json" cache_bytes,params "$tmp/o2.json" "$tmp/arch/checkpoint.json" ||
    { echo "FAIL: --objectives cache_bytes,params"; fails=$((fails + 1)); }
"$STAR" front "$tmp/zdt" --gen 0 --objectives f2 --format json >"$tmp/g0.json" 2>&1; check "--gen 0" 0 $?
verify_front "$tmp/zdt/generations/gen_0000.json" f2 "$tmp/g0.json" "$tmp/zdt/checkpoint.json" ||
    { echo "FAIL: --gen 0 --objectives f2"; fails=$((fails + 1)); }

# The table and the CSV hold the same front.
"$STAR" front "$tmp/arch" >"$tmp/table" 2>&1; check "table" 0 $?
contains "table" "$tmp/table" "generation 2, front of"
contains "table" "$tmp/table" "classes"
contains "table" "$tmp/table" "hypervolume by generation"
n_front=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["front"]))' "$tmp/arch.json")
first=$(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["front"][0]; print(f["genome"])' "$tmp/arch.json")
contains "table genome" "$tmp/table" "$first"
"$STAR" front "$tmp/arch" --format csv >"$tmp/csv" 2>&1; check "csv" 0 $?
[ "$(head -1 "$tmp/csv")" = "params,cache_bytes,dominates,hash,classes,genome" ] ||
    { echo "FAIL: csv header: $(head -1 "$tmp/csv")"; fails=$((fails + 1)); }
[ "$(($(wc -l <"$tmp/csv") - 1))" = "$n_front" ] || { echo "FAIL: csv rows != front of $n_front"; fails=$((fails + 1)); }

# Errors.
"$STAR" front "$tmp/arch" --objectives params,quality >"$tmp/out" 2>&1; check "unknown objective" 1 $?
contains "unknown objective" "$tmp/out" "star: error: --objectives: unknown objective 'quality' (this run has: params, cache_bytes)"
"$STAR" front "$tmp/nothing" >"$tmp/out" 2>&1; check "missing run" 1 $?
contains "missing run" "$tmp/out" "no such run directory"
"$STAR" front "$tmp/zdt" --gen 7 >"$tmp/out" 2>&1; check "missing generation" 1 $?
contains "missing generation" "$tmp/out" "no generation 7 (the run has generations up to 3)"
"$STAR" front "$tmp/zdt" --format xml >"$tmp/out" 2>&1; check "bad format" 2 $?
"$STAR" front >"$tmp/out" 2>&1; check "no run" 2 $?
"$STAR" front "$tmp/zdt" --bogus >"$tmp/out" 2>&1; check "unknown option" 2 $?
mkdir -p "$tmp/bad/generations"
printf '{"generation": 1, "population": [{"hash": "00000000000000aa", "x": null,\n  "objectives": {"f1": "high"}, "status": "ok"}]}\n' \
    >"$tmp/bad/generations/gen_0001.json"
"$STAR" front "$tmp/bad" >"$tmp/out" 2>&1; check "bad objective value" 1 $?
contains "bad objective value" "$tmp/out" "gen_0001.json:2:24: population[0].objectives.f1: expected a number, got 'high'"
head -c 300 "$tmp/zdt/generations/gen_0003.json" >"$tmp/bad/generations/gen_0002.json"
"$STAR" front "$tmp/bad" >"$tmp/out" 2>&1; check "truncated generation file" 1 $?
contains "truncated generation file" "$tmp/out" "gen_0002.json"
"$STAR" front --help >"$tmp/out" 2>&1; check "--help" 0 $?
contains "--help" "$tmp/out" "usage: star front RUN_DIR"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
