# Shared by the tests/cli scripts that check conditions: a temporary directory removed
# on exit, check "what" "condition", and finish (prints the count, sets the status).
star=${1:-build/star}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); return 1; fi; }
finish() {
  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ]
}
