"""How the torch layer reaches the engine: the synchronous host bridge.

`wasmdeploy_bridge.call(kind, json, buffers)` is a JS function the worker registers after
the snapshot is restored; it blocks this thread until the host's engine answers. Storages
Python drops are queued here and handed back to the host with the next request or with
the result of the current call, so releasing costs no round trip of its own.
"""

import json

_pending_release = []
_bridge_call = None

# Spec cache keys the host holds for this interpreter (see BridgeBackend.run). The host keys its
# cache by interpreter owner too, so a key only ever names a spec this interpreter sent.
_known_keys = set()
_KNOWN_MAX = 4096


class EngineError(RuntimeError):
    """The host engine refused or failed a request."""


_graph = None


def _call(kind, body, buffers=(), raw_spec=None):
    global _bridge_call, _graph
    if _bridge_call is None:
        _bridge_call = _find_bridge()
        from torch import _graph  # imported here, once: the module also loads under plain CPython
    if _pending_release:
        body["release"] = take_releases()
    # allow_nan=False: an inf/nan in a spec must fail here, not as a JSON error on the host.
    text = json.dumps(body, separators=(",", ":"), allow_nan=False)
    if raw_spec is not None:  # a spec already serialized: splice it in rather than dump it twice
        text = text[:-1] + ',"spec":' + raw_spec + "}"
    t0 = _graph._perf() if _graph.hops is not None else None
    reply_text, out_buffers = _bridge_call(kind, text, buffers)
    out = json.loads(reply_text)
    if t0 is not None:
        _graph.hop("bridge", _graph._perf() - t0)
    return out, out_buffers


def _find_bridge():
    """The host bridge as call(kind, json, buffers) -> (json, [bytes...]), raising EngineError:
    the `_wasmdeploy` built-in module in a WASI interpreter, a JS function under Pyodide."""
    try:
        import _wasmdeploy
    except ImportError:
        pass
    else:

        def wasi_call(kind, text, buffers):
            try:
                return _wasmdeploy.call(kind, text, list(buffers))
            except _wasmdeploy.BridgeError as e:
                raise EngineError(str(e)) from None

        return wasi_call
    try:
        from wasmdeploy_bridge import call
    except ImportError:
        raise RuntimeError(
            "this interpreter has no tensor engine attached (wasmdeploy_bridge is missing); "
            "tensors only work inside an InterpreterManager worker"
        ) from None
    from pyodide.ffi import JsException, to_js  # imported here: the module also loads under plain CPython

    def pyodide_call(kind, text, buffers):
        try:
            reply = call(kind, text, to_js(list(buffers)))
        except JsException as e:
            raise EngineError(str(e.js_error.message if hasattr(e, "js_error") else e)) from None
        return reply[0], [b.to_bytes() for b in reply[1]]

    return pyodide_call


class BridgeBackend:
    def run(self, spec, feeds):
        """Run a GraphSpec; returns one Storage per output (transient, contiguous)."""
        return self.run_prepared(self.prepare(spec), feeds)

    def prepare(self, spec):
        """What run_prepared needs of a spec: its JSON text, cache key and output sizes.
        torch._replay keeps this, so a replayed call neither dumps nor hashes the spec."""
        # The spec carries no input data identities (feeds do), so calls of the same model at
        # the same shapes build the same spec text. The host keeps key -> parsed spec per
        # interpreter; once it has a key, only {key, feeds} crosses the bridge.
        from torch import _graph

        t0 = _graph._perf() if _graph.hops is not None else None
        text = json.dumps(spec, separators=(",", ":"), allow_nan=False)
        outs = []
        for o in spec["outputs"]:
            numel = 1
            for d in o["shape"]:
                numel *= d
            outs.append((o["dtype"], numel))
        key = _digest(text)
        if t0 is not None:
            _graph.hop("spec_text", _graph._perf() - t0)
        return (key, text, outs)

    def run_prepared(self, prepared, feeds):
        key, text, outs = prepared
        wire_feeds = {name: [storage.id, offset] for name, (storage, offset) in feeds.items()}
        reply = None
        if key in _known_keys:
            reply, _ = _call("run", {"key": key, "feeds": wire_feeds})
            if reply.get("resend"):  # the host no longer holds the key
                _known_keys.discard(key)
                reply = None
        if reply is None:
            reply, _ = _call("run", {"key": key, "feeds": wire_feeds}, raw_spec=text)
            if len(_known_keys) >= _KNOWN_MAX:
                _known_keys.clear()
            _known_keys.add(key)
        from torch._storage import Storage

        return [Storage(storage_id, dtype, numel, False) for storage_id, (dtype, numel) in zip(reply["storages"], outs)]

    def read(self, storage, dtype, offset, numel):
        _, bufs = _call("read", {"storage": storage.id, "dtype": dtype, "offset": offset, "numel": numel})
        return bufs[0]

    def write(self, data, dtype, numel):
        from torch._storage import Storage

        reply, _ = _call("write", {"dtype": dtype, "numel": numel}, [bytes(data)])
        return Storage(reply["storage"], dtype, numel, False)

    def release(self, storage_id):
        _pending_release.append(storage_id)


def _digest(text):
    import hashlib

    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_backend = BridgeBackend()


def get():
    return _backend


def set_backend(backend):
    """Swap the backend (tests and tools)."""
    global _backend
    _backend = backend


def take_releases():
    out = list(_pending_release)
    _pending_release.clear()
    return out
