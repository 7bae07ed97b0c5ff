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
export SOURCE_DATE_EPOCH=1675814400 LC_ALL=C TZ=UTC

# --- toolchain (Debian packages) ---
missing=()
for pkg in clang lld llvm wasi-libc libclang-rt-dev-wasm32 python3.11; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
LLVM_SUFFIX=""
command -v llvm-ar >/dev/null || LLVM_SUFFIX=-14
AR=llvm-ar$LLVM_SUFFIX
RANLIB=llvm-ranlib$LLVM_SUFFIX
STRIP=llvm-strip$LLVM_SUFFIX

# --- source ---
mkdir -p "$WORK"
# clang runs binaryen's wasm-opt after every optimizing link when it finds one. That changes
# configure's answers (wasm-opt's validator rejects configure's deliberately loose test programs,
# so e.g. clock() looked missing and timemodule.c failed to compile) and python.wasm's bytes. A
# wasm-opt of our own, found first through COMPILER_PATH, leaves the output as the link made it,
# so the build is the same with or without binaryen installed.
mkdir -p "$WORK/no-wasm-opt"
cat > "$WORK/no-wasm-opt/wasm-opt" <<'SHIM'
#!/bin/sh
# clang calls this as: wasm-opt IN [options] -o OUT (usually IN = OUT). Leave the module unchanged.
in=""; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -*) shift ;;
    *) in="$1"; shift ;;
  esac
done
if [ -n "$in" ] && [ -n "$out" ] && [ "$in" != "$out" ]; then cp "$in" "$out"; fi
SHIM
chmod +x "$WORK/no-wasm-opt/wasm-opt"
export COMPILER_PATH="$WORK/no-wasm-opt"
if [ ! -f "$WORK/$TARBALL" ]; then
  # The Debian patch files may 404 (security pocket); the pristine .orig tarball is all we need.
  (cd "$WORK" && apt-get source --download-only python3.11="${PYVER}*" >&2 || apt-get source --download-only python3.11 >&2 || true)
fi
echo "$TARBALL_SHA256  $WORK/$TARBALL" | sha256sum -c --quiet -
SRC=$WORK/Python-$PYVER
if [ ! -f "$SRC/.wasmdeploy-patched" ]; then
  rm -rf "$SRC"
  tar -xzf "$WORK/$TARBALL" -C "$WORK"
  # Let the eval loop poll the host for interrupts, as Pyodide's build does: the periodic
  # signal check CPython compiles in for Emscripten is enabled for our build too, and
  # wasmdeploy.c implements it with a wasm import (see docs/architecture.md).
  sed -i 's/^#if defined(__EMSCRIPTEN__)$/#if defined(__EMSCRIPTEN__) || defined(WASMDEPLOY_SIGNALS)/' \
    "$SRC/Include/internal/pycore_emscripten_signal.h"
  grep -q WASMDEPLOY_SIGNALS "$SRC/Include/internal/pycore_emscripten_signal.h"
  # Reproducible bytes: clang 14 ignores SOURCE_DATE_EPOCH, so pin sys.version's build date.
  sed -i 's/^#define DATE __DATE__$/#define DATE "Feb  8 2023"/; s/^#define TIME __TIME__$/#define TIME "00:00:00"/' \
    "$SRC/Modules/getbuildinfo.c"
  if grep -q 'define DATE __DATE__' "$SRC/Modules/getbuildinfo.c"; then echo "getbuildinfo.c: pinning the date failed" >&2; exit 1; fi
  touch "$SRC/.wasmdeploy-patched"
fi

# --- libpython for wasm32-wasi ---
B=$SRC/builddir/wasi
CFLAGS_COMMON="-O2 -ffile-prefix-map=$SRC=/cpython -ffile-prefix-map=$HERE=/wasmdeploy -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS"
if [ ! -f "$B/Makefile" ]; then
  mkdir -p "$B"
  (cd "$B" && CONFIG_SITE=../../Tools/wasm/config.site-wasm32-wasi \
    CC="clang --target=wasm32-unknown-wasi" CPP="clang --target=wasm32-unknown-wasi -E" \
    AR=$AR RANLIB=$RANLIB PKG_CONFIG=false \
    CFLAGS="$CFLAGS_COMMON -DWASMDEPLOY_SIGNALS" \
    LDFLAGS="-lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks" \
    py_cv_module__ctypes=n/a py_cv_module__ctypes_test=n/a py_cv_module__tkinter=n/a \
    py_cv_module__sqlite3=n/a py_cv_module__ssl=n/a py_cv_module__hashlib=n/a \
    py_cv_module__curses=n/a py_cv_module__curses_panel=n/a py_cv_module_readline=n/a \
    py_cv_module__dbm=n/a py_cv_module__gdbm=n/a py_cv_module__uuid=n/a py_cv_module_zlib=n/a \
    py_cv_module__lzma=n/a py_cv_module__bz2=n/a py_cv_module_nis=n/a \
    ../../configure --host=wasm32-unknown-wasi --build=x86_64-pc-linux-gnu \
      --with-build-python=/usr/bin/python3.11 --disable-test-modules >&2)
fi
make -C "$B" -j"$JOBS" libpython3.11.a Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a >&2
# _sysconfigdata_*.py (sysconfig's view of the build), made by the build Python; stdlib.zip ships it.
make -C "$B" pybuilddir.txt >&2

# --- the reactor: libpython + our entry points and bridge module ---
OBJ=$WORK/obj
mkdir -p "$OBJ"
clang --target=wasm32-unknown-wasi $CFLAGS_COMMON -DWASMDEPLOY_SIGNALS \
  -I"$SRC/Include" -I"$SRC/Include/internal" -I"$B" -DPy_BUILD_CORE \
  -c "$HERE/src/wasmdeploy.c" -o "$OBJ/wasmdeploy.o"
clang --target=wasm32-unknown-wasi -mexec-model=reactor -O2 \
  -Wl,-z,stack-size=8388608 -Wl,--stack-first -Wl,--import-memory \
  -o "$OBJ/python-full.wasm" "$OBJ/wasmdeploy.o" "$B/libpython3.11.a" \
  "$B/Modules/_decimal/libmpdec/libmpdec.a" "$B/Modules/expat/libexpat.a" \
  -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm
"$STRIP" -o "$OUT/python.wasm" "$OBJ/python-full.wasm"

# --- stdlib subset ---
/usr/bin/python3.11 "$HERE/make-stdlib.py" "$SRC/Lib" "$B" "$OUT/stdlib.zip"
ls -l "$OUT/python.wasm" "$OUT/stdlib.zip" >&2
