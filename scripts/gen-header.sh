#!/usr/bin/env bash
# Regenerates include/inr.h from src/capi with cbindgen (through tests/header.rs,
# so the same cbindgen version writes and checks it).
source "$(dirname "$0")/common.sh"
cd "$ROOT"
INR_UPDATE_HEADER=1 cargo test --quiet --test header
echo "include/inr.h regenerated"
