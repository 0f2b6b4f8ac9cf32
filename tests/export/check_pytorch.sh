#!/usr/bin/env bash
# The PyTorch export against the CPU engine (tests/export/check_pytorch.py): every LIV
# class and sharing pattern, logits within 1e-4 relative, the same parameter count.
# usage: check_pytorch.sh STAR_BINARY
# Exit 77 (a skip for ctest) where python3 with torch and safetensors is not available.
set -u
star=${1:?usage: check_pytorch.sh STAR_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import torch, safetensors' >/dev/null 2>&1; then
    echo "SKIP: python3 with torch and safetensors is not available"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
OMP_NUM_THREADS=1 python3 "$here/check_pytorch.py" "$star" "$work"
