"""torch.jit._trace names (some code imports them from here)."""

from . import (  # noqa: F401
    TopLevelTracedModule,
    TracedModule,
    TracerWarning,
    TracingCheckError,
    _get_trace_graph,
    _script_if_tracing,
    _unique_state_dict,
    is_tracing,
    trace,
    trace_module,
)
