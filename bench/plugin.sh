#!/usr/bin/env bash
# The ParaView reader's benchmarks (issue 5), in one run:
#  1. a 256^3 decode in pvbatch on 1 MPI rank and on 2 (one decoding thread
#     per rank, then all cores per rank): the speedup of 2 ranks over 1;
#  2. reader overhead: time to data in pvpython for a 128^3 grid against the
#     library's own decode time for the same grid (`inr decode`, same thread
#     count, best of the same number of runs).
# Needs the plugin built (scripts/test-plugin.sh builds it). Prints RESULT lines.
source "$(dirname "$0")/../scripts/common.sh"
cd "$ROOT"
W="$CARGO_TARGET_DIR/plugin"
PLUGIN="$(find "$W/build" -name INRReader.so | head -n 1)"
# The release inr may be built with the encoder, which needs libtorch's path.
if [ -f "$HOME/.cache/inr/torch-env.sh" ]; then source "$HOME/.cache/inr/torch-env.sh"; fi
INR="$(inr_bin)"
FILE="$W/bench.inr"
"$INR" synthetic -o "$FILE" --width 64 --blocks 3 --dims 64,64,64 --encoding codebook9 --seed 1 > /dev/null
echo "model: $("$INR" info "$FILE" | grep -iE 'model|variables' | tr '\n' ' ')"
for threads in 1 0; do
  for ranks in 1 2; do
    mpiexec --allow-run-as-root --oversubscribe -n $ranks pvbatch --symmetric bench/plugin_decode.py \
      "$PLUGIN" "$FILE" 256 $threads 3 | grep '^RESULT'
  done
done
pvpython bench/plugin_decode.py "$PLUGIN" "$FILE" 128 0 5 | grep '^RESULT' | sed 's/^RESULT/RESULT pvpython/'
for i in 1 2 3 4 5; do
  "$INR" decode "$FILE" --dims 128,128,128 -o "$W/bench-128.vti" 2>&1 | grep -o 'in [0-9.]* s (' | head -n 1
done | awk '{ s = $2; if (best == "" || s < best) best = s } END { printf "RESULT inr-decode edge=128 seconds=%s\n", best }'
