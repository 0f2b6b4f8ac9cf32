#!/usr/bin/env bash
# The training step captured as a CUDA graph (the default; STAR_CUDA_GRAPH=0 turns it off;
# eval/model_cuda.c) through the commands: star train gives the same losses step for step,
# the same validation loss and the same saved weights and optimizer state, bit for bit,
# as the uncaptured step (the striped hybrid: GConv-2, GConv-1, attention, SwiGLU); a bad
# STAR_CUDA_GRAPH value fails naming it; star bench records "graph":true by default and
# with --graph, false with --no-graph or STAR_CUDA_GRAPH=0, and the attention kernels'
# version (2; 3 with STAR_ATTN_ATOMIC_DQ=1). Skips (77) without a CUDA device.
set -u
source "$(dirname "$0")/../cli/lib.sh"

if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: no CUDA device"
  exit 77
fi

args=(configs/baselines/striped.yaml --mad in_context_recall --steps 20 --batch 8 --seq-len 64 --width 64
      --backend cuda --log-every 1 --json)
losses() { grep '^step' "$1" | awk '{print $4, $9}'; }  # "step N/M loss L lr R grad norm G": L and G
json_val() { grep -o "\"$2\":[-0-9.eE+]*" "$1" | head -1 | cut -d: -f2; }

STAR_CUDA_GRAPH=0 "$star" train "${args[@]}" --save $tmp/plain >$tmp/plain.json 2>$tmp/plain.log
check "uncaptured training runs 20 steps" "[ \$(losses $tmp/plain.log | wc -l) -eq 20 ]" || cat $tmp/plain.log
env -u STAR_CUDA_GRAPH "$star" train "${args[@]}" --save $tmp/graph >$tmp/graph.json 2>$tmp/graph.log
check "training with the graph (the default) runs 20 steps" "[ \$(losses $tmp/graph.log | wc -l) -eq 20 ]" || cat $tmp/graph.log
check "its losses and gradient norms equal the uncaptured ones, step for step" \
  "diff <(losses $tmp/plain.log) <(losses $tmp/graph.log) >/dev/null"
v_plain=$(json_val $tmp/plain.json val_loss)
v_graph=$(json_val $tmp/graph.json val_loss)
check "its validation loss equals the uncaptured one" "[ -n \"$v_plain\" ] && [ \"$v_plain\" = \"$v_graph\" ]"
check "its saved weights are the same bits" "cmp -s $tmp/plain/model.safetensors $tmp/graph/model.safetensors"
check "its saved optimizer state is the same bits" \
  "cmp -s $tmp/plain/optimizer.safetensors $tmp/graph/optimizer.safetensors"
echo "validation loss: uncaptured $v_plain, graph $v_graph"

STAR_CUDA_GRAPH=yes "$star" train "${args[@]}" >$tmp/bad.json 2>$tmp/bad.log
check "STAR_CUDA_GRAPH=yes fails naming the variable" \
  "[ $? -ne 0 ] && grep -q \"STAR_CUDA_GRAPH: expected 0 or 1, got 'yes'\" $tmp/bad.log" || cat $tmp/bad.log

bench=(configs/baselines/striped.yaml --backend cuda --width 64 --batch 8 --seq-len 64 --steps 5)
STAR_CUDA_GRAPH=0 "$star" bench "${bench[@]}" --graph --results $tmp/bench.jsonl >$tmp/bench.log 2>&1
check "bench --graph runs and records \"graph\":true" "grep -q '\"graph\":true' $tmp/bench.jsonl" || cat $tmp/bench.log
STAR_CUDA_GRAPH=0 "$star" bench "${bench[@]}" --results $tmp/bench0.jsonl >$tmp/bench0.log 2>&1
check "bench with STAR_CUDA_GRAPH=0 records \"graph\":false" "grep -q '\"graph\":false' $tmp/bench0.jsonl" || cat $tmp/bench0.log
env -u STAR_CUDA_GRAPH "$star" bench "${bench[@]}" --results $tmp/bench1.jsonl >$tmp/bench1.log 2>&1
check "bench by default records \"graph\":true" "grep -q '\"graph\":true' $tmp/bench1.jsonl" || cat $tmp/bench1.log
env -u STAR_CUDA_GRAPH "$star" bench "${bench[@]}" --no-graph --results $tmp/bench2.jsonl >$tmp/bench2.log 2>&1
check "bench --no-graph records \"graph\":false" "grep -q '\"graph\":false' $tmp/bench2.jsonl" || cat $tmp/bench2.log
check "bench records the attention kernels, version 2 by default" "grep -q '\"attention_kernels\":2' $tmp/bench2.jsonl"
STAR_ATTN_ATOMIC_DQ=1 "$star" bench "${bench[@]}" --results $tmp/bench3.jsonl >$tmp/bench3.log 2>&1
check "bench with STAR_ATTN_ATOMIC_DQ=1 records version 3" "grep -q '\"attention_kernels\":3' $tmp/bench3.jsonl" || cat $tmp/bench3.log
finish
