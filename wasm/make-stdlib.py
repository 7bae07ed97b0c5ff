"""Writes stdlib.zip: the CPython standard library .py files a WASI interpreter mounts
read-only at /lib/python3.11. Leaves out what cannot work there (tkinter, curses, ctypes,
multiprocessing, sqlite3, ...) or is never imported by a model (tests, IDLE, ensurepip, ...).
Reproducible: sorted entries, fixed timestamps and permissions.

    make-stdlib.py SRC_LIB BUILD_DIR OUT.zip
"""

import os
import sys
import zipfile

SKIP_DIRS = {
    "test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
    "venv", "pydoc_data", "distutils", "curses", "dbm", "sqlite3", "msilib", "multiprocessing",
    "ctypes", "wsgiref", "xmlrpc", "site-packages", "__phello__", "lib-dynload",
}
SKIP_FILES = {"turtle.py", "pydoc.py", "antigravity.py", "this.py", "__hello__.py", "webbrowser.py",
              "smtpd.py", "imaplib.py", "nntplib.py", "poplib.py", "ftplib.py", "telnetlib.py",
              "smtplib.py", "mailbox.py", "cgi.py", "cgitb.py", "crypt.py", "pty.py", "tty.py"}


def main(src, build, out):
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
                z.writestr(info, f.read())
    os.replace(tmp, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
