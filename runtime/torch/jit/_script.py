"""torch.jit._script names (some code imports them from here)."""

from . import (  # noqa: F401
    Attribute,
    CompilationUnit,
    RecursiveScriptClass,
    RecursiveScriptModule,
    ScriptFunction,
    ScriptModule,
    ScriptWarning,
    interface,
    script,
    script_method,
)
from ._serialization import unpackage_script_module  # noqa: E402,F401
