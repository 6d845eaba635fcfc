#!/usr/bin/env bash
# The main job on bundled sample data: encode a real data set into an .inr
# file (CPU, or a GPU when present), inspect it, decode it at twice the native
# resolution, open the .inr file in ParaView headless through the INR reader
# plugin (decoded at twice the native resolution) and write a picture.
# Output goes to out/demo/.
#
# The sample is one step of the Viscous Fingering data set (examples/data/).
# Training stops after INR_DEMO_MINUTES minutes (default 1) on this CPU.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
ensure_rust
ensure_paraview
ensure_plugin_build_deps
OUT="$ROOT/out/demo"
mkdir -p "$OUT"
SAMPLE="$ROOT/examples/data/viscous_fingers_001.vti"

log "setting up libtorch for the encoder (a PyTorch venv in ~/.cache/inr, made once)"
bash "$ROOT/scripts/setup-torch.sh" > /dev/null
source "$HOME/.cache/inr/torch-env.sh"

log "building inr with the encoder (release)"
cargo build --release --locked --package inr-cli --features encoder
INR="$(inr_bin)"

log "encoding $SAMPLE at compression ratio 50"
"$INR" encode "$SAMPLE" -o "$OUT/fingers.inr" --ratio 50 --max-minutes "${INR_DEMO_MINUTES:-1}" --seed 1

log "inr info"
"$INR" info "$OUT/fingers.inr"

log "decoding at 2x native resolution (128^3)"
"$INR" decode "$OUT/fingers.inr" --dims 128,128,128 -o "$OUT/fingers.vti"

log "probing the center"
"$INR" probe "$OUT/fingers.inr" 5 5 5

log "building the ParaView reader plugin"
PLUGIN="$(bash "$ROOT/scripts/build-plugin.sh" | tail -n 1)"

log "opening the .inr file in ParaView (pvpython with the plugin, off-screen under Xvfb)"
xvfb-run -a -s "-screen 0 1280x1024x24" pvpython "$ROOT/scripts/render.py" "$OUT/fingers.inr" ImageFile \
  "$OUT/fingers.png" "$PLUGIN" 128,128,128
log "picture: $OUT/fingers.png"
