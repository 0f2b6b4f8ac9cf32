#!/usr/bin/env bash
# Crash safety with training: a tiny trained search (12 candidates, 3 steps each on one
# MAD task) SIGKILLed at twenty random moments in a row (seeded; while training, appending
# to the archive or writing a generation), resumed each time: every start and resume
# succeeds, every complete archive line is a whole record, and the end equals an
# uninterrupted run's apart from wall times (tests/cli/crash_lib.sh).
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/crash_lib.sh"

trained=(configs/quickstart.yaml --set evaluation.threads=1 --set space.width=32 --set space.depth.min=1
         --set space.depth.max=2 --set algorithm.population=4 --set algorithm.generations=3
         --set algorithm.seed_with=[] --set evaluation.budget.steps=3 --set evaluation.budget.batch=1
         --set evaluation.budget.seq_len=40 --set evaluation.budget.warmup=1
         --set 'evaluation.data={mad: [selective_copying]}')
crash_rounds trained "${trained[@]}"

finish
