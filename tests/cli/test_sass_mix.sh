#!/usr/bin/env bash
# bench/sass_mix.py on text in cuobjdump -sass's format (no GPU, no cuobjdump needed):
# instructions and tensor-core instructions per kernel and per loop (a backward branch's
# range, a branch to itself left out), --kernel selects, --base prints another build
# beside, --json appends a line per kernel; errors name the file and line (or the
# missing tool) and exit 1. $1 is the star binary (unused); run from the source root.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
py=bench/sass_mix.py
cat >"$tmp/a.sass" <<'SASS'

	code for sm_90a
		Function : _Z6tile_kILi64EEvv
	.headerflags	@"EF_CUDA_SM90 EF_CUDA_VIRTUAL_SM(EF_CUDA_SM90)"
        /*0000*/                   LDC R1, c[0x0][0x28] ;                  /* 0x00000a00ff017b82 */
        /*0010*/                   S2R R0, SR_TID.X ;                      /* 0x0000000000007919 */
        /*0020*/                   LDSM.16.M88.4 R4, [R0] ;                /* 0x000000000004783b */
        /*0030*/                   HMMA.16816.F32.BF16 R8, R4, R6, R8 ;    /* 0x000000060408723c */
        /*0040*/                   HMMA.16816.F32.BF16 R12, R4, R6, R12 ;  /* 0x00000006040c723c */
        /*0050*/                   IMAD R0, R0, 0x2, RZ ;                  /* 0x0000000200007824 */
        /*0060*/              @!P0 BRA 0x20 ;                              /* 0xfffffffc00ec8947 */
        /*0070*/                   EXIT ;                                  /* 0x000000000000794d */
        /*0080*/                   BRA 0x80;                               /* 0xfffffffc00fc7947 */
		..........
		Function : _Z5otherv
        /*0000*/                   IMAD R0, R0, 0x2, RZ ;                  /* 0x0000000200007824 */
        /*0010*/                   EXIT ;                                  /* 0x000000000000794d */
SASS
# The base build: the same kernel with one more instruction in its loop.
sed 's|/\*0050\*/                   IMAD R0, R0, 0x2, RZ ;|/*0050*/ IMAD R0, R0, 0x2, RZ ;\n        /*0058*/ IADD3 R0, R0, 0x1, RZ ;|' "$tmp/a.sass" >"$tmp/b.sass"
out=$(python3 $py "$tmp/a.sass" --kernel tile_k --json "$tmp/m.jsonl" 2>&1); rc=$?
check "a .sass file exits 0" "[ $rc = 0 ]"
check "the kernel and its loop, the self-branch left out" "grep -q '^_Z6tile_kILi64EEvv' <<<\"\$out\" && grep -q '9 instructions' <<<\"\$out\" && grep -q 'loop 0x20-0x60: 5 instructions, 2 tensor-core (2.50 per tensor-core instruction)' <<<\"\$out\" && [ \$(grep -c 'loop ' <<<\"\$out\") = 1 ]"
check "--kernel selects" "! grep -q '_Z5otherv' <<<\"\$out\""
check "the opcodes counted" "grep -q 'HMMA 2, LDSM 1, IMAD 1, BRA 1' <<<\"\$out\""
check "the JSON line" "python3 - '$tmp/m.jsonl' <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = rows[0]
ok = len(rows) == 1 and r['kernel'] == '_Z6tile_kILi64EEvv' and r['instructions'] == 9 and r['tensor'] == 2
ok &= r['loops'][0]['instructions'] == 5 and r['loops'][0]['start'] == '0x20' and r['date'].endswith('Z')
sys.exit(0 if ok else 1)
PY"
out=$(python3 $py "$tmp/a.sass" --base "$tmp/b.sass" 2>&1); rc=$?
check "--base: both builds, every kernel" "[ $rc = 0 ] && grep -q 'base:   loop 0x20-0x60: 6 instructions' <<<\"\$out\" && grep -q 'this:   loop 0x20-0x60: 5 instructions' <<<\"\$out\" && grep -q '^_Z5otherv' <<<\"\$out\""
python3 $py "$tmp/a.sass" --kernel nothing >/dev/null 2>"$tmp/err"; rc=$?
check "no kernel matching exits 1 naming the pattern" "[ $rc = 1 ] && grep -q \"no kernel in '$tmp/a.sass' matches 'nothing'\" '$tmp/err'"
python3 $py "$tmp/a.sass" --kernel '(' >/dev/null 2>"$tmp/err"; rc=$?
check "a bad pattern exits 1 naming it" "[ $rc = 1 ] && grep -q \"kernel '(':\" '$tmp/err'"
printf '        /*0000*/                   EXIT ;\n' >"$tmp/c.sass"
python3 $py "$tmp/c.sass" >/dev/null 2>"$tmp/err"; rc=$?
check "an instruction outside a function exits 1 naming file and line" "[ $rc = 1 ] && grep -q \"c.sass:1: an instruction before any 'Function :' line\" '$tmp/err'"
printf 'not a cubin' >"$tmp/x.cubin"
mkdir -p "$tmp/nobin"
CUOBJDUMP=/nonexistent PATH="$tmp/nobin" "$(python3 -c "import sys; print(sys.executable)")" $py "$tmp/x.cubin" >/dev/null 2>"$tmp/err"; rc=$?
check "a cubin without cuobjdump exits 1 saying where to get it" "[ $rc = 1 ] && grep -q 'no cuobjdump' '$tmp/err'"
python3 $py "$tmp/none.cubin" >/dev/null 2>"$tmp/err"; rc=$?
check "a missing file exits 1 naming it" "[ $rc = 1 ] && grep -q \"none.cubin' is not a file\" '$tmp/err'"
finish
