#!/usr/bin/python3
"""Builds the torch.package test archives and their expected outputs with real PyTorch.

Run with Debian's python3-torch (1.13):

    /usr/bin/python3 packages/make_archives.py [--out DIR]

Writes DIR/*.pt (default: packages/archives/), DIR/expected.json, and the malformed archives in
DIR/bad/ (with DIR/bad/expected.json describing what real torch does with each). The model /
object code lives in packages/sources/ and is interned by the exporter. The output is
deterministic: running the script twice gives byte-identical files.
"""

import argparse
import importlib
import json
import math
import os
import random
import re
import sys
import zipfile

sys.dont_write_bytecode = True  # keep packages/sources free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "sources")
CLASH_DIRS = {
    "a": os.path.join(SOURCES, "clash_a"),
    "b": os.path.join(SOURCES, "clash_b"),
}
sys.path.insert(0, SOURCES)

import torch  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

MAX_SAFE = 2**53

# --------------------------------------------------------------------------------------------
# Value encoding (see README.md)
# --------------------------------------------------------------------------------------------


def encode(v):
    """Encodes a Python value as JSON that keeps Python's types."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if type(v) is int:
        return v if abs(v) < MAX_SAFE else {"$int": str(v)}
    if type(v) is float:
        if not math.isfinite(v):
            raise ValueError("non-finite floats are not encodable: %r" % (v,))
        return v
    if type(v) is bytes:
        return {"$bytes": v.hex()}
    if type(v) is tuple:
        return {"$tuple": [encode(x) for x in v]}
    if type(v) is list:
        return [encode(x) for x in v]
    if type(v) is dict:
        if all(type(k) is str and not k.startswith("$") for k in v):
            return {k: encode(x) for k, x in v.items()}
        return {"$dict": [[encode(k), encode(x)] for k, x in v.items()]}
    raise TypeError("not encodable: %r (%s)" % (v, type(v).__name__))


_MANGLE_RE = re.compile(r"<torch_package_\d+>\.")


def demangle_text(s):
    """Removes torch.package's per-process mangle prefixes (`<torch_package_N>.`)."""
    return _MANGLE_RE.sub("", s)


def encode_error(e):
    return {"$error": type(e).__name__, "message": demangle_text(str(e))}


# --------------------------------------------------------------------------------------------
# Archive builders. Each takes a PackageExporter, fills it and closes it.
# --------------------------------------------------------------------------------------------

TOKENIZER_README = (
    "toy tokenizer test archive for wasmdeploy\n"
    "vocabulary: <pad> <unk> <bos> <eos> + the words of "
    "'the quick brown fox jumps over the lazy dog'\n"
)


def build_tokenizer(e):
    import toy_tokenizer

    e.intern(["toy_tokenizer", "toy_tokenizer.**"])
    e.save_text("assets", "readme.txt", TOKENIZER_README)
    e.save_binary("assets", "blob.bin", bytes(range(256)))
    e.save_pickle("tok", "tok.pkl", toy_tokenizer.Tokenizer())
    e.close()


def build_nested(e):
    import outer

    e.intern(["outer", "outer.**"])
    e.save_pickle("nested", "obj.pkl", outer.Nested(10))
    e.close()


def build_extern_mock(e):
    import em_mod

    e.intern(["em_mod", "em_mod.**"])
    e.mock("fancy_dep")
    e.save_pickle("em", "obj.pkl", em_mod.ExternMock(" + "))
    e.close()


def _use_clash(flavour):
    """Makes `import utils` resolve to packages/sources/clash_<flavour>/utils.py."""
    for name in ("utils", "clash_obj"):
        sys.modules.pop(name, None)
    sys.path[:] = [p for p in sys.path if p not in CLASH_DIRS.values()]
    if flavour is not None:
        sys.path.insert(0, CLASH_DIRS[flavour])
    importlib.invalidate_caches()


def _build_clash(e, flavour, label):
    _use_clash(flavour)
    try:
        import clash_obj
        import utils

        assert os.path.dirname(utils.__file__) == CLASH_DIRS[flavour], utils.__file__
        e.intern(["utils", "clash_obj"])
        e.save_pickle("clash", "obj.pkl", clash_obj.ClashObj(label))
        # Close while this flavour's `utils` is still the one in sys.modules.
        e.close()
    finally:
        _use_clash(None)


def build_clash_a(e):
    _build_clash(e, "a", "first")


def build_clash_b(e):
    _build_clash(e, "b", "second")


GREETING = "h\u00e9llo w\u00f6rld\n"
RES_DATA = bytes([0, 255, 1, 254, 0x7F, 0x80]) + "\u00fcn\u00ef".encode("utf-8") + b"\x00" * 4


def build_resources(e):
    import res_pkg

    e.intern(["res_pkg", "res_pkg.**"])
    e.save_text("res_pkg", "greeting.txt", GREETING)
    e.save_binary("res_pkg", "data.bin", RES_DATA)
    e.save_text("res_pkg.sub", "note.txt", "a note in a subpackage\n")
    e.save_pickle("res", "obj.pkl", res_pkg.ResObj())
    e.close()


def build_values(e):
    import values_mod

    e.intern(["values_mod", "values_mod.**"])
    obj = values_mod.Values("values-archive", {2, 3, 5, 7, 11, 13}, ["x", "y"], (1, "one"))
    e.save_pickle("values", "obj.pkl", obj)
    e.close()


def build_faults(e):
    import faults_mod

    e.intern(["faults_mod", "faults_mod.**"])
    e.save_pickle("faults", "obj.pkl", faults_mod.Faults())
    e.close()


def build_slow_counter(e):
    import slow_mod

    e.intern(["slow_mod", "slow_mod.**"])
    e.save_pickle("slow", "obj.pkl", slow_mod.SlowCounter(1000003))
    e.close()


# --------------------------------------------------------------------------------------------
# Calls recorded in expected.json. C(method, *args, **kwargs); method None means __call__.
# --------------------------------------------------------------------------------------------


class C:
    def __init__(self, method, *args, **kwargs):
        self.method = method
        self.args = list(args)
        self.kwargs = kwargs


ARCHIVES = [
    {
        "file": "tokenizer.pt",
        "build": build_tokenizer,
        "target": ("tok", "tok.pkl"),
        "calls": [
            C("vocab_size"),
            C("encode", "the quick brown fox"),
            C("encode", "The LAZY cat jumps"),
            C("encode", ""),
            C("decode", [4, 5, 6, 7, 1]),
            C("decode", [2, 4, 11, 3]),
            C(None, "the dog"),
            C(None, "the dog", add_special=True),
            C(None, "over the fox", True),
        ],
    },
    {
        "file": "nested.pt",
        "build": build_nested,
        "target": ("nested", "obj.pkl"),
        "calls": [
            C("compute", 5),
            C("compute", -1),
            C("path"),
            C("names"),
            C("qualname"),
            C("core_qualname"),
            C("core_apply", 4),
            C("level"),
        ],
    },
    {
        "file": "extern_mock.pt",
        "build": build_extern_mock,
        "target": ("em", "obj.pkl"),
        "calls": [
            C("uses_mock"),
            C("mock_type"),
            C("stats", [1, 2, 3, 4, 5.5]),
            C("tokens", "The 3 quick foxes, 42 dogs!"),
            C("count", ["a", "b", "a", "c", "b", "a"]),
            C("to_json", {"b": [1, 2.5], "a": None}),
            C("from_json", '{"x": [1, 2.5, "s"], "y": null}'),
            C("fib", 30),
            C("fib", 90),
            C("joined", ["x", "y", "z"]),
        ],
    },
    {
        "file": "clash_a.pt",
        "build": build_clash_a,
        "target": ("clash", "obj.pkl"),
        "calls": [C("who"), C("name"), C("label_and_name"), C("who")],
    },
    {
        "file": "clash_b.pt",
        "build": build_clash_b,
        "target": ("clash", "obj.pkl"),
        "calls": [C("who"), C("name"), C("label_and_name"), C("who")],
    },
    {
        "file": "resources.pt",
        "build": build_resources,
        "target": ("res", "obj.pkl"),
        "calls": [
            C("via_importer_text"),
            C("via_importer_binary"),
            C("via_importer_nested_text"),
            C("via_importlib_resources"),
            C("via_importlib_resources_binary"),
            C("via_importlib_files"),
            C("is_resource", "greeting.txt"),
            C("is_resource", "missing.txt"),
        ],
    },
    {
        "file": "values.pt",
        "build": build_values,
        "target": ("values", "obj.pkl"),
        "calls": [
            C("none"),
            C("true"),
            C("false"),
            C("small_int"),
            C("big_int"),
            C("neg_big_int"),
            C("a_float"),
            C("text"),
            C("raw_bytes"),
            C("a_list"),
            C("a_tuple"),
            C("a_dict"),
            C("int_key_dict"),
            C("nested"),
            C("state"),
            C("kwargs_echo"),
            C("kwargs_echo", 1, "two", x=3, y=[4, (5,)]),
            C("kwargs_echo", b"\x00", big=2**64),
            C("echo", None),
            C("echo", True),
            C("echo", 0),
            C("echo", -7),
            C("echo", 2**53 - 1),
            C("echo", 2**53),
            C("echo", -(2**53)),
            C("echo", 2**100),
            C("echo", 1.5),
            C("echo", 1e-300),
            C("echo", ""),
            C("echo", "\u00fcn\u00ef \U0001F642"),
            C("echo", b""),
            C("echo", b"\x00\xff"),
            C("echo", []),
            C("echo", ()),
            C("echo", (1,)),
            C("echo", {}),
            C("echo", {"k": [1, (2, 3)]}),
            C("echo", {1: "a", "b": 2}),
            C("echo", {(1, 2): "tuple key"}),
            C("echo", {"$int": "not an int"}),
            C("type_name", 2**70),
            C("type_name", 7),
            C("type_name", 2.5),
            C("type_name", (1, 2)),
            C("type_name", [1, 2]),
            C("type_name", b"x"),
            C("type_name", {1: "a"}),
            C("type_name", {"a": 1}),
            C("type_name", None),
        ],
    },
    {
        "file": "faults.pt",
        "build": build_faults,
        "target": ("faults", "obj.pkl"),
        "calls": [
            C("ok"),
            C("raise_value_error", "boom: bad input"),
            C("raise_value_error", ""),
            C("raise_custom"),
            C("ok"),
            C("allocate", 1),
            C("sleep", 10),
        ],
    },
    {
        "file": "slow_counter.pt",
        "build": build_slow_counter,
        "target": ("slow", "obj.pkl"),
        "calls": [C("work", 0), C("work", 1), C("work", 1000), C("work", 200000)],
    },
]

# Calls that are expected to raise; any other call raising is a bug in this script.
EXPECTED_ERRORS = {
    ("extern_mock.pt", "uses_mock"),
    ("faults.pt", "raise_value_error"),
    ("faults.pt", "raise_custom"),
}


# --------------------------------------------------------------------------------------------
# Building, loading, inspecting
# --------------------------------------------------------------------------------------------


def zip_layout(path):
    """Returns (root, names relative to root) of a torch.package zip."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    roots = {n.split("/", 1)[0] for n in names}
    if len(roots) != 1:
        raise AssertionError("%s: expected one top folder, got %r" % (path, sorted(roots)))
    root = roots.pop()
    return root, [n.split("/", 1)[1] for n in names]


def inspect_archive(path, exporter):
    root, rel = zip_layout(path)
    pickles = sorted(n for n in rel if n.endswith(".pkl") and not n.startswith(".data/"))
    resources = sorted(
        n for n in rel if not n.endswith((".py", ".pkl")) and not n.startswith(".data/")
    )
    storages = [n for n in rel if n.startswith(".data/") and n.endswith(".storage")]
    return root, {
        "interned": sorted(exporter.interned_modules()),
        "extern": sorted(exporter.externed_modules()),
        "mocked": sorted(exporter.mocked_modules()),
        "pickles": pickles,
        "resources": resources,
        "storages": len(storages),
    }


def run_calls(spec, path):
    importer = PackageImporter(path)
    package, resource = spec["target"]
    obj = importer.load_pickle(package, resource)
    out = []
    for c in spec["calls"]:
        fn = obj if c.method is None else getattr(obj, c.method)
        try:
            result = encode(fn(*c.args, **c.kwargs))
        except Exception as e:  # noqa: BLE001
            if (spec["file"], c.method) not in EXPECTED_ERRORS:
                raise
            result = encode_error(e)
        else:
            if (spec["file"], c.method) in EXPECTED_ERRORS:
                raise AssertionError("%s.%s did not raise" % (spec["file"], c.method))
        out.append(
            {
                "package": package,
                "resource": resource,
                "method": c.method,
                "args": encode(c.args),
                "kwargs": encode(c.kwargs),
                "result": result,
            }
        )
    return importer, out


def build_all(out_dir):
    expected = {}
    for spec in ARCHIVES:
        path = os.path.join(out_dir, spec["file"])
        if os.path.exists(path):
            os.remove(path)
        exporter = PackageExporter(path)
        spec["build"](exporter)  # fills and closes the exporter
        root, inspect = inspect_archive(path, exporter)
        size = os.path.getsize(path)
        assert size < 2**20, "%s is %d bytes" % (path, size)
        importer, calls = run_calls(spec, path)
        python_version = importer.python_version()
        with zipfile.ZipFile(path) as zf:
            assert zf.read(root + "/.data/python_version").decode() == python_version
        expected[spec["file"]] = {
            "root": root,
            "python_version": python_version,
            "calls": calls,
            "inspect": inspect,
        }
        print("built %-16s %7d bytes, root %r, %d calls" % (spec["file"], size, root, len(calls)))
    return expected


# --------------------------------------------------------------------------------------------
# Malformed archives
# --------------------------------------------------------------------------------------------

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def _rezip(src_path, dst_path, drop=(), extra=()):
    """Copies src's entries (STORED, fixed dates) to dst, minus `drop`, plus `extra`.

    extra: (name, bytes_or_callable, compress_type); a callable gets a writable file object.
    """
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(dst_path, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            zi.compress_type = zipfile.ZIP_STORED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
        for name, data, ctype in extra:
            zi = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            zi.compress_type = ctype
            zi.external_attr = 0o644 << 16
            if callable(data):
                with dst.open(zi, "w") as f:
                    data(f)
            else:
                dst.writestr(zi, data, compress_type=ctype, compresslevel=9)
    # ZipInfo() sanitizes nothing but backslashes/NULs; check names were kept verbatim.
    with zipfile.ZipFile(dst_path) as z:
        names = z.namelist()
    for name, _, _ in extra:
        assert name in names, (name, names)


BOMB_SIZE = 300 * 2**20


def _write_zeros(f):
    chunk = bytes(2**20)
    for _ in range(BOMB_SIZE // len(chunk)):
        f.write(chunk)


def build_bad(out_dir, good_dir):
    bad_dir = os.path.join(out_dir, "bad")
    os.makedirs(bad_dir, exist_ok=True)
    tok_path = os.path.join(good_dir, "tokenizer.pt")
    root, _ = zip_layout(tok_path)
    with open(tok_path, "rb") as f:
        tok = f.read()
    evil = b"raise SystemExit('this file must never be extracted or imported')\n"

    def p(name):
        return os.path.join(bad_dir, name)

    with open(p("not_a_zip.pt"), "wb") as f:
        f.write(random.Random(1234).randbytes(4096))
    with open(p("truncated.pt"), "wb") as f:
        f.write(tok[: len(tok) * 6 // 10])
    with open(p("empty.pt"), "wb") as f:
        pass
    _rezip(tok_path, p("no_version.pt"), drop={root + "/.data/version"})
    _rezip(tok_path, p("traversal.pt"), extra=[("../evil.py", evil, zipfile.ZIP_STORED)])
    _rezip(tok_path, p("absolute.pt"), extra=[("/etc/evil.py", evil, zipfile.ZIP_STORED)])
    _rezip(
        tok_path,
        p("bomb.pt"),
        extra=[(root + "/assets/bomb.bin", _write_zeros, zipfile.ZIP_DEFLATED)],
    )

    descriptions = {
        "not_a_zip.pt": "4096 random bytes (seeded), not a zip",
        "truncated.pt": "first 60% of tokenizer.pt's bytes (no central directory)",
        "no_version.pt": "tokenizer.pt re-zipped without <root>/.data/version",
        "traversal.pt": "tokenizer.pt re-zipped plus a last entry named '../evil.py'",
        "absolute.pt": "tokenizer.pt re-zipped plus a last entry named '/etc/evil.py'",
        "bomb.pt": "tokenizer.pt re-zipped plus <root>/assets/bomb.bin: 300 MiB of zeros, DEFLATE",
        "empty.pt": "0 bytes",
    }
    report = {}
    for name in sorted(descriptions):
        path = p(name)
        size = os.path.getsize(path)
        assert size < 2**20, "%s is %d bytes" % (path, size)
        report[name] = {
            "description": descriptions[name],
            "size": size,
            "torch_1_13": _try_torch(path),
        }
        print("built bad/%-13s %7d bytes; torch: %s" % (name, size, report[name]["torch_1_13"]))
    report["bomb.pt"]["uncompressed_entry"] = {
        "name": root + "/assets/bomb.bin",
        "size": BOMB_SIZE,
    }
    return report


def _try_torch(path):
    """What real torch does: PackageImporter(path), load the pickle, encode a string."""
    try:
        importer = PackageImporter(path)
        tok = importer.load_pickle("tok", "tok.pkl")
        return {"result": encode(tok.encode("the lazy fox"))}
    except Exception as e:  # noqa: BLE001
        msg = demangle_text(str(e)).strip().splitlines()
        return {"$error": type(e).__name__, "message": msg[0] if msg else ""}


# --------------------------------------------------------------------------------------------


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "archives"))
    args = ap.parse_args()
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    print("torch %s, python %s" % (torch.__version__, sys.version.split()[0]))

    expected = build_all(out_dir)
    write_json(os.path.join(out_dir, "expected.json"), expected)
    bad = build_bad(out_dir, out_dir)
    write_json(os.path.join(out_dir, "bad", "expected.json"), bad)
    print("wrote %s" % os.path.join(out_dir, "expected.json"))


if __name__ == "__main__":
    main()
