#!/usr/bin/env bash
# star export and star logits without torch: architecture files from a genome, a run
# (--pick row, --pick hash, --best) and a checkpoint, each read back by star train and
# star genome; the resolved section against star genome stats; the PyTorch module file
# and the weights (safetensors layout: 8-byte little-endian header length, JSON header,
# data); and the errors (an untrained run asked for weights, a bad pick, an unknown objective,
# --format pytorch without --out). $1 is the star binary; run from the source root.
source "$(dirname "$0")/lib.sh"

json_string() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["string"])' "$1"; }

# An architecture run scored without training (seconds).
$star search configs/quickstart.yaml --set run.dir="$tmp/run" \
    --set 'objectives=[{name: params}, {name: cache_bytes, context: 1024}]' \
    --set algorithm.generations=1 --set 'algorithm.seed_with=[]' --quiet >"$tmp/out" 2>&1
check "architecture search without training" '[ $? -eq 0 ]'
$star front "$tmp/run" --format json >"$tmp/front.json" 2>&1
check "front of the run" '[ $? -eq 0 ]'

# --pick 1 is the first row of star front; --pick HASH the member with that hash.
read -r hash1 genome1 < <(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["front"][0]; print(f["hash"], f["genome"])' "$tmp/front.json")
$star export "$tmp/run" --pick 1 --out "$tmp/pick1" 2>"$tmp/err"
check "export --pick 1 (yaml)" '[ $? -eq 0 ] && [ -f "$tmp/pick1/arch.yaml" ]'
check "--pick 1 names the front's first hash" 'grep -q "\"hash\":\"$hash1\"" "$tmp/pick1/arch.yaml"'
$star export "$tmp/run" --pick "$hash1" --format json >"$tmp/pick_hash.json" 2>"$tmp/err"
check "export --pick HASH (json, stdout)" '[ $? -eq 0 ]'
check "--pick HASH gives the member's genome" '[ "$(json_string "$tmp/pick_hash.json")" = "$genome1" ]'
check "the JSON file parses" 'python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/pick_hash.json"'

# --best params: the front member with the fewest parameters.
best=$(python3 -c 'import json,sys; fr=json.load(open(sys.argv[1]))["front"]; print(min(fr, key=lambda p: (p["objectives"]["params"], p["objectives"]["cache_bytes"]))["genome"])' "$tmp/front.json")
$star export "$tmp/run" --best params --format json >"$tmp/best.json" 2>"$tmp/err"
check "export --best params" '[ $? -eq 0 ] && [ "$(json_string "$tmp/best.json")" = "$best" ]'

# The exported files are architectures star reads: the same genome and parameter count.
for f in "$tmp/pick1/arch.yaml" "$tmp/pick_hash.json"; do
  $star genome stats "$f" --context 1024 --json >"$tmp/stats" 2>&1
  check "star genome stats reads $(basename $f)" '[ $? -eq 0 ]'
  p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["params"])' "$tmp/stats")
  check "resolved.params of $(basename $f) = genome stats ($p)" 'grep -q "params.*$p" "$f"'
done
$star train "$tmp/pick_hash.json" --mad selective_copying --steps 2 --batch 2 --seq-len 64 --threads 1 \
    --save "$tmp/ckpt" >"$tmp/out" 2>&1
check "star train reads the exported JSON file" '[ $? -eq 0 ] && [ -f "$tmp/ckpt/model.safetensors" ]'
$star train "$tmp/pick1/arch.yaml" --mad selective_copying --steps 1 --batch 2 --seq-len 64 --threads 1 >"$tmp/out" 2>&1
check "star train reads the exported YAML file" '[ $? -eq 0 ]'

# A checkpoint: architecture, module and weights.
$star export "$tmp/ckpt" --format pytorch --weights --out "$tmp/pt" 2>"$tmp/err"
check "export a checkpoint to pytorch with weights" '[ $? -eq 0 ] && [ -f "$tmp/pt/model.py" ] && [ -f "$tmp/pt/model.safetensors" ]'
check "model.py holds the architecture" 'grep -q "^ARCH = json.loads" "$tmp/pt/model.py" && ! grep -q "@ARCH@" "$tmp/pt/model.py"'
check "model.py is valid Python" 'python3 -c "import ast,sys; ast.parse(open(sys.argv[1]).read())" "$tmp/pt/model.py"'
check "the checkpoint source is recorded" 'grep -q "\"kind\":\"checkpoint\"" "$tmp/pt/model.py"'
# safetensors layout, read without the safetensors package.
check "model.safetensors follows the format" 'python3 - "$tmp/pt/model.safetensors" "$tmp/ckpt/model.safetensors" <<EOF
import json, struct, sys
path, ck = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
meta = h.pop("__metadata__")
data = b[8 + n:]
spans = sorted(v["data_offsets"] for v in h.values())
assert spans[0][0] == 0 and spans[-1][1] == len(data), "data not tiled"
assert all(a[1] == c[0] for a, c in zip(spans, spans[1:])), "gaps"
for k, v in h.items():
    size = 4
    for d in v["shape"]: size *= d
    assert v["dtype"] == "F32" and v["data_offsets"][1] - v["data_offsets"][0] == size, k
c = open(ck, "rb").read(); m = struct.unpack("<Q", c[:8])[0]; ch = json.loads(c[8:8 + m]); ch.pop("__metadata__")
assert sorted(ch) == sorted(h), "names differ from the checkpoint"
assert meta["format"] == "pt" and "genome" in meta
EOF'
$star export "$tmp/ckpt" --format yaml --out "$tmp/ck_yaml" 2>"$tmp/err"
check "export a checkpoint to yaml" '[ $? -eq 0 ] && grep -q "\"kind\":\"checkpoint\"" "$tmp/ck_yaml/arch.yaml"'

# star logits: tokens in, logits out, the same for the same weights.
$star logits --ckpt "$tmp/ckpt" --tokens 1,2,3/4,5,6 --out "$tmp/l1.safetensors" 2>"$tmp/err"
check "logits of a checkpoint" '[ $? -eq 0 ]'
$star logits --ckpt "$tmp/ckpt" --tokens 1,2,3/4,5,6 --out "$tmp/l2.safetensors" 2>"$tmp/err"
check "logits are deterministic" 'cmp -s "$tmp/l1.safetensors" "$tmp/l2.safetensors"'
check "logits shape [2, 3, vocab]" 'python3 - "$tmp/l1.safetensors" <<EOF
import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
assert h["tokens"]["shape"] == [2, 3] and h["logits"]["shape"][:2] == [2, 3], h
assert h["logits"]["shape"][2] == int(h["__metadata__"]["vocab"])
EOF'
$star logits 11111-91111 --tokens 1,2/3 --out "$tmp/l3.safetensors" 2>"$tmp/err"
check "logits: ragged rows are refused" '[ $? -eq 1 ] && grep -q "row 2 has 1 tokens" "$tmp/err"'
$star logits 11111-91111 --random 2,5 --out "$tmp/l4.safetensors" 2>"$tmp/err"
check "logits of a fresh genome" '[ $? -eq 0 ] && [ -s "$tmp/l4.safetensors" ]'

# Errors.
$star export "$tmp/run" --pick 1 --weights --out "$tmp/w" 2>"$tmp/err"
check "an untrained run has no weights: clear error" '[ $? -eq 1 ] && grep -q "no weights kept for candidate .*: it was not trained" "$tmp/err"'
$star export "$tmp/run" --pick 999 2>"$tmp/err" >/dev/null
check "--pick out of range" '[ $? -eq 1 ] && grep -q "expected a row of the front of generation 1, in \[1, " "$tmp/err"'
$star export "$tmp/run" --pick 0123456789abcdef 2>"$tmp/err" >/dev/null
check "--pick unknown hash" '[ $? -eq 1 ] && grep -q "no member has hash" "$tmp/err"'
$star export "$tmp/run" --best quality 2>"$tmp/err" >/dev/null
check "--best unknown objective" '[ $? -eq 1 ] && grep -q "no such objective (it has: params cache_bytes)" "$tmp/err"'
$star export "$tmp/run" 2>"$tmp/err" >/dev/null
check "a run needs --pick or --best" '[ $? -eq 1 ] && grep -q "say which member" "$tmp/err"'
$star export 11111-91111 --format pytorch 2>"$tmp/err"
check "pytorch needs --out" '[ $? -eq 2 ] && grep -q "needs --out" "$tmp/err"'
$star export 11111-91111 --format onnx 2>"$tmp/err"
check "unknown format" '[ $? -eq 2 ] && grep -q "expected yaml, json or pytorch" "$tmp/err"'
$star export 11111-91111 --weights --out "$tmp/g" 2>"$tmp/err"
check "a genome has no weights" '[ $? -eq 1 ] && grep -q "has no weights" "$tmp/err"'
$star export 1x111 2>"$tmp/err"
check "a bad genome names the position" '[ $? -eq 1 ] && grep -q "position 2" "$tmp/err"'
$star export "$tmp" 2>"$tmp/err"
check "a directory that is neither run nor checkpoint" '[ $? -eq 1 ] && grep -q "neither a checkpoint" "$tmp/err"'
$star export "$tmp/nothing/here" 2>"$tmp/err"
check "a missing path" '[ $? -eq 1 ] && grep -q "no such file or directory" "$tmp/err"'
finish
