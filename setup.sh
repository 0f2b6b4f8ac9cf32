#!/usr/bin/env bash
# star: install what the build needs (Debian packages), build, and run the main job: a
# small search on the embedded MAD tasks (no download). Safe to run again.
#   STAR_SETUP_NO_RUN=1 bash setup.sh   # install and build only
set -euo pipefail
cd "$(dirname "$0")"

packages=(build-essential cmake pkg-config libyaml-dev libopenblas-dev libfftw3-dev fortunes dict-gcide libplplot-dev plplot-driver-cairo libopenmpi-dev openmpi-bin
          clang libclang-rt-dev)  # clang + libclang-rt-dev: the fuzz harnesses (tests/fuzz/run.sh)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "star setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

if [ "${STAR_SETUP_NO_RUN:-0}" != "1" ]; then
  ./build/star search configs/quickstart.yaml
fi
