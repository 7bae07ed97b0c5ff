# Sourced by wasm/build-python.sh, build-sci.sh, build-numpy.sh and build-pillow.sh (HERE and
# WORK set): the settings and helpers they share, so that they cannot drift apart.

# The C shadow stack (linear memory below the heap, --stack-first: an overflow traps instead of
# corrupting the heap). Every interpreter's memory carries it, python.wasm's and
# python-sci.wasm's alike; 1 MiB passes the deep-recursion tests (Python-to-Python calls do not
# use it in 3.11; C recursion such as map() does).
STACK_SIZE=${WASMDEPLOY_STACK_SIZE:-1048576}

# --- compile settings (docs/benchmarks.md, "Pure Python": what each step gained) ---
# OPT: clang's level for every C file. LTO: link-time optimization flags ("" for none).
# PYMALLOC: CPython's small-object allocator ("yes"/"no"; CPython 3.11's configure turns it
# off for WASI, leaving every object to wasi-libc's dlmalloc).
# PGO: profile-guided optimization of CPython's own C code (wasm/pgo/README.md): "off" (what
# ships: it was measured and did not pay), "use" compiles it with the profile
# wasm/pgo/make-profile.sh writes, wasm/pgo/python.profdata (or the file WASMDEPLOY_PGO_PROFILE names), "generate" builds the
# instrumented interpreter wasm/pgo/make-profile.sh trains.
OPT=${WASMDEPLOY_OPT--O2}
LTO=${WASMDEPLOY_LTO--flto}
PYMALLOC=${WASMDEPLOY_PYMALLOC-yes}
PGO=${WASMDEPLOY_PGO-off}
[ "$PGO" = off ] && PGO=
PGO_PROFILE=${WASMDEPLOY_PGO_PROFILE:-$HERE/pgo/python.profdata}
# One configured tree per compile setting, so switching between them rebuilds nothing twice
# (a changed profile is another setting).
CONF_TAG=$(printf '%s|%s|%s' "$OPT" "$LTO" "$PYMALLOC" | sha256sum | cut -c1-8)
case "$PGO" in
  "") ;;
  generate) CONF_TAG=$CONF_TAG-pgogen ;;
  use)
    [ -f "$PGO_PROFILE" ] || { echo "$PGO_PROFILE is missing (WASMDEPLOY_PGO=use): make it with wasm/pgo/make-profile.sh" >&2; exit 1; }
    CONF_TAG=$CONF_TAG-pgo$(sha256sum <"$PGO_PROFILE" | cut -c1-8) ;;
  *) echo "WASMDEPLOY_PGO: $PGO? (use, generate or off)" >&2; exit 1 ;;
esac

# verify_sha256 FILE SHA256: whether FILE is there and has that hash (quietly).
verify_sha256() {
  echo "$2  $1" | sha256sum -c --quiet - 2>/dev/null
}

# fetch_source TARBALL SHA256 APT-SOURCE-SPEC...: Debian's pristine source tarball in $WORK,
# downloaded with `apt-get source --download-only` (the first spec that works; the Debian patch
# files may 404, the .orig tarball is all that is needed) unless it is there already, and
# checked against its sha256 either way.
fetch_source() {
  local tarball=$1 sha=$2
  shift 2
  if [ ! -f "$WORK/$tarball" ]; then
    (cd "$WORK" && for spec in "$@"; do apt-get source --download-only "$spec" >&2 && break; done) || true
  fi
  verify_sha256 "$WORK/$tarball" "$sha" || { echo "$(basename "$0"): $tarball missing or not the expected file" >&2; exit 1; }
}
