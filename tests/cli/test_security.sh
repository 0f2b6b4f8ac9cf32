#!/usr/bin/env bash
# Nothing a config or a run directory holds makes star write outside the run directory
# or run a command; run files and checkpoints from elsewhere are untrusted input.
set -u
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
star=$(cd "$(dirname "$star")" && pwd)/$(basename "$star")  # the test changes directory
small=(--set 'objectives=[{name: params}, {name: cache_bytes, context: 1024}]' --set algorithm.population=4
       --set algorithm.generations=1 --set algorithm.seed_with=[] --quiet)

# 1. run.dir climbing out with '..' is refused (in the file and through --set), nothing made.
mkdir -p $tmp/work/runs && cd $tmp/work
printf 'run: {dir: runs/../../escaped}\n' > bad.yaml
out=$("$star" search bad.yaml 2>&1); rc=$?
check "run.dir with '..' in the file refused naming the key" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q \"bad.yaml:1:12: run.dir: must not contain a '..' component\""
out=$("$star" search "$root/configs/quickstart.yaml" --set run.dir=runs/../../escaped2 "${small[@]}" 2>&1); rc=$?
check "run.dir with '..' through --set refused" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'run.dir'"
check "nothing written outside" "[ ! -e $tmp/escaped ] && [ ! -e $tmp/escaped2 ] && [ -z \"\$(ls runs)\" ]"
cd - >/dev/null

# 2. A run directory from elsewhere: resuming writes into that directory only, whatever
# run.dir its config.yaml names.
"$star" search configs/quickstart.yaml --set run.dir=$tmp/a "${small[@]}" >/dev/null 2>&1
mkdir $tmp/b && sed "s|$tmp/a|$tmp/elsewhere|" $tmp/a/config.yaml > $tmp/b/config.yaml
"$star" search --resume $tmp/b --quiet >/dev/null 2>&1
check "resume writes into the resumed directory only" "[ $? -eq 0 ] && [ -s $tmp/b/archive.jsonl ] && [ ! -e $tmp/elsewhere ]"

# 3. Untrusted run files: a malformed archive line in the middle, and a generation whose
# objective name would climb out of the plots directory, are refused naming the file.
cp -r $tmp/a $tmp/c
sed -i '2s/"hash":"[0-9a-f]*"/"hash":"12zz"/' $tmp/c/archive.jsonl
out=$("$star" search --resume $tmp/c --quiet 2>&1); rc=$?
check "a malformed archive line is an error naming file and line" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'archive.jsonl line 2:.*hash'"
cp -r $tmp/a $tmp/d
sed -i 's/"params"/"..\/..\/p"/g' $tmp/d/generations/gen_0001.json
out=$("$star" front $tmp/d 2>&1); rc=$?
check "an objective name with '/' in a generation file is refused" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'gen_0001.json.*objective name'"

# 4. An untrusted checkpoint: a header length past the file, a header that lies about
# a tensor's size: errors naming the file, no crash.
mkdir -p $tmp/ck1 $tmp/ck2
printf '\377\377\377\377\377\377\377\017{}' > $tmp/ck1/model.safetensors
out=$("$star" eval --ckpt $tmp/ck1 --suite text --data /dev/null 2>&1); rc=$?
check "a huge safetensors header length is refused naming the file" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'ck1/model.safetensors: header length'"
hdr='{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}}'
{ printf "\\x$(printf %02x ${#hdr})\\0\\0\\0\\0\\0\\0\\0"; printf '%s' "$hdr"; head -c 8 /dev/zero; } > $tmp/ck2/model.safetensors
out=$("$star" eval --ckpt $tmp/ck2 --suite text --data /dev/null 2>&1); rc=$?
check "a shape that does not match its bytes is refused naming the file" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'ck2/model.safetensors.*shape and dtype'"

# Metadata claiming dims the file's tensors cannot back (a 16384-wide model with a
# vocabulary of 2^24 in a file without tensors): refused before any allocation.
mkdir -p $tmp/ck3
meta='{"__metadata__":{"genome":"11111-91111","width":"16384","vocab":"16777216","step":"1","gene_table_version":"1"}}'
{ printf "\\x$(printf %02x ${#meta})\\0\\0\\0\\0\\0\\0\\0"; printf '%s' "$meta"; } > $tmp/ck3/model.safetensors
out=$("$star" eval --ckpt $tmp/ck3 --suite text --data /dev/null 2>&1); rc=$?
check "forged checkpoint dims are refused naming the file" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'ck3/model.safetensors: its tensors hold 0 bytes'"

# 5. No shell or subprocess anywhere in the sources (the one exec is star re-starting
# itself through /proc/self/exe with a changed environment, cli/main.c).
hits=$(grep -rnE '\b(system|popen|execl|execlp|execle|execvp|execvpe|posix_spawnp?|wordexp)[[:space:]]*\(' \
         "$root"/{common,genome,config,search,eval,operators,kernels,cli} --include='*.c' --include='*.h' --include='*.cu' 2>/dev/null)
check "no system/popen/exec*p/posix_spawn/wordexp call in the sources" "[ -z \"\$hits\" ]"
[ -z "$hits" ] || echo "$hits"
check "the only execv is star re-starting itself" \
  "[ \"\$(grep -rn 'execv(' $root/{common,genome,config,search,eval,operators,cli} --include='*.c' | grep -vc '/proc/self/exe')\" -eq 0 ]"

finish
