#!/usr/bin/env bash
# Builds the WASI interpreter: CPython 3.11.2 (Debian's source package) for wasm32-wasi, linked
# as a reactor with wasm/src/wasmdeploy.c, stripped -> python.wasm, plus stdlib.zip (the .py
# files the runtime and model code import). Offline apart from apt: the compiler, wasi-libc and
# the source come from Debian. Idempotent: the configured tree under $WORK is reused.
#
#   wasm/build-python.sh [OUTDIR]     (default OUTDIR: wasm/)
#
# Reproducible: fixed build paths are mapped away (-ffile-prefix-map), getbuildinfo's
# __DATE__/__TIME__ are pinned, the zip has fixed timestamps and order. wasm/check-build.sh
# rebuilds into a temp dir and compares bytes with the committed files.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "${1:-$HERE}" && cd "${1:-$HERE}" && pwd)
WORK=${WASMDEPLOY_WASM_WORK:-$HERE/.build}
PYVER=3.11.2
TARBALL=python3.11_${PYVER}.orig.tar.gz
TARBALL_SHA256=2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849
JOBS=$(nproc 2>/dev/null || echo 2)
# shellcheck source=wasm/build-common.sh
. "$HERE/build-common.sh" # STACK_SIZE, OPT, LTO, PYMALLOC, PGO, CONF_TAG, fetch_source
export SOURCE_DATE_EPOCH=1675814400 LC_ALL=C TZ=UTC

mkdir -p "$WORK"

# --- toolchain (Debian packages) ---
missing=()
for pkg in clang lld llvm wasi-libc libclang-rt-dev-wasm32 python3.11 binaryen; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
# clang's driver runs `wasm-opt` on every wasm it links at -O1 and above whenever it finds one
# (Debian's binaryen puts it in /usr/bin, where clang looks before PATH). That made the build
# depend on whether binaryen was installed, and broke configure: wasm-opt rejects its link tests,
# which declare functions with made-up signatures, so checks such as clock() failed. A no-op
# wasm-opt in a -B directory (searched first) turns that off; the real one runs once,
# explicitly, on the final module below.
SHIM=$WORK/toolshim
mkdir -p "$SHIM"
printf '#!/bin/sh\n# clang calls wasm-opt after linking; wasm/build-python.sh runs it itself.\nexit 0\n' >"$SHIM/wasm-opt"
chmod +x "$SHIM/wasm-opt"
WASI_CC="clang --target=wasm32-unknown-wasi -B$SHIM"
LLVM_SUFFIX=""
command -v llvm-ar >/dev/null || LLVM_SUFFIX=-14
AR=llvm-ar$LLVM_SUFFIX
RANLIB=llvm-ranlib$LLVM_SUFFIX
STRIP=llvm-strip$LLVM_SUFFIX

# --- source ---
fetch_source "$TARBALL" "$TARBALL_SHA256" python3.11="${PYVER}*" python3.11
SRC=$WORK/Python-$PYVER
# The tree is patched once; a change to wasm/patches/ (or to this list) unpacks it afresh.
PATCHES=("$HERE"/patches/*.patch)
PATCH_ID=$(cat "${PATCHES[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$SRC/.wasmdeploy-patched" 2>/dev/null)" != "$PATCH_ID" ]; then
  rm -rf "$SRC"
  tar -xzf "$WORK/$TARBALL" -C "$WORK"
  # signal-countdown.patch: let the eval loop poll the host for interrupts, as Pyodide's build
  # does: the periodic signal check CPython compiles in for Emscripten is enabled for our build
  # too (WASMDEPLOY_SIGNALS), as a countdown inlined into the eval loop, and wasmdeploy.c
  # implements the rest with a wasm import (see docs/architecture.md).
  for p in "${PATCHES[@]}"; do patch -d "$SRC" -p1 --quiet --no-backup-if-mismatch <"$p"; done
  grep -q _Py_wasmdeploy_signal_countdown "$SRC/Include/internal/pycore_emscripten_signal.h"
  # Reproducible bytes: clang 14 ignores SOURCE_DATE_EPOCH, so pin sys.version's build date.
  sed -i 's/^#define DATE __DATE__$/#define DATE "Feb  8 2023"/; s/^#define TIME __TIME__$/#define TIME "00:00:00"/' \
    "$SRC/Modules/getbuildinfo.c"
  if grep -q 'define DATE __DATE__' "$SRC/Modules/getbuildinfo.c"; then echo "getbuildinfo.c: pinning the date failed" >&2; exit 1; fi
  echo "$PATCH_ID" >"$SRC/.wasmdeploy-patched"
fi

# --- optimization (docs/benchmarks.md, "Pure Python": what each step gained) ---
# OPT, LTO, PYMALLOC and PGO: wasm/build-common.sh (the sci build's scripts read them too).
# WASM_OPT: binaryen's wasm-opt flags for the linked module ("" skips it). The defaults are what
# ships; the variables exist to rebuild the steps that were measured, e.g.
#   WASMDEPLOY_LTO= WASMDEPLOY_WASM_OPT= WASMDEPLOY_PYMALLOC=no WASMDEPLOY_PGO=off wasm/build-python.sh /tmp/o2
# (the compiler settings from before issue 23).
WASM_OPT=${WASMDEPLOY_WASM_OPT--O3}
# PGO's flags go to CPython's own C files only (CFLAGS_NODIST, as CPython's --enable-optimizations
# passes them), not to the CFLAGS sysconfig hands extension modules such as numpy's.
PGO_CFLAGS=""
PGO_LINK=()
case "$PGO" in
  generate)
    PGO_CFLAGS="-fprofile-instr-generate"
    PGO_RT=$WORK/pgo/libwdprofile.a
    [ -f "$PGO_RT" ] || { echo "build-python: $PGO_RT is missing: WASMDEPLOY_PGO=generate is wasm/pgo/make-profile.sh's" >&2; exit 1; } ;;
  use) PGO_CFLAGS="-fprofile-instr-use=$PGO_PROFILE" ;;
esac
# (wasm32 is little-endian: configure's own test greps an object file, which with LTO is bitcode.)

# --- libpython for wasm32-wasi ---
B=$SRC/builddir/wasi-$CONF_TAG
CFLAGS_COMMON="$OPT $LTO -ffile-prefix-map=$SRC=/cpython -ffile-prefix-map=$HERE=/wasmdeploy -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS"
if [ ! -f "$B/Makefile" ]; then
  mkdir -p "$B"
  (cd "$B" && CONFIG_SITE=../../Tools/wasm/config.site-wasm32-wasi \
    CC="$WASI_CC" CPP="$WASI_CC -E" \
    AR=$AR RANLIB=$RANLIB PKG_CONFIG=false \
    CFLAGS="$CFLAGS_COMMON -DWASMDEPLOY_SIGNALS" CFLAGS_NODIST="$PGO_CFLAGS" \
    LDFLAGS="$LTO -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks" \
    ax_cv_c_float_words_bigendian=no \
    py_cv_module__ctypes=n/a py_cv_module__ctypes_test=n/a py_cv_module__tkinter=n/a \
    py_cv_module__sqlite3=n/a py_cv_module__ssl=n/a py_cv_module__hashlib=n/a \
    py_cv_module__curses=n/a py_cv_module__curses_panel=n/a py_cv_module_readline=n/a \
    py_cv_module__dbm=n/a py_cv_module__gdbm=n/a py_cv_module__uuid=n/a py_cv_module_zlib=n/a \
    py_cv_module__lzma=n/a py_cv_module__bz2=n/a py_cv_module_nis=n/a \
    ../../configure --host=wasm32-unknown-wasi --build=x86_64-pc-linux-gnu \
      --with-build-python=/usr/bin/python3.11 --disable-test-modules --with-pymalloc="$PYMALLOC" >&2)
fi
make -C "$B" -j"$JOBS" libpython3.11.a Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a >&2
# _sysconfigdata_*.py (sysconfig's view of the build), made by the build Python; stdlib.zip ships it.
make -C "$B" pybuilddir.txt >&2

# --- the reactor: libpython + our entry points and bridge module ---
OBJ=$WORK/obj-$CONF_TAG
mkdir -p "$OBJ"
# shellcheck disable=SC2086 # PGO_CFLAGS: zero or one flag
$WASI_CC $CFLAGS_COMMON $PGO_CFLAGS -DWASMDEPLOY_SIGNALS \
  -I"$SRC/Include" -I"$SRC/Include/internal" -I"$B" -DPy_BUILD_CORE \
  -c "$HERE/src/wasmdeploy.c" -o "$OBJ/wasmdeploy.o"
if [ "$PGO" = generate ]; then
  # The instrumented interpreter's way out for its counters: a built-in module _wdprofile.
  $WASI_CC $CFLAGS_COMMON -I"$SRC/Include" -I"$B" -c "$HERE/pgo/profile-dump.c" -o "$OBJ/profile-dump.o"
  PGO_LINK=("$OBJ/profile-dump.o" "$PGO_RT" -Wl,--wrap=Py_InitializeFromConfig)
fi
LTO_LINK=()
[ -n "$LTO" ] && LTO_LINK=(-Wl,--lto-"${OPT#-}")
# link_interpreter NAME OUTPUT LINK-FLAGS-AND-OBJECTS...: links the objects with libpython as a
# reactor, runs wasm-opt (WASM_OPT) on the module and strips it into OUTPUT; NAME names the
# intermediate files in $OBJ. python.wasm and the component's core module are both made so.
link_interpreter() {
  local name=$1 out=$2
  shift 2
  $WASI_CC -mexec-model=reactor $OPT $LTO "${LTO_LINK[@]}" \
    -Wl,-z,stack-size="$STACK_SIZE" -Wl,--stack-first "$@" \
    "$B/libpython3.11.a" "$B/Modules/_decimal/libmpdec/libmpdec.a" "$B/Modules/expat/libexpat.a" \
    -Wl,--wrap=sbrk -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm \
    -o "$OBJ/$name-full.wasm"
  if [ -n "$WASM_OPT" ]; then
    # shellcheck disable=SC2086 # WASM_OPT is a list of flags
    /usr/bin/wasm-opt $WASM_OPT "$OBJ/$name-full.wasm" -o "$OBJ/$name-opt.wasm"
    "$STRIP" -o "$out" "$OBJ/$name-opt.wasm"
  else
    "$STRIP" -o "$out" "$OBJ/$name-full.wasm"
  fi
}
link_interpreter python "$OUT/python.wasm" -Wl,--import-memory "$OBJ/wasmdeploy.o" "${PGO_LINK[@]}"

# --- the interpreter as a component (wit/interpreter.wit; docs/architecture.md) ---
# The same objects, with wasm/src/component.c speaking the canonical ABI: a component cannot
# import its memory, so this link defines it (up to wasm32's 4 GiB; the host caps each instance
# through set-limit). jco (a dev dependency) embeds the WIT, adapts WASI preview1 to 0.2 with
# the reactor adapter it ships, and transpiles the component to an ES module plus core modules.
if [ "${WASMDEPLOY_COMPONENT-yes}" = yes ]; then
  # shellcheck disable=SC2086
  $WASI_CC $CFLAGS_COMMON $PGO_CFLAGS -DWASMDEPLOY_SIGNALS "-DWD_IMPORT(name)=" "-DWD_EXPORT(name)=" \
    -I"$SRC/Include" -I"$SRC/Include/internal" -I"$B" -DPy_BUILD_CORE \
    -c "$HERE/src/wasmdeploy.c" -o "$OBJ/wasmdeploy-component.o"
  $WASI_CC $CFLAGS_COMMON -c "$HERE/src/component.c" -o "$OBJ/component.o"
  link_interpreter component "$OBJ/component-core.wasm" -Wl,--max-memory=4294967296 \
    "$OBJ/wasmdeploy-component.o" "$OBJ/component.o" "${PGO_LINK[@]}"
  node "$HERE/make-component.mjs" "$OBJ/component-core.wasm" "$OUT"
fi

# --- stdlib subset ---
/usr/bin/python3.11 "$HERE/make-stdlib.py" "$SRC/Lib" "$B" "$OUT/stdlib.zip"
ls -l "$OUT/python.wasm" "$OUT/stdlib.zip" >&2
