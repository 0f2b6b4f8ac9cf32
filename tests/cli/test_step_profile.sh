#!/usr/bin/env bash
# bench/step_profile.py on CSV in Nsight Compute's format (no GPU needed): launches and
# milliseconds per step summed per kernel (parameter lists dropped, template arguments
# kept; ns, us and ms; thousands separators), largest first, the JSON line appended;
# errors name the file and line (unknown unit, a value that is no number, no header) and
# exit 1; bench/step_profile.sh exits 2 on bad usage and 1 without ncu. $1 is the star
# binary; run from the source root.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
py=bench/step_profile.py
hdr='"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"'
row() { printf '"%s","1","star","host","%s","1","7","(128, 1, 1)","(8, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","%s","%s"\n' "$@"; }
{
  echo "==PROF== Connected to process 1 (build-gpu/star)"
  echo "$hdr"
  row 0 'void attention_forward_v2_kernel<64, 64, 4, 2>(attn_params)' ns '1,000,000'
  row 1 'nvjet_hsh_256x128_64x4_2x1_v_bz_coopA_TNT' us 500
  row 2 'void attention_forward_v2_kernel<64, 64, 4, 2>(attn_params)' ms 3
  row 3 'void rmsnorm_kernel<(bool)1>(float const*, int)' ns 250000
} >"$tmp/ok.csv"
out=$(python3 $py "$tmp/ok.csv" 2 --json "$tmp/p.jsonl" --arch A --args '--width 64' --device D 2>&1); rc=$?
check "a valid CSV exits 0" "[ $rc = 0 ]"
check "per kernel and step, largest first" "python3 - \"\$out\" <<'PY'
import sys
rows = [l for l in sys.argv[1].splitlines() if l.startswith('| \`')]
ok = len(rows) == 3
ok &= rows[0].startswith('| \`attention_forward_v2_kernel<64, 64, 4, 2>\` | 1 | 2.000 |')
ok &= rows[1].startswith('| \`nvjet_hsh_256x128_64x4_2x1_v_bz_coopA_TNT\` | 0.5 | 0.250 |')
ok &= rows[2].startswith('| \`rmsnorm_kernel<(bool)1>\` | 0.5 | 0.125 |')
ok &= '| total | 2 | 2.375 | 100% |' in sys.argv[1]
sys.exit(0 if ok else 1)
PY"
check "the JSON line has the figures, arch, args, device and date" "python3 - '$tmp/p.jsonl' <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
j = json.loads(lines[0])
ok = len(lines) == 1 and j['arch'] == 'A' and j['args'] == '--width 64' and j['device'] == 'D' and j['steps'] == 2
ok &= abs(j['ms_per_step'] - 2.375) < 1e-9 and [k['kernel'] for k in j['kernels']][0].startswith('attention_forward')
ok &= bool(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', j['date']))
sys.exit(0 if ok else 1)
PY"
{ echo "$hdr"; row 0 k furlong 3; } >"$tmp/unit.csv"
python3 $py "$tmp/unit.csv" 1 >/dev/null 2>"$tmp/err"; rc=$?
check "an unknown unit exits 1 naming file and line" "[ $rc = 1 ] && grep -q 'unit.csv:2: unknown time unit .furlong.' '$tmp/err'"
{ echo "==PROF== x"; echo "$hdr"; row 0 k ns 1; row 1 k ns soon; } >"$tmp/val.csv"
python3 $py "$tmp/val.csv" 1 >/dev/null 2>"$tmp/err"; rc=$?
check "a value that is no number exits 1 naming the line" "[ $rc = 1 ] && grep -q 'val.csv:4: metric value .soon.' '$tmp/err'"
echo "==PROF== No kernels were profiled." >"$tmp/none.csv"
python3 $py "$tmp/none.csv" 1 >/dev/null 2>"$tmp/err"; rc=$?
check "no CSV header exits 1" "[ $rc = 1 ] && grep -q 'no ncu CSV header' '$tmp/err'"
python3 $py "$tmp/ok.csv" 0 >/dev/null 2>"$tmp/err"; rc=$?
check "STEPS 0 exits 1" "[ $rc = 1 ] && grep -q 'STEPS: expected' '$tmp/err'"
bash bench/step_profile.sh >/dev/null 2>&1; rc=$?
check "step_profile.sh without arguments exits 2" "[ $rc = 2 ]"
PATH=/usr/bin:/bin bash bench/step_profile.sh "$star" 11111-91111 >/dev/null 2>"$tmp/err"; rc=$?
check "step_profile.sh without ncu exits 1 and says so" "[ $rc = 1 ] && grep -q 'ncu (Nsight Compute) is not on PATH' '$tmp/err'"
finish
