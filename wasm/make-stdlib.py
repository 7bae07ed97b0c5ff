"""Writes stdlib.zip: the CPython standard library .py files a WASI interpreter mounts
read-only at /lib/python3.11. Leaves out what cannot work there (tkinter, curses, ctypes,
multiprocessing, sqlite3, ...) or is never imported by a model (tests, IDLE, ensurepip, ...).
Comments are removed (line by line, so tracebacks keep their line numbers and code lines):
they are a fifth of the bytes every platform ships and holds, and no code reads them.
The build's _sysconfigdata module is included (sysconfig, and zoneinfo through it, import it),
with the build directory's path replaced by /build and this directory's by /wasmdeploy, so its
bytes do not depend on where the build ran. Reproducible: sorted entries, fixed timestamps and
permissions.

    make-stdlib.py SRC_LIB BUILD_DIR OUT.zip
"""

import io
import os
import pprint
import re
import sys
import tokenize
import zipfile

SKIP_DIRS = {
    "test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
    "venv", "pydoc_data", "distutils", "curses", "dbm", "sqlite3", "msilib", "multiprocessing",
    "ctypes", "wsgiref", "xmlrpc", "site-packages", "__phello__", "lib-dynload",
}
SKIP_FILES = {"turtle.py", "pydoc.py", "antigravity.py", "this.py", "__hello__.py", "webbrowser.py",
              "smtpd.py", "imaplib.py", "nntplib.py", "poplib.py", "ftplib.py", "telnetlib.py",
              "smtplib.py", "mailbox.py", "cgi.py", "cgitb.py", "crypt.py", "pty.py", "tty.py"}


HERE = os.path.dirname(os.path.abspath(__file__))  # in the build's CFLAGS (-ffile-prefix-map)


def strip_comments(source: bytes) -> bytes:
    """The source without comments; every line stays where it was. The first two lines keep
    theirs (an encoding declaration must survive)."""
    lines = re.split(rb"(?<=\n)", source)  # not splitlines(): a form feed is not a line end here
    # Token positions are in characters of the decoded line; decode each line to cut it.
    text = [ln.decode("utf-8") for ln in lines]
    for tok in reversed(list(tokenize.tokenize(io.BytesIO(source).readline))):
        if tok.type == tokenize.COMMENT and tok.start[0] > 2:
            row, col = tok.start
            line = text[row - 1]
            text[row - 1] = line[:col].rstrip() + ("\n" if line.endswith("\n") else "")
    return "".join(text).encode("utf-8")


def portable_sysconfigdata(source: bytes, work: str) -> bytes:
    """The module again, as sysconfig writes it (pprint), with the build's paths replaced:
    replacing them in the text would change pprint's line wrapping with the paths' lengths."""
    namespace = {}
    exec(source, namespace)
    def portable(v):
        return v.replace(work, "/build").replace(HERE, "/wasmdeploy") if isinstance(v, str) else v
    build_time_vars = {k: portable(v) for k, v in namespace["build_time_vars"].items()}
    head = "# system configuration generated and used by the sysconfig module\n"
    return (head + "build_time_vars = " + pprint.pformat(build_time_vars) + "\n").encode("utf-8")


def main(src, build, out):
    work = os.path.dirname(os.path.dirname(os.path.abspath(src)))  # WORK/Python-X.Y.Z/Lib
    files = []
    for root, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in names:
            if name.endswith(".py") and name not in SKIP_FILES:
                full = os.path.join(root, name)
                files.append((os.path.relpath(full, src).replace(os.sep, "/"), full))
    # sysconfig reads the build's configuration from this generated module.
    for root, _, names in os.walk(build):
        for name in names:
            if name.startswith("_sysconfigdata_") and name.endswith(".py"):
                files.append((name, os.path.join(root, name)))
    files.sort()
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for arc, full in files:
            info = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            with open(full, "rb") as f:
                data = f.read()
            if arc.startswith("_sysconfigdata_"):
                data = portable_sysconfigdata(data, work)
            else:
                data = strip_comments(data)
            compile(data, arc, "exec")  # a stripped file must still be Python
            z.writestr(info, data)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
