#!/usr/bin/env bash
# Rebuilds both WASI interpreter builds from source in a fresh directory and checks that they
# are byte-identical to the committed files (CI runs this: what ships is what the scripts make):
# python.wasm, python.component.wasm and stdlib.zip (build-python.sh), python-sci.wasm and stdlib-sci.zip (build-sci.sh:
# numpy from wasm/vendor/, Pillow, zlib and libjpeg-turbo from Debian's sources).
#   wasm/check-build.sh            (about 13-16 minutes on 2 cores: two link-time-optimized links)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wasmdeploy-wasm-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/work" "$TMP/out"
# Reuse downloaded source tarballs if there are any (their hashes are checked either way).
for f in python3.11_3.11.2.orig.tar.gz pillow_9.4.0.orig.tar.xz zlib_1.2.13.dfsg.orig.tar.bz2 libjpeg-turbo_2.1.5.orig.tar.gz; do
  if [ -f "$HERE/.build/$f" ]; then cp "$HERE/.build/$f" "$TMP/work/"; fi
done
started=$(date +%s)
build() { # build SCRIPT: runs it into $TMP/out, the log kept apart
  WASMDEPLOY_WASM_WORK="$TMP/work" "$HERE/$1" "$TMP/out" >/dev/null 2>"$TMP/$1.log" || {
    tail -40 "$TMP/$1.log" >&2
    echo "check-build: $1 failed" >&2
    exit 1
  }
}
build build-python.sh
python_done=$(date +%s)
build build-sci.sh
status=0
for f in python.wasm python.component.wasm stdlib.zip python-sci.wasm stdlib-sci.zip; do
  if cmp -s "$TMP/out/$f" "$HERE/$f"; then
    echo "check-build: $f matches ($(stat -c %s "$HERE/$f") bytes, sha256 $(sha256sum "$HERE/$f" | cut -c1-16))"
  else
    echo "check-build: $f DIFFERS from the committed file: run wasm/build-python.sh and wasm/build-sci.sh and commit the result" >&2
    status=1
  fi
done
echo "check-build: rebuilt in $(($(date +%s) - started)) s (build-python.sh $((python_done - started)) s, build-sci.sh $(($(date +%s) - python_done)) s)"
exit $status
