"""victim_mod: a well-behaved package that holds a secret (victim.pt).

The hostile archives (escapes.pt, evil_pickle.pt, hostile_import.pt) try to see this
package's objects, secret, weights, inputs and outputs from their own code. The tests load
both into one manager and check that they never do.
"""

import builtins
import sys

TOKEN = "7d1c0a55e3b94f62"
SECRET = "VICTIM-SECRET-" + TOKEN
# Exactly representable in float32 and float64; unusual enough to grep for.
WEIGHTS = [271828.125, -314159.25, 0.5]


class VictimModel:
    def __init__(self):
        self.secret = SECRET
        self.weights = list(WEIGHTS)
        self.calls = 0

    def answer(self, x):
        """x * 2 + 1 for ints (the tests call answer(123456789) -> 246913579)."""
        self.calls += 1
        self.last_input = x
        return x * 2 + 1

    def secret_length(self):
        """Proves the secret is in place without handing it out."""
        return len(self.secret)

    def tamper_check(self):
        """Signs that another package changed state this interpreter shares (must be [])."""
        found = []
        for where, obj in (("builtins", builtins), ("json", sys.modules.get("json")), ("sys", sys)):
            if obj is not None and hasattr(obj, "_wd_hostile_marker"):
                found.append(f"{where}._wd_hostile_marker")
        if sys.getprofile() is not None:
            found.append("sys.getprofile() is set")
        if sys.gettrace() is not None:
            found.append("sys.gettrace() is set")
        for finder in sys.meta_path:
            mod = getattr(type(finder), "__module__", "") or ""
            if mod.startswith("<torch_package_"):
                found.append(f"sys.meta_path has {type(finder).__qualname__} from a package")
        return found
