"""faults_mod: misbehaving methods for isolation tests (faults.pt).

crash/loop_*/recurse/allocate/sleep are never called by make_archives.py.
"""

import os
import time

from .errors import BadThing


class Faults:
    def ok(self):
        return "ok"

    def raise_value_error(self, msg):
        raise ValueError(msg)

    def raise_custom(self):
        raise BadThing("bad thing happened: code 42")

    def loop_forever(self):
        while True:
            pass

    def loop_ignoring_interrupt(self):
        while True:
            try:
                while True:
                    pass
            except KeyboardInterrupt:
                pass

    def recurse(self, n):
        return self.recurse(n + 1) + 1

    def crash(self):
        os.abort()

    def allocate(self, n_mb):
        buf = bytearray(n_mb * 2**20)
        return len(buf)

    def sleep(self, ms):
        time.sleep(ms / 1000)
        return ms
