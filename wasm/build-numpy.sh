#!/usr/bin/env bash
# numpy 1.24.2 for the WASI interpreter (issue 21): numpy's C extension modules compiled for
# wasm32-wasi with the interpreter's toolchain; wasm/build-sci.sh links them into
# python-sci.wasm as built-in modules and puts numpy's Python files in stdlib-sci.zip.
#
#   wasm/build-numpy.sh [NUMPY_SOURCE]     (default: wasm/vendor/numpy-1.24.2.tar.xz)
#
# Writes $WORK/sci/numpy.link (what each extension module would have linked: "module: objects")
# and $WORK/sci/numpy.lib (numpy's Python files after its build) for build-sci.sh.
#
# NUMPY_SOURCE: numpy 1.24.2's source. Debian's source package would be the origin
# (`apt-get source numpy`), but its pristine tarball answers 404 from Debian's mirror (see
# docs/architecture.md, "numpy and Pillow"), so the repository vendors upstream's v1.24.2 tag (the same
# version), without what the build does not read (docs, benchmarks, CI files; see
# wasm/vendor/README.md). The tarball's sha256 is checked, then a hash of every file's contents,
# so another copy of the same files (a directory) works too.
#
# How: numpy's own build (setup.py, numpy.distutils) runs on the host's CPython 3.11 with the
# WASI interpreter's sysconfig (_PYTHON_SYSCONFIGDATA_NAME), so its configuration checks, code
# generators and compiler flags are numpy's; only the last step of each extension, the link of
# a shared library (which wasm32-wasi does not have), is replaced by a recorder. The recorded
# objects are then linked with libpython into one module, and a generated C file registers each
# extension (numpy.core._multiarray_umath, numpy.random.mtrand, ...) with PyImport_AppendInittab
# before Python starts (it wraps Py_InitializeFromConfig at link time, so wasmdeploy.c is the
# same with or without numpy).
#
# Needs: wasm/build-python.sh run first (its configured tree and objects under wasm/.build),
# and Debian's cython3, python3-setuptools, libc++-14-dev-wasm32 and libc++abi-14-dev-wasm32.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WASMDEPLOY_WASM_WORK:-$HERE/.build}
SRC_ARG=${1:-$HERE/vendor/numpy-1.24.2.tar.xz}
NUMPY_TARBALL_SHA256=fa153015d54fb83eb45df0a315223d96a971d2553f19ea009e3ed880e2e40ab0
NUMPY_TREE_SHA256=96804bb4b487b0a930c2dfd8345bf01c417bcb6cc3982e324766be06a7f42753
JOBS=$(nproc 2>/dev/null || echo 2)
# shellcheck source=wasm/build-common.sh
. "$HERE/build-common.sh" # CONF_TAG, verify_sha256
export SOURCE_DATE_EPOCH=1675814400 LC_ALL=C TZ=UTC

missing=()
for pkg in cython3 python3-setuptools libc++-14-dev-wasm32 libc++abi-14-dev-wasm32; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# --- the interpreter's build (the same settings as build-python.sh's defaults) ---
PY=$WORK/Python-3.11.2
B=$PY/builddir/wasi-$CONF_TAG
OBJ=$WORK/obj-$CONF_TAG
SHIM=$WORK/toolshim
for f in "$B/libpython3.11.a" "$OBJ/wasmdeploy.o" "$SHIM/wasm-opt"; do
  [ -e "$f" ] || { echo "build-numpy: $f is missing: run wasm/build-python.sh first" >&2; exit 1; }
done
SYSCONFIG_DIR=$(dirname "$(ls "$B"/build/lib.*/_sysconfigdata_*.py)")
SYSCONFIG_NAME=$(basename "$(ls "$B"/build/lib.*/_sysconfigdata_*.py)" .py)
CC="clang --target=wasm32-unknown-wasi -B$SHIM"

# Done already for this source, patch, script and compile setting: nothing to do.
STAMP_ID=$( { cat "$0" "$HERE/patches/numpy/wasi.patch"; echo "$CONF_TAG"; if [ -d "$SRC_ARG" ]; then echo "$SRC_ARG"; else sha256sum <"$SRC_ARG"; fi; } | sha256sum | cut -c1-16)
if [ "$(cat "$WORK/sci/numpy.stamp" 2>/dev/null)" = "$STAMP_ID" ] && [ ! -d "$SRC_ARG" ]; then
  echo "build-numpy: up to date" >&2
  exit 0
fi
rm -f "$WORK/sci/numpy.stamp"

# --- source ---
NP=$WORK/numpy-1.24.2
rm -rf "$NP"
mkdir -p "$NP"
if [ -d "$SRC_ARG" ]; then
  cp -a "$SRC_ARG/." "$NP/"
else
  verify_sha256 "$SRC_ARG" "$NUMPY_TARBALL_SHA256" || { echo "build-numpy: $SRC_ARG is not the vendored tarball" >&2; exit 1; }
  tar -xf "$SRC_ARG" -C "$NP" --strip-components=1
fi
got=$(cd "$NP" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$got" != "$NUMPY_TREE_SHA256" ]; then
  echo "build-numpy: $SRC_ARG is not numpy 1.24.2's source (tree hash $got)" >&2
  exit 1
fi
# wasi.patch: wasm32 is a CPU numpy knows (npy_cpu.h checked only __EMSCRIPTEN__); the
# test-only extension modules are left out (NPY_WASMDEPLOY), and _add_newdocs.py, which imports
# one of them (_multiarray_tests) to document it, skips that on WASI; numpy.random.mtrand's
# copy of distributions.c (built with `long`, 32 bits here) gets names of its own, since in one
# module it would otherwise replace npyrandom's int64 copy that Generator calls.
patch -d "$NP" -p1 --quiet --no-backup-if-mismatch <"$HERE/patches/numpy/wasi.patch"

# --- numpy's build, up to (not including) each extension's link ---
mkdir -p "$WORK/sci"
LINKS=$WORK/sci/numpy.link
rm -rf "$LINKS" "$LINKS.d"
mkdir -p "$LINKS.d"
cat >"$WORK/numpy-ldshared.sh" <<'REC'
#!/bin/sh
# Records what numpy's build would link into an extension module instead of linking it.
out=""; objs=""; prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && out="$a"
  case "$a" in *.o) objs="$objs $(realpath "$a")";; esac
  prev="$a"
done
# One file per module: the build links several at once (-j).
echo "$out:$objs" >"$NUMPY_LINKS.d/$(basename "$out")"
: >"$out"
REC
chmod +x "$WORK/numpy-ldshared.sh"
# NPY_NO_SIGNAL/__NPY_PRIVATE_NO_SIGNAL: no setjmp in wasm32-wasi (numpy's SIGINT handling in
# long loops is off; deadlines still interrupt at the next bytecode). restrict: CPython 3.11's
# pthread_stubs.h uses C's `restrict`, which C++ (numpy's sort and linalg code) does not have.
(cd "$NP" && env -i PATH="$PATH" HOME="$WORK" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" LC_ALL=C TZ=UTC \
  SETUPTOOLS_USE_DISTUTILS=stdlib _PYTHON_SYSCONFIGDATA_NAME="$SYSCONFIG_NAME" _PYTHON_HOST_PLATFORM=wasi-wasm32 \
  PYTHONPATH="$SYSCONFIG_DIR:/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
  CC="$CC" CXX="clang++ --target=wasm32-unknown-wasi -B$SHIM -fno-exceptions" \
  CFLAGS="-I$PY/Include -I$B -ffile-prefix-map=$NP=/numpy -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS -DNPY_NO_SIGNAL -D__NPY_PRIVATE_NO_SIGNAL -Drestrict=__restrict" \
  LDSHARED="$WORK/numpy-ldshared.sh" NUMPY_LINKS="$LINKS" \
  NPY_WASMDEPLOY=1 NPY_BLAS_ORDER= NPY_LAPACK_ORDER= NPY_DISABLE_SVML=1 BLAS=None LAPACK=None ATLAS=None \
  /usr/bin/python3.11 setup.py build --disable-optimization -j "$JOBS" >&2)

# "numpy.core._multiarray_umath: objects...", the module's name from the path it would have had.
for f in "$LINKS.d"/*; do
  IFS=: read -r so objs <"$f"
  mod=${so#*build/lib.*/}
  mod=${mod%%.cpython*}
  echo "${mod//\//.}:$objs"
done | LC_ALL=C sort >"$LINKS"
# numpy's Python files as its build left them (build-sci.sh zips them), and its static helper
# libraries (npymath, npyrandom).
rm -f "$WORK/sci/numpy.lib" "$WORK/sci/numpy.temp"
ln -s "$(ls -d "$NP"/build/lib.*)" "$WORK/sci/numpy.lib"
ln -s "$(ls -d "$NP"/build/temp.*)" "$WORK/sci/numpy.temp"
echo "$STAMP_ID" >"$WORK/sci/numpy.stamp"
