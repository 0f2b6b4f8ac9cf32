#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (leak detection on) and runs each for a fixed time.
# Fails on any crash, leak, timeout (an input slower than 10 s) or out-of-memory, and
# leaves the input that caused it under BUILD/fuzz-artifacts/.
#   tests/fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS...]     (default: 10 s, all six)
#   STAR_FUZZ_BUILD=dir  build directory (default build-fuzz)
# New inputs the fuzzer finds go to BUILD/fuzz-corpus/HARNESS (kept between runs); the
# seeds and regression inputs in tests/fuzz/corpus/HARNESS are only read. A finding
# becomes a regression test by adding its input to tests/fuzz/corpus/HARNESS: the
# ctest fuzz/HARNESS replays that folder in every build.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(config genome_string genome_yaml archive safetensors data_bin)
build=${STAR_FUZZ_BUILD:-build-fuzz}
jobs=${STAR_FUZZ_JOBS:-2}

command -v clang >/dev/null || { echo "tests/fuzz/run.sh: clang not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAR_FUZZ=ON \
  -DSTAR_SANITIZE=ON -DSTAR_CUDA=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j"$jobs" --target "${harnesses[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
  { tail -40 "$build/build.log"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
total=0
for h in "${harnesses[@]}"; do
  work=$build/fuzz-corpus/$h
  art=$build/fuzz-artifacts
  mkdir -p "$work" "$art"
  log=$build/fuzz-$h.log
  dict=()
  [ -f "tests/fuzz/$h.dict" ] && dict=(-dict="tests/fuzz/$h.dict")
  set +e
  "$build/fuzz_$h" "$work" "tests/fuzz/corpus/$h" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$art/$h-" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  total=$((total + ${runs:-0}))
  if [ $rc -eq 0 ]; then
    printf 'fuzz %-14s ok    %9s executions in %ss, coverage %s edges\n' "$h" "${runs:-?}" "$secs" "${cov:-?}"
  else
    printf 'fuzz %-14s FAIL  (exit %d) after %s executions; the input is in %s, the log is %s:\n' "$h" $rc \
      "${runs:-?}" "$art" "$log"
    grep -E 'ERROR|SUMMARY|fuzz property|Test unit written|==[0-9]+==|#[0-9]+ 0x' "$log" | head -40 || true
    tail -5 "$log"
    status=1
  fi
done
echo "fuzz: $total executions in all"
exit $status
