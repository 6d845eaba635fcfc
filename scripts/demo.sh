#!/usr/bin/env bash
# The main job on bundled sample data: make a model file, inspect it, decode
# it at twice the native resolution, open the result in ParaView headless and
# write a picture. Output goes to out/demo/.
#
# Until the encoder lands (issue 4), the model is a synthetic residual SIREN
# (random weights with SIREN initialization): the file, the decoder and the
# ParaView path are real, the field is not learned from data.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_rust
ensure_paraview
OUT="$ROOT/out/demo"
mkdir -p "$OUT"

log "building inr (release)"
cargo build --release --locked --bin inr
INR="$(inr_bin)"

log "writing a sample model: $OUT/sample.inr"
"$INR" synthetic -o "$OUT/sample.inr" --width 64 --blocks 3 --dims 48,40,32 --seed 7 --encoding codebook9

log "inr info"
"$INR" info "$OUT/sample.inr"

log "decoding at 2x native resolution"
"$INR" decode "$OUT/sample.inr" --dims 96,80,64 --time 0.5 -o "$OUT/sample.vti"

log "probing one point"
"$INR" probe "$OUT/sample.inr" 2.0 2.5 40.0 0.5

log "rendering in ParaView (pvpython, off-screen under Xvfb)"
xvfb-run -a -s "-screen 0 1280x1024x24" pvpython "$ROOT/scripts/render_vti.py" "$OUT/sample.vti" pressure "$OUT/sample.png"
log "picture: $OUT/sample.png"
