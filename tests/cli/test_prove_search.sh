#!/usr/bin/env bash
# bench/prove_search.sh at --scale tiny on the CPU (docs/results.md): a first call with
# --budget-s 1 stops with exit 3 and writes no summary; the next call finishes and
# search_summary.json has every key with sane types and ranges, figures consistent with
# its raw part (reductions recomputed from the retrained losses, the hypervolumes the
# means over the pairs, one retraining per front member, baseline and seed, the losses
# the means over seeds 2, 3 and 4); a third call
# resumes everything and trains nothing (no archive line added, no retraining result
# rewritten) and gives the same figures; a control retraining (--retrain-steps 8, the
# last rung) goes to retrain-8/ and its own summary and leaves the protocol's alone, and
# prove_search.py budgets sets the two side by side, genomes and compare print the
# summary's figures; --jobs 3, stopped and resumed, gives
# the same archives, losses and figures, and runs 2 or 3 retrainings at once, never more; --rungs 4,8,16 trains a third rung
# and retrains at 32 steps; bad usage, and another --plan, --corpus or --rungs on
# the same --out (a directory from before --corpus counts as fortunes), exit 2. The helper's hypervolume is checked on known sets. $1 is the star
# binary; run from the source root.
source "$(dirname "$0")/lib.sh"

[ -f /usr/share/dictd/gcide.dict.dz ] || { echo "SKIP: no /usr/share/dictd/gcide.dict.dz (Debian package dict-gcide)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
script=bench/prove_search.sh
out="$tmp/prove"
run() { bash "$script" "$star" --scale tiny --threads 1 --out "$out" "$@" >"$tmp/log" 2>&1; echo $?; }

# The helper's hypervolume on sets whose value is known by hand.
check "hypervolume of known sets" "python3 -c '
import sys; sys.path.insert(0, \"bench\"); import prove_search as p
ok = abs(p.hypervolume([[0.5, 0.5], [0.25, 0.75]]) - 0.3125) < 1e-12
ok &= abs(p.hypervolume([[0.5, 0.5, 0.5]]) - 0.125) < 1e-12
ok &= abs(p.hypervolume([[0.5, 0.5, 0.5], [0.25, 0.75, 0.5], [0.9, 0.9, 0.1]]) - 0.16025) < 1e-12
ok &= p.hypervolume([[1.2, 0.1]]) == 0.0
sys.exit(0 if ok else 1)'"

check "bad --scale exits 2" "[ \"\$(run --scale huge)\" = 2 ]"
check "bad --budget-s exits 2" "[ \"\$(run --budget-s soon)\" = 2 ]"
check "bad --retrain-seeds exits 2" "[ \"\$(run --retrain-seeds 0)\" = 2 ]"
check "bad --corpus exits 2" "[ \"\$(run --corpus wiki)\" = 2 ] && grep -q 'expected gcide or fortunes' '$tmp/log'"
check "bad --rungs exit 2" "[ \"\$(run --rungs 8,4)\" = 2 ] && grep -q 'strictly increasing' '$tmp/log' && [ \"\$(run --rungs 4,x)\" = 2 ]"

rc=$(run --budget-s 1)
check "--budget-s 1 stops with exit 3 (got $rc)" "[ $rc = 3 ]"
check "the stop says how to go on" "grep -q 'run the same command again' '$tmp/log'"
check "no summary after a stop" "[ ! -f '$out/search_summary.json' ]"

rc=$(run)
check "the second call finishes (exit $rc)" "[ $rc = 0 ]"
[ "$rc" = 0 ] || cat "$tmp/log"
sum="$out/search_summary.json"
check "the summary is valid JSON with every key" "python3 - '$sum' <<'PY'
import json, math, re, sys
s = json.load(open(sys.argv[1]))
num = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
ok = all(k in s for k in ('cache_reduction_at_equal_loss', 'param_reduction_at_equal_loss', 'hv_nsga2',
                          'hv_random', 'ranking_confirmed', 'device', 'date', 'raw'))
for k in ('cache_reduction_at_equal_loss', 'param_reduction_at_equal_loss'):
    ok &= s[k] is None or (num(s[k]) and s[k] <= 1)
for k in ('hv_nsga2', 'hv_random'):
    ok &= num(s[k]) and 0 <= s[k] <= 1
ok &= s['ranking_confirmed'] in (None, True, False)
ok &= isinstance(s['device'], str) and '(cpu)' in s['device']
ok &= bool(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', s['date']))
ok &= s['scale'] == 'tiny' and s['plan'] == 'three'
c = s['raw']['corpus']  # the first 100,000 bytes of the dictionary at --scale tiny
ok &= c['name'] == 'gcide' and c['package'] == 'dict-gcide' and c['bytes'] == 100000
ok &= c['files'] == ['gcide.dict.dz'] and len(c['sha256']) == 64
sys.exit(0 if ok else 1)
PY"
check "the figures agree with the raw part" "python3 - '$sum' <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s['raw']
res = r['retrain']['results']
T = [x for x in res if x['kind'] == 'transformer'][0]
ok = len([x for x in res if x['kind'] == 'striped']) == 1 and T['ok']
front = {m['hash'] for q in r['searches'] if q['algorithm'] == 'nsga2' for m in q['final_front']}
ok &= {x['hash'] for x in res if x['kind'] == 'evolved'} == front - {x['hash'] for x in res if x['kind'] != 'evolved'}
for key, obj in (('cache_reduction_at_equal_loss', 'cache_bytes'), ('param_reduction_at_equal_loss', 'params')):
    reds = [1 - x[obj] / T[obj] for x in res if x['kind'] == 'evolved' and x['ok'] and x['val_loss'] <= T['val_loss']]
    ok &= s[key] == (max(reds) if reds else None)
pairs = r['hypervolume']['pairs']
ok &= len(pairs) == 1 and pairs[0]['objectives'] == ['quality', 'params', 'cache_bytes']
ok &= s['hv_nsga2'] == pairs[0]['nsga2']['hypervolume'] and s['hv_random'] == pairs[0]['random']['hypervolume']
for q in r['searches']:  # population 4, 2 generations, rungs 4 and 8 keeping half, + the 2 seeds at 8
    ok &= q['generations'] == 2 and sum(q['trainings_by_fidelity'].values()) <= 14
    # On the CPU nothing is refused before training: every evaluation trained.
    ok &= q['trained_by_fidelity'] == q['trainings_by_fidelity'] and q['refused_untrained'] == 0
counted = [c for c in r['search_vs_retrain'] if c.get('confirmed') is not None]
ok &= s['ranking_confirmed'] == (all(c['confirmed'] for c in counted) if counted else None)
ok &= s['invocation']['retrainings_run'] >= 1
# Three seeds by default: each genome's loss the mean of its three, each seed's verdict counted.
ok &= r['retrain']['budget']['seeds'] == [2, 3, 4] and r['retrain']['budget']['val_sequences'] == 4096
for x in res:
    by = x['val_loss_by_seed']
    ok &= sorted(by) == ['2', '3', '4']
    if x['ok']:
        ok &= abs(x['val_loss'] - sum(by.values()) / 3) < 1e-12 and x['val_loss_std'] >= 0
        ok &= len(set(by.values())) > 1  # the seeds really differ
        ok &= x['train_loss'] > 0 and abs(x['train_val_gap'] - (x['val_loss'] - x['train_loss'])) < 1e-12
ok &= sorted(r['ranking_pairs_confirmed_by_seed']) == ['2', '3', '4']
sys.exit(0 if ok else 1)
PY"
check "the table has a row per retrained genome, with search and retrained losses, the gap and the gain" "python3 - '$sum' <<'PY'
import json, subprocess, sys
s = json.load(open(sys.argv[1]))
out = subprocess.run(['python3', 'bench/prove_search.py', 'table', sys.argv[1]], capture_output=True, text=True, check=True).stdout
rows = [l for l in out.splitlines() if l.startswith('| ') and '\`' in l]
ok = len(rows) == len(s['raw']['retrain']['results']) and '| search loss | val loss (nats) |' in out
ok &= all(len(r.split('|')) == 14 and r.split('|')[7].strip() not in ('', 'failed') for r in rows)
# gain = search loss - retrained mean, to the printed precision
ok &= all(abs(float(r.split('|')[12]) - (float(r.split('|')[7]) - float(r.split('|')[8].split()[0]))) < 2e-3 for r in rows)
sys.exit(0 if ok else 1)
PY"
check "one result file per genome and seed" \
  "[ \$(ls '$out'/retrain/*.json | wc -l) -eq \$((3 * \$(wc -l <'$out/retrain/list.tsv'))) ] && [ \$(ls '$out'/retrain/*.seed4.json | wc -l) -ge 2 ]"

# Everything already done: a third call trains nothing.
ls -l --time-style=+%s.%N "$out"/retrain/*.json >"$tmp/before"
wc -l "$out"/*/archive.jsonl >"$tmp/lines_before"
cp "$sum" "$tmp/first.json"
rc=$(run)
check "the third call finishes (exit $rc)" "[ $rc = 0 ]"
check "the third call adds no evaluation and no retraining" "python3 -c '
import json, sys; i = json.load(open(\"$sum\"))[\"invocation\"]
sys.exit(0 if i[\"search_evaluations_added\"] == 0 and i[\"retrainings_run\"] == 0 else 1)'"
check "no archive line added" "wc -l '$out'/*/archive.jsonl | cmp -s - '$tmp/lines_before'"
check "no retraining result rewritten" "ls -l --time-style=+%s.%N '$out'/retrain/*.json | cmp -s - '$tmp/before'"
check "the same figures" "python3 -c '
import json, sys
a, b = json.load(open(\"$tmp/first.json\")), json.load(open(\"$sum\"))
for d in (a, b): d.pop(\"invocation\")
sys.exit(0 if a == b else 1)'"
# --jobs 3 on a fresh --out, stopped by --budget-s 2 up to three times, then finished: the same
# evaluations, the same retrained losses seed by seed and the same figures as one at a time.
jobs="$tmp/jobs"
stops=""
for i in 1 2 3; do  # three stops (fewer if it finishes first), then to the end
    rc=$(bash "$script" "$star" --scale tiny --threads 1 --jobs 3 --budget-s 2 --out "$jobs" >"$tmp/log" 2>&1; echo $?)
    stops="$stops$rc"
    [ "$rc" = 3 ] || break
done
rc=$(bash "$script" "$star" --scale tiny --threads 1 --jobs 3 --out "$jobs" >"$tmp/log" 2>&1; echo $?)
check "--jobs 3: stopped by --budget-s 2 (exits $stops), then finishes (exit $rc)" "[ ${stops:0:1} = 3 ] && [ $rc = 0 ]"
check "--jobs 3: the same archives, retrained losses and figures as --jobs 1" "python3 - '$tmp/first.json' '$jobs' <<'PY'
import json, os, sys
a, b = json.load(open(sys.argv[1])), json.load(open(os.path.join(sys.argv[2], 'search_summary.json')))
ok = all(a[k] == b[k] for k in ('cache_reduction_at_equal_loss', 'param_reduction_at_equal_loss', 'hv_nsga2', 'hv_random', 'ranking_confirmed'))
by = lambda s: {x['hash']: x['val_loss_by_seed'] for x in s['raw']['retrain']['results']}
ok &= by(a) == by(b) and len(by(a)) >= 3
for run in ('nsga2_3obj', 'random_3obj'):
    key = lambda d: [(l['gen'], l['eval'], l['hash'], l['fidelity'], l['status'], l['objectives'])
                     for l in map(json.loads, open(os.path.join(d, run, 'archive.jsonl')))]
    ok &= key('$out') == key(sys.argv[2])
sys.exit(0 if ok else 1)
PY"
# Another fresh --out at --jobs 3, uninterrupted, through a star that counts the
# retrainings in flight (each held 0.2 s longer): 2 or 3 at once, never more.
counting="$tmp/star_counting"
cat >"$counting" <<EOF
#!/usr/bin/env bash
[ "\$1" = train ] || exec "$(realpath "$star")" "\$@"
exec 9>>"$tmp/conc.lock"
flock 9; n=\$(( \$(cat "$tmp/conc.n" 2>/dev/null || echo 0) + 1 )); echo \$n >"$tmp/conc.n"; echo \$n >>"$tmp/conc.log"; flock -u 9
sleep 0.2
rc=0; "$(realpath "$star")" "\$@" || rc=\$?
flock 9; echo \$(( \$(cat "$tmp/conc.n") - 1 )) >"$tmp/conc.n"; flock -u 9
exit \$rc
EOF
chmod +x "$counting"
rc=$(bash "$script" "$counting" --scale tiny --threads 1 --jobs 3 --retrain-seeds 2 --out "$tmp/jobs2" >"$tmp/log" 2>&1; echo $?)
most=$(sort -n "$tmp/conc.log" 2>/dev/null | tail -1)
check "--jobs 3, uninterrupted: finishes (exit $rc), 2 or 3 retrainings at once, never more (most: $most)" \
  "[ $rc = 0 ] && [ -n '$most' ] && [ '$most' -ge 2 ] && [ '$most' -le 3 ] && [ \$(cat '$tmp/conc.log' | wc -l) -ge 6 ]"
check "bad --jobs exits 2" "[ \"\$(run --jobs 0)\" = 2 ] && grep -q 'jobs: expected' '$tmp/log'"

# A control retraining at the search's last rung (8 steps at tiny scale), beside the
# protocol's: its own directory, plan and summary; the protocol's summary untouched.
cp "$sum" "$tmp/before_control.json"
rc=$(run --retrain-steps 8 --retrain-seeds 1)
ctl="$out/search_summary-retrain-8.json"
check "--retrain-steps 8 finishes (exit $rc)" "[ $rc = 0 ] && [ -f '$ctl' ] && [ -f '$out/plan-retrain-8.json' ]"
check "the control trains each genome once in retrain-8/, 8 steps" "python3 - '$ctl' '$out' <<'PY'
import json, os, sys
s = json.load(open(sys.argv[1])); b = s['raw']['retrain']['budget']
n = len(open(os.path.join(sys.argv[2], 'retrain-8', 'list.tsv')).read().split(chr(10))) - 1
files = [f for f in os.listdir(os.path.join(sys.argv[2], 'retrain-8')) if f.endswith('.json')]
ok = b['steps'] == 8 and b['dir'] == 'retrain-8' and b['seeds'] == [2] and len(files) == n
ok &= len(s['raw']['retrain']['results']) == n and s['invocation']['retrainings_run'] == n
ok &= all(json.load(open(os.path.join(sys.argv[2], 'retrain-8', f)))['train']['steps'] == 8 for f in files)
sys.exit(0 if ok else 1)
PY"
check "the protocol's summary is unchanged by the control" "cmp -s '$sum' '$tmp/before_control.json'"
check "prove_search.py budgets: one row per budget and per genome, losses and gains from the summaries" "python3 - '$ctl' '$sum' <<'PY'
import json, subprocess, sys
out = subprocess.run(['python3', 'bench/prove_search.py', 'budgets', sys.argv[2], sys.argv[1]], capture_output=True, text=True, check=True).stdout
a, b = (json.load(open(f))['raw']['retrain'] for f in sys.argv[1:3])   # 8 steps, 16 steps
t1, t2 = out.strip().split(chr(10) * 2)
rows1 = t1.splitlines()[2:]
ok = len(rows1) == 2 and rows1[0].startswith('| 8 steps |') and rows1[1].startswith('| 16 steps |')
rows2 = t2.splitlines()[2:]
la = {x['hash']: x['val_loss'] for x in a['results']}; lb = {x['hash']: x['val_loss'] for x in b['results']}
ok &= len(rows2) == len(la) and '| @8 | @16 | gain 8 to 16 |' in t2
for r in rows2:
    c = [x.strip() for x in r.split('|')]
    h, l8, l16, g = c[1], float(c[6].split()[0].strip('*')), float(c[7].split()[0].strip('*')), float(c[8])
    ok &= abs(l8 - la[h]) < 1e-4 and abs(l16 - lb[h]) < 1e-4 and abs(g - (la[h] - lb[h])) < 2e-3
sys.exit(0 if ok else 1)
PY"
check "prove_search.py budgets refuses two summaries of one budget" "! python3 bench/prove_search.py budgets '$sum' '$sum' 2>'$tmp/err' && grep -q 'same number of steps' '$tmp/err'"
check "prove_search.py genomes: one row per retrained genome, its losses from the summary" "python3 - '$sum' <<'PY'
import json, subprocess, sys
out = subprocess.run(['python3', 'bench/prove_search.py', 'genomes', sys.argv[1]], capture_output=True, text=True, check=True).stdout
r = {x['hash']: x for x in json.load(open(sys.argv[1]))['raw']['retrain']['results']}
rows = out.strip().splitlines()[2:]
ok = len(rows) == len(r) and rows[0].split('|')[2].strip() == 'Transformer++'
for row in rows:
    c = [x.strip() for x in row.split('|')]
    x = r[c[1]]
    if x['val_loss'] is not None:
        ok &= abs(float(c[6].strip('*').split()[0]) - x['val_loss']) < 1e-4
    for sd, v in zip(('2', '3', '4'), c[7].split(' / ')):
        ok &= v == 'failed' if x['val_loss_by_seed'].get(sd) is None else abs(float(v) - x['val_loss_by_seed'][sd]) < 1e-4
sys.exit(0 if ok else 1)
PY"
check "prove_search.py compare: a run beside itself on seed 2, every figure from the summary" "python3 - '$sum' <<'PY'
import json, subprocess, sys
out = subprocess.run(['python3', 'bench/prove_search.py', 'compare', '2', sys.argv[1], sys.argv[1]], capture_output=True, text=True, check=True).stdout
s = json.load(open(sys.argv[1])); raw = s['raw']; res = raw['retrain']['results']
l2 = {x['hash']: x['val_loss_by_seed'].get('2') for x in res}
ev = [x for x in res if x['kind'] == 'evolved' and l2[x['hash']] is not None]
T = [l2[x['hash']] for x in res if x['kind'] == 'transformer'][0]
rows = {r.split('|')[1].strip(): [c.strip() for c in r.split('|')[2:4]] for r in out.strip().splitlines()[2:]}
ok = len(rows) == 5 and all(a == b for a, b in rows.values())
best = min(l2[x['hash']] for x in ev)
ok &= abs(float(rows['best evolved genome'][0].split()[0].strip('*')) - best) < 1e-4
n_ev = sum(1 for x in res if x['kind'] == 'evolved')
ok &= rows['evolved genomes no worse than Transformer++'][0].startswith('%d of %d' % (sum(1 for x in ev if l2[x['hash']] <= T), n_ev))
ok &= rows['wins the search counted that held'][0] == '%d of %d' % (raw['ranking_pairs_confirmed_by_seed'].get('2', 0), raw['ranking_pairs_counted'])
sl = {}
kind_hash = {x['kind']: x['hash'] for x in res}
for c in raw['search_vs_retrain']:
    sl.setdefault(c['hash'], c['search_loss']); sl.setdefault(kind_hash[c['baseline']], c['search_baseline_loss'])
hs = sorted(h for h in sl if l2.get(h) is not None)
pairs = [(a, b) for i, a in enumerate(hs) for b in hs[i + 1:]]
sign = lambda v: (v > 0) - (v < 0)
tau = sum(sign((sl[a] - sl[b]) * (l2[a] - l2[b])) for a, b in pairs) / len(pairs)
ok &= rows[\"Kendall's tau, search loss against retrained loss\"][0] == '%.2f (%d genomes)' % (tau, len(hs))
sys.exit(0 if ok else 1)
PY"
check "prove_search.py compare refuses runs retrained at two budgets" "! python3 bench/prove_search.py compare 2 '$sum' '$ctl' 2>'$tmp/err' && grep -q 'at one budget' '$tmp/err'"
check "prove_search.py compare refuses a seed a run was not retrained with" "! python3 bench/prove_search.py compare 7 '$sum' 2>'$tmp/err' && grep -q 'no retraining with seed 7' '$tmp/err'"
echo 'not json' >"$tmp/bad.json"
check "prove_search.py on a file that is not JSON names it and exits 1" "python3 bench/prove_search.py compare 2 '$tmp/bad.json' 2>'$tmp/err'; [ \$? = 1 ] && grep -q 'bad.json: not valid JSON' '$tmp/err'"
check "bad --retrain-steps exits 2" "[ \"\$(run --retrain-steps soon)\" = 2 ] && grep -q 'retrain-steps: expected' '$tmp/log'"
rc=$(run --plan pairs)
check "another plan on the same --out is refused (exit $rc)" "[ $rc = 2 ] && grep -q 'use another --out' '$tmp/log'"
rc=$(run --corpus fortunes)
check "another corpus on the same --out is refused (exit $rc)" "[ $rc = 2 ] && grep -q 'corpus gcide, not .* corpus fortunes' '$tmp/log'"
mkdir -p "$tmp/legacy" && echo "scale tiny plan three backend cpu" >"$tmp/legacy/protocol"
rc=$(bash "$script" "$star" --scale tiny --threads 1 --out "$tmp/legacy" >"$tmp/log" 2>&1; echo $?)
check "a directory from before --corpus is fortunes (exit $rc)" "[ $rc = 2 ] && grep -q 'corpus fortunes, not .* corpus gcide' '$tmp/log'"

# --rungs: a third rung for the better half of the second's; the search's budget is the
# last rung and the retraining twice it; the directory keeps its rungs.
r3="$tmp/rungs"
rc=$(bash "$script" "$star" --scale tiny --threads 1 --rungs 4,8,16 --retrain-seeds 1 --out "$r3" >"$tmp/log" 2>&1; echo $?)
check "--rungs 4,8,16 finishes (exit $rc)" "[ $rc = 0 ] && [ -f '$r3/search_summary.json' ]"
check "--rungs: the searches train at 4, 8 and 16 steps, the retraining 32" "python3 - '$r3' <<'PY'
import json, os, sys
d = sys.argv[1]; ok = True
for run in ('nsga2_3obj', 'random_3obj'):
    cfg = open(os.path.join(d, run, 'config.yaml')).read()
    ok &= 'rungs: [4, 8, 16]' in cfg and 'steps: 16,' in cfg
    fid = {json.loads(l)['fidelity'] for l in open(os.path.join(d, run, 'archive.jsonl'))}
    ok &= fid == {4, 8, 16}
s = json.load(open(os.path.join(d, 'search_summary.json')))
ok &= s['raw']['retrain']['budget']['steps'] == 32
ok &= all(json.load(open(os.path.join(d, 'retrain', f)))['train']['steps'] == 32
          for f in os.listdir(os.path.join(d, 'retrain')) if f.endswith('.json'))
sys.exit(0 if ok else 1)
PY"
rc=$(bash "$script" "$star" --scale tiny --threads 1 --out "$r3" >"$tmp/log" 2>&1; echo $?)
check "the same --out without its rungs is refused (exit $rc)" "[ $rc = 2 ] && grep -q 'rungs 4,8,16, not' '$tmp/log'"
finish
