# Shared by tests/cli/test_search_crash*.sh (after lib.sh): SIGKILL a search at seeded
# random moments and resume it, then compare with an uninterrupted run.
#   STAR_CRASH_KILLS=N (default 20), STAR_CRASH_SEED=S (default 1)
kills=${STAR_CRASH_KILLS:-20}
RANDOM=${STAR_CRASH_SEED:-1}

strip() { sed -E 's/"wall_s":[-0-9.eE+]+//; s/"tokens_per_s":[-0-9.eE+]+//; s/"train_s":[-0-9.eE+]+//' "$1"; }
# The shape of an archive record, start to end (docs/run.md); plain fields may follow wall_s.
record='^\{"gen":[0-9]+,"eval":[0-9]+,"hash":"[0-9a-f]{16}","fidelity":[0-9]+,"x":.*,"status":"(ok|infeasible)",'
record+='"failed":(true|false),"reason":".*","objectives":\{.*\},"cv":[^,]+,"metrics":\{.*\},"seed":[0-9]+,"wall_s":[^,}]+(,"[a-z_]+":[^,{}]+)*\}$'
# Complete lines that are not whole records (a torn last line without its newline is
# allowed: the next resume cuts it off).
bad_lines() { head -c "$(( $(wc -c < "$1") - $(tail -c 1 "$1" | grep -c .) * $(tail -n 1 "$1" | wc -c) ))" "$1" |
  grep -cvE "$record"; }
# Evaluation numbers are exactly 0 .. n-1, each once.
evals_exact() { [ "$(grep -o '"eval":[0-9]*' "$1" | cut -d: -f2 | sort -n | tr '\n' ' ')" = "$(seq -s ' ' 0 $(( $(wc -l < "$1") - 1 ))) " ]; }

compare_runs() {  # name uninterrupted resumed
  check "$1: archives equal apart from wall times" "diff <(strip $2/archive.jsonl) <(strip $3/archive.jsonl) >/dev/null"
  check "$1: no evaluation lost or repeated (eval numbers 0..n-1 once each)" "evals_exact $3/archive.jsonl"
  check "$1: each (hash, fidelity) once" \
    "[ \$(grep -o '\"hash\":\"[0-9a-f]*\",\"fidelity\":[0-9]*' $3/archive.jsonl | sort | uniq -d | wc -l) -eq 0 ]"
  local last; last=$(ls $2/generations | tail -1)
  check "$1: last generation equal" "diff <(strip $2/generations/$last) <(strip $3/generations/$last) >/dev/null"
  check "$1: run marked complete" "grep -q '\"complete\":true' $3/checkpoint.json"
}

# crash_rounds NAME ARGS...: kills a search `kills` times at random moments, resuming each
# time, then lets it finish. Each round waits for the archive to grow by a random number
# of lines (0 to twice the remaining evaluations over the remaining rounds, so the rounds
# together cover about one run) and then a random 0 to 40 ms more, and kills: the kills
# land at random points of the whole run whatever the machine's speed or load. A round
# whose process ends by itself (the run completed) is not a kill. A kill before the run
# directory holds its config.yaml (written atomically first) leaves nothing to resume:
# the original command is run again, as a user would.
crash_rounds() {
  local name=$1; shift
  local dir=$tmp/$name-killed mid=0 appending=0 fresh=0 resumes_ok=0 parse_ok=0 i rc
  "$star" search "$@" --set run.dir=$tmp/$name-whole --quiet >/dev/null 2>&1
  check "$name: uninterrupted run succeeds" "[ -s $tmp/$name-whole/archive.jsonl ]"
  local total; total=$(wc -l < $tmp/$name-whole/archive.jsonl)
  lines() { if [ -f $dir/archive.jsonl ]; then wc -l < $dir/archive.jsonl; else echo 0; fi; }
  for ((i = 0; i < kills; i++)); do
    local before; before=$(lines)
    local left=$(( total - before )); [ $left -gt 0 ] || left=0
    local grow=$(( (RANDOM * 32768 + RANDOM) % (2 * left / (kills - i) + 1) ))
    local extra=$(( RANDOM % 41 ))
    if [ ! -f $dir/config.yaml ]; then
      fresh=$((fresh + 1))
      "$star" search "$@" --set run.dir=$dir --quiet >/dev/null 2>$tmp/err &
    else
      "$star" search --resume $dir --quiet >/dev/null 2>$tmp/err &
    fi
    local pid=$!
    while kill -0 $pid 2>/dev/null && [ "$(lines)" -lt $(( before + grow )) ]; do sleep 0.005; done
    sleep "0.0$(printf '%02d' $extra)"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    rc=$?
    # Killed (137), or finished by itself (0, once the run is complete); anything else
    # is a start or resume that failed.
    if [ $rc -eq 137 ] || [ $rc -eq 0 ]; then resumes_ok=$((resumes_ok + 1)); else
      echo "$name round $i: exit $rc: $(head -3 $tmp/err)"; fi
    # Mid-run: killed after the run directory was set up and before the run completed;
    # appending: evaluations were appended during the round before the kill.
    if [ $rc -eq 137 ] && [ -f $dir/config.yaml ] && ! grep -q '"complete":true' $dir/checkpoint.json 2>/dev/null; then
      mid=$((mid + 1))
      [ -f $dir/archive.jsonl ] && [ "$(wc -l < $dir/archive.jsonl)" -gt "$before" ] && appending=$((appending + 1))
    fi
    if [ ! -f $dir/archive.jsonl ] || [ "$(bad_lines $dir/archive.jsonl)" -eq 0 ]; then parse_ok=$((parse_ok + 1)); fi
  done
  if [ -f $dir/config.yaml ]; then
    "$star" search --resume $dir --quiet >/dev/null 2>$tmp/err
  else
    "$star" search "$@" --set run.dir=$dir --quiet >/dev/null 2>$tmp/err
  fi
  rc=$?
  check "$name: final resume exits 0" "[ $rc -eq 0 ]"
  check "$name: $resumes_ok/$kills runs and resumes ended only by the kill or completion" "[ $resumes_ok -eq $kills ]"
  check "$name: after $parse_ok/$kills kills every complete archive line is a whole record" "[ $parse_ok -eq $kills ]"
  check "$name: the final archive is all whole records" "[ \$(bad_lines $dir/archive.jsonl) -eq 0 ]"
  local tmps; tmps=$(find $dir -name '*.tmp.*' | wc -l)
  check "$name: no temporary file of an interrupted write is left after the final resume" "[ $tmps -eq 0 ]"
  local removed; removed=$(sed -n 's/.*removed \([0-9]*\) temporary.*/\1/p' $dir/log.txt | awk '{ n += $1 } END { print n + 0 }')
  check "$name: at least a quarter of the kills landed mid-run ($mid/$kills)" "[ $((4 * mid)) -ge $kills ]"
  compare_runs "$name" $tmp/$name-whole $dir
  echo "$name: $kills kills ($mid mid-run, $appending of them after evaluations were" \
       "appended in the round; $fresh starts before config.yaml existed), $resumes_ok/$kills starts and resumes ok, $(wc -l < $dir/archive.jsonl) evaluations," \
       "$removed temporary files of kills during an atomic write removed by the resumes"
}

