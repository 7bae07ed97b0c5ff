#!/usr/bin/env bash
# Rebuilds python.wasm, python.component.wasm and stdlib.zip from source in a fresh directory and checks that they are
# byte-identical to the committed ones (CI runs this: what ships is what the script makes).
#   wasm/check-build.sh            (5-12 minutes on 2 cores since link-time optimization)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wasmdeploy-wasm-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/work" "$TMP/out"
# Reuse the downloaded source tarball if there is one (its hash is checked either way).
if [ -f "$HERE/.build/python3.11_3.11.2.orig.tar.gz" ]; then cp "$HERE/.build/python3.11_3.11.2.orig.tar.gz" "$TMP/work/"; fi
started=$(date +%s)
WASMDEPLOY_WASM_WORK="$TMP/work" "$HERE/build-python.sh" "$TMP/out" >/dev/null 2>"$TMP/build.log" || {
  tail -40 "$TMP/build.log" >&2
  echo "check-build: the build failed" >&2
  exit 1
}
status=0
for f in python.wasm python.component.wasm stdlib.zip; do
  if cmp -s "$TMP/out/$f" "$HERE/$f"; then
    echo "check-build: $f matches ($(stat -c %s "$HERE/$f") bytes, sha256 $(sha256sum "$HERE/$f" | cut -c1-16))"
  else
    echo "check-build: $f DIFFERS from the committed file: run wasm/build-python.sh and commit the result" >&2
    status=1
  fi
done
echo "check-build: rebuilt in $(($(date +%s) - started)) s"
exit $status
