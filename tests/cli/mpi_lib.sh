# Shared by the tests/cli scripts that launch star under mpirun (after lib.sh).
#   have_mpi          true when star was built with MPI and mpirun is on PATH
#   require_mpi       skips the test (exit 77) unless have_mpi
#   "${mpi[@]}" -np N star ...   launches N ranks, oversubscribed, as root too
#   wait_lines FILE N JOB        waits (up to 30 s) until FILE has N lines or JOB ended
#   rank_pid JOB R               the pid of rank R among the children of mpirun JOB
have_mpi() { command -v mpirun >/dev/null && ldd "$star" | grep -q libmpi; }
# Ends a test that needs MPI with a skip (77) where there is none.
require_mpi() { have_mpi || { echo "SKIP: star built without MPI, or no mpirun"; exit 77; }; }
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# Each test its own Open MPI session directory (under lib.sh's $tmp): concurrent mpiruns
# (ctest -j) sharing /tmp/ompi.<host>.<uid> can remove each other's directories as they
# finish (Open MPI 4.x), which failed a run at start-up now and then.
export OMPI_MCA_orte_tmpdir_base="$tmp"
# Open MPI does not free some of its own allocations (docs/reliability.md): no leak check
# inside the ranks of a sanitizer build (ASan and UBSan stay on).
mpi=(env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)

wait_lines() {
  local waited=0
  while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && kill -0 "$3" 2>/dev/null && [ $waited -lt 1500 ]; do
    sleep 0.02; waited=$((waited + 1))
  done
}

rank_pid() {
  local p
  for p in $(pgrep -P "$1"); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -q "^OMPI_COMM_WORLD_RANK=$2\$" && echo $p
  done
}
