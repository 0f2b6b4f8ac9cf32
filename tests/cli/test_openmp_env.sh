#!/usr/bin/env bash
# How star sets OpenMP's waiting (cli/main.c): with neither OMP_WAIT_POLICY nor
# GOMP_SPINCOUNT set it runs with OMP_WAIT_POLICY=passive and GOMP_SPINCOUNT=1000; a
# GOMP_SPINCOUNT the user set is kept; with OMP_WAIT_POLICY set nothing is added. Read from
# /proc/PID/environ of a running training (star restarts itself in place, same PID).
# $1 is the star binary; run from the source root.
source "$(dirname "$0")/lib.sh"
[ -r /proc/self/environ ] || { echo "SKIP: no /proc/PID/environ"; exit 77; }
# The environment of a star training started with the given variables (env -u clears).
env_of() {
    env "$@" "$star" train 11111-91111 --mad in_context_recall --width 32 --steps 100000 --batch 2 --seq-len 16 \
        --threads 1 >/dev/null 2>&1 &
    local pid=$! e=""
    for _ in $(seq 50); do  # until star has restarted itself (or 5 s)
        sleep 0.1
        e=$(tr '\0' '\n' </proc/$pid/environ 2>/dev/null)
        grep -q '^OMP_WAIT_POLICY=' <<<"$e" && break
    done
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    echo "$e"
}
e=$(env_of -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)
check "unset: OMP_WAIT_POLICY=passive" "grep -qx 'OMP_WAIT_POLICY=passive' <<<\"\$e\""
check "unset: GOMP_SPINCOUNT=1000" "grep -qx 'GOMP_SPINCOUNT=1000' <<<\"\$e\""
e=$(env_of -u OMP_WAIT_POLICY GOMP_SPINCOUNT=77)
check "a GOMP_SPINCOUNT of the user's is kept" "grep -qx 'GOMP_SPINCOUNT=77' <<<\"\$e\" && grep -qx 'OMP_WAIT_POLICY=passive' <<<\"\$e\""
e=$(env_of -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active)
check "with OMP_WAIT_POLICY set nothing is added" "grep -qx 'OMP_WAIT_POLICY=active' <<<\"\$e\" && ! grep -q '^GOMP_SPINCOUNT=' <<<\"\$e\""
finish
