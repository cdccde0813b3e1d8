#!/usr/bin/env bash
# Random end-to-end oracle (tests/oracle/oracle.py): random files of many
# real-world shapes through the real kprd; for every submission the register
# equals what the status and the feedback say, excluded refs appear verbatim,
# and no national ID leaks. Independent of the validator and kpr-gen.
# Bounded for make check (a few fixed seeds); KPR_ORACLE_SOAK=N runs N more
# seeds of larger files (a soak), KPR_ORACLE_SEED=S one chosen seed.
. "$(dirname "$0")/../lib/common.sh"
ORACLE=$(dirname "$0")/../oracle/oracle.py

seeds=(1 2 3)
if [ -n "${KPR_ORACLE_SEED:-}" ]; then seeds=("$KPR_ORACLE_SEED"); fi
for seed in "${seeds[@]}"; do
  check "oracle seed $seed: register = feedback" python3 "$ORACLE" --seed "$seed" --files 12 --max-persons 40
done
if [ "${KPR_ORACLE_SOAK:-0}" -gt 0 ]; then
  for ((i = 0; i < KPR_ORACLE_SOAK; i++)); do
    seed=$((1000 + i))
    check "oracle soak seed $seed" python3 "$ORACLE" --seed "$seed" --files 40 --max-persons 300
  done
fi
finish
