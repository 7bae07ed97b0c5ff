#!/usr/bin/env bash
# Pillow 9.4.0 for the WASI interpreter (issue 21), with zlib and libjpeg-turbo, all from
# Debian's source packages (`apt-get source`), compiled for wasm32-wasi with the interpreter's
# toolchain; wasm/build-sci.sh links them into python-sci.wasm as built-in modules.
#
#   wasm/build-pillow.sh
#
# Writes $WORK/sci/pillow.link (modules and their objects, as build-numpy.sh's numpy.link),
# $WORK/sci/pillow.libs (static libraries), $WORK/sci/pillow.lib (Pillow's Python files).
#
# - zlib 1.2.13: its 15 library files compiled directly (its configure only picks these and
#   writes nothing the defaults below do not give). Also CPython's own zlib module is compiled
#   against it: python.wasm has none (no zlib), and PIL's PNG plugin imports it.
# - libjpeg-turbo 2.1.5: its CMake build, static, without SIMD (no wasm SIMD code in 2.1) and
#   without TurboJPEG (Pillow uses the libjpeg API).
# - Pillow: the sources setup.py lists for PIL._imaging (read from setup.py itself), with the
#   defines its build_ext would set for zlib and libjpeg; PIL._imagingmath and
#   PIL._imagingmorph too. Left out: freetype, lcms, webp, tiff, openjpeg, imagequant, xcb and
#   Tk (no such libraries here, and nothing torchvision's transforms need). libpng is not built:
#   Pillow decodes and encodes PNG itself (PngImagePlugin.py and libImaging's Zip codec on zlib)
#   and never links libpng. wasi-libc has no setjmp/longjmp, which Pillow's JPEG code uses for
#   libjpeg's fatal errors: wasm/src/no-setjmp/setjmp.h makes such an error trap (the interpreter
#   is replaced and the call fails) instead of raising OSError.
#
# Needs: wasm/build-python.sh run first (its configured tree, for pyconfig.h and Python.h), and
# Debian's cmake and ninja-build.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WASMDEPLOY_WASM_WORK:-$HERE/.build}
# shellcheck source=wasm/build-common.sh
. "$HERE/build-common.sh" # CONF_TAG, fetch_source
export SOURCE_DATE_EPOCH=1675814400 LC_ALL=C TZ=UTC
JOBS=$(nproc 2>/dev/null || echo 2)

PILLOW_TARBALL=pillow_9.4.0.orig.tar.xz
PILLOW_SHA256=0a58ccfbd002838b32e21773bfdaa954a2de08d1f04b87b63d14e751fec3264d
ZLIB_TARBALL=zlib_1.2.13.dfsg.orig.tar.bz2
ZLIB_SHA256=71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1
JPEG_TARBALL=libjpeg-turbo_2.1.5.orig.tar.gz
JPEG_SHA256=254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c

missing=()
for pkg in cmake ninja-build; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

PY=$WORK/Python-3.11.2
B=$PY/builddir/wasi-$CONF_TAG
SHIM=$WORK/toolshim
for f in "$B/pyconfig.h" "$SHIM/wasm-opt"; do
  [ -e "$f" ] || { echo "build-pillow: $f is missing: run wasm/build-python.sh first" >&2; exit 1; }
done
CC="clang --target=wasm32-unknown-wasi -B$SHIM"
# The same code generation as the interpreter's (bitcode for the one LTO link in build-sci.sh);
# NDEBUG as CPython's extension flags have it (Debian's Pillow is built so too).
CFLAGS=(-O2 -flto -DNDEBUG -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS)

# --- sources (Debian's; the pristine tarballs are all that is needed) ---
# zlib: the version bookworm's main pocket has (the security update's files answer 404 here).
# Pillow: bookworm's current 9.4.0-1.1+deb12u1 (any 9.4.0 revision has this orig tarball).
fetch_source "$PILLOW_TARBALL" "$PILLOW_SHA256" pillow
fetch_source "$ZLIB_TARBALL" "$ZLIB_SHA256" zlib=1:1.2.13.dfsg-1 zlib
fetch_source "$JPEG_TARBALL" "$JPEG_SHA256" libjpeg-turbo=1:2.1.5-2 libjpeg-turbo

# Done already for these sources, this script and compile setting: nothing to do.
STAMP_ID=$( { cat "$0" "$HERE/src/no-setjmp/setjmp.h"; echo "$CONF_TAG $PILLOW_SHA256 $ZLIB_SHA256 $JPEG_SHA256"; } | sha256sum | cut -c1-16)
if [ "$(cat "$WORK/sci/pillow.stamp" 2>/dev/null)" = "$STAMP_ID" ]; then
  echo "build-pillow: up to date" >&2
  exit 0
fi
rm -f "$WORK/sci/pillow.stamp"

S=$WORK/sci-src
rm -rf "$S"
mkdir -p "$S" "$WORK/sci"
tar -xJf "$WORK/$PILLOW_TARBALL" -C "$S"
tar -xjf "$WORK/$ZLIB_TARBALL" -C "$S"
tar -xzf "$WORK/$JPEG_TARBALL" -C "$S"
PIL_SRC=$S/pillow-9.4.0
ZSRC=$S/zlib-1.2.13.dfsg
JSRC=$S/libjpeg-turbo-2.1.5
O=$S/obj
mkdir -p "$O/zlib" "$O/pil"
# Paths in the output (__FILE__ of asserts in CPython's headers, say) must not depend on where
# the build ran: check-build.sh builds in a temporary directory.
MAP=(-ffile-prefix-map="$S"=/src -ffile-prefix-map="$PY"=/cpython -ffile-prefix-map="$HERE"=/wasmdeploy)

# --- zlib ---
ZLIB_FILES=(adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate inftrees trees uncompr zutil)
for f in "${ZLIB_FILES[@]}"; do
  $CC "${CFLAGS[@]}" "${MAP[@]}" -DHAVE_UNISTD_H -DHAVE_STDARG_H -I"$ZSRC" -c "$ZSRC/$f.c" -o "$O/zlib/$f.o" &
  (($(jobs -r | wc -l) >= JOBS)) && wait -n
done
wait
mkdir -p "$O/zlib-lib"
rm -f "$O/zlib-lib/libz.a"
(cd "$O/zlib" && llvm-ar rcsD "$O/zlib-lib/libz.a" $(printf '%s.o ' "${ZLIB_FILES[@]}"))

# --- libjpeg-turbo ---
cmake -S "$JSRC" -B "$S/jpeg-build" -G Ninja -Wno-dev \
  -DCMAKE_SYSTEM_NAME=Generic -DCMAKE_SYSTEM_PROCESSOR=wasm32 \
  -DCMAKE_C_COMPILER=clang -DCMAKE_C_COMPILER_TARGET=wasm32-unknown-wasi \
  -DCMAKE_AR=/usr/bin/llvm-ar -DCMAKE_RANLIB=/usr/bin/llvm-ranlib \
  -DCMAKE_C_FLAGS="-B$SHIM ${CFLAGS[*]} ${MAP[*]}" -DCMAKE_BUILD_TYPE=Release \
  -DENABLE_SHARED=0 -DENABLE_STATIC=1 -DWITH_SIMD=0 -DWITH_TURBOJPEG=0 -DWITH_JAVA=0 >&2
ninja -C "$S/jpeg-build" -j "$JOBS" jpeg-static >&2

# --- CPython's zlib module, against this zlib ---
$CC "${CFLAGS[@]}" "${MAP[@]}" -I"$PY/Include" -I"$PY/Include/internal" -I"$B" -I"$ZSRC" \
  -DPy_BUILD_CORE_BUILTIN -c "$PY/Modules/zlibmodule.c" -o "$O/zlibmodule.o"

# --- Pillow ---
PIL_FILES=$(/usr/bin/python3.11 - "$PIL_SRC/setup.py" <<'PY'
import ast, sys
names = {}
for node in ast.parse(open(sys.argv[1]).read()).body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("_IMAGING", "_LIB_IMAGING"):
        names[node.targets[0].id] = ast.literal_eval(node.value)
files = ["_imaging"] + list(names["_IMAGING"]) + ["libImaging/" + n for n in names["_LIB_IMAGING"]]
print(" ".join(files))
PY
)
PIL_DEFS=(-DHAVE_LIBJPEG -DHAVE_LIBZ '-DPILLOW_VERSION="9.4.0"')
PIL_INC=(-I"$HERE/src/no-setjmp" -I"$PY/Include" -I"$B" -I"$PIL_SRC/src/libImaging" -I"$ZSRC" -I"$JSRC" -I"$S/jpeg-build")
compile_pil() { # SOURCE (relative to src/, no .c)
  local obj=$O/pil/${1//\//_}.o
  $CC "${CFLAGS[@]}" "${MAP[@]}" -fno-strict-aliasing "${PIL_DEFS[@]}" "${PIL_INC[@]}" -c "$PIL_SRC/src/$1.c" -o "$obj"
}
for f in $PIL_FILES _imagingmath _imagingmorph; do
  compile_pil "$f" &
  (($(jobs -r | wc -l) >= JOBS)) && wait -n
done
wait

{
  printf 'PIL._imaging:'
  for f in $PIL_FILES; do printf ' %s' "$O/pil/${f//\//_}.o"; done
  echo
  echo "PIL._imagingmath: $O/pil/_imagingmath.o"
  echo "PIL._imagingmorph: $O/pil/_imagingmorph.o"
  echo "zlib: $O/zlibmodule.o"
} >"$WORK/sci/pillow.link"
printf '%s\n' "$S/jpeg-build/libjpeg.a" "$O/zlib-lib/libz.a" >"$WORK/sci/pillow.libs"
rm -f "$WORK/sci/pillow.lib"
ln -s "$PIL_SRC/src" "$WORK/sci/pillow.lib"
echo "$STAMP_ID" >"$WORK/sci/pillow.stamp"
echo "build-pillow: done" >&2
