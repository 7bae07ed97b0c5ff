#!/usr/bin/env bash
# Regenerates wasm/pgo/python.profdata, the profile python.wasm's CPython is compiled with
# (WASMDEPLOY_PGO=use; wasm/pgo/README.md). Not part of the shipping build: the default build
# (WASMDEPLOY_PGO=off) and check-build.sh never read it; a use build reads only this file.
#
#   wasm/pgo/make-profile.sh            (about 10 minutes on 2 cores)
#
# 1. compiler-rt's profile runtime for wasm32-wasi, from Debian's llvm-toolchain-14 source
#    (Debian ships only libclang_rt.builtins for wasm32): the files a buffer-based runtime needs,
#    with runtime registration of the counters (InstrProfilingPlatformOther.c; wasm has no
#    __start/__stop section symbols) and without InstrProfilingFile.c/InstrProfilingUtil.c
#    (mmap, which wasi-libc lacks); wasm/pgo/profile-dump.c gets the bytes out instead.
# 2. build-python.sh WASMDEPLOY_PGO=generate: CPython instrumented (-fprofile-instr-generate),
#    without LTO or wasm-opt (the counters are per source construct; neither changes them).
# 3. wasm/pgo/train.ts runs the training workload in it (bench/pure/suite.py, through the
#    serving path) and writes the raw profile; llvm-profdata-14 merges it into python.profdata.
set -euo pipefail

PGO_DIR=$(cd "$(dirname "$0")" && pwd)
HERE=$(dirname "$PGO_DIR")
ROOT=$(dirname "$HERE")
WORK=${WASMDEPLOY_WASM_WORK:-$HERE/.build}
export SOURCE_DATE_EPOCH=1675814400 LC_ALL=C TZ=UTC
# shellcheck source=wasm/build-common.sh
. "$HERE/build-common.sh" # fetch_source
LLVM_TARBALL=llvm-toolchain-14_14.0.6.orig.tar.xz
LLVM_SHA256=d9bce5f42381d781e273c724db1ab0acd66259bf2782b79891664dbf1953d22c
P=$WORK/pgo
mkdir -p "$P"

# --- 1. the profile runtime ---
fetch_source "$LLVM_TARBALL" "$LLVM_SHA256" llvm-toolchain-14=1:14.0.6-12 llvm-toolchain-14
RT_SRC=$P/llvm-toolchain-14_14.0.6/compiler-rt
if [ ! -f "$RT_SRC/lib/profile/InstrProfiling.c" ]; then
  tar -xJf "$WORK/$LLVM_TARBALL" -C "$P" --wildcards '*/compiler-rt/lib/profile/*' '*/compiler-rt/include/profile/*'
fi
mkdir -p "$P/rt"
RT_FILES=(InstrProfiling InstrProfilingBuffer InstrProfilingInternal InstrProfilingMerge InstrProfilingNameVar
  InstrProfilingPlatformOther InstrProfilingValue InstrProfilingVersionVar InstrProfilingWriter)
for f in "${RT_FILES[@]}"; do
  clang --target=wasm32-unknown-wasi -O2 -DCOMPILER_RT_HAS_ATOMICS=0 -I"$RT_SRC/include" \
    -c "$RT_SRC/lib/profile/$f.c" -o "$P/rt/$f.o"
done
rm -f "$P/libwdprofile.a"
(cd "$P/rt" && llvm-ar-14 rcs "$P/libwdprofile.a" "${RT_FILES[@]/%/.o}")

# --- 2. the instrumented interpreter ---
WASMDEPLOY_PGO=generate WASMDEPLOY_LTO='' WASMDEPLOY_WASM_OPT='' WASMDEPLOY_COMPONENT=no \
  "$HERE/build-python.sh" "$P/out"

# --- 3. training, and the profile ---
(cd "$ROOT" && WASMDEPLOY_PYTHON_WASM="$P/out/python.wasm" WASMDEPLOY_STDLIB_ZIP="$P/out/stdlib.zip" \
  node --import tsx "$PGO_DIR/train.ts" "$P/python.profraw")
llvm-profdata-14 merge -o "$PGO_DIR/python.profdata" "$P/python.profraw"
llvm-profdata-14 show "$PGO_DIR/python.profdata" | tail -5 >&2
ls -l "$PGO_DIR/python.profdata" >&2
