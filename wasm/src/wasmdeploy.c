/* The WASI interpreter's entry points and its only channel to the host besides WASI calls.
 *
 * Exports (called by the host, src/interpreter/wasi/):
 *   wd_alloc/wd_free      linear-memory buffers for requests and results
 *   wd_init               start an isolated CPython and import the runtime (snapshot point)
 *   wd_after_restore      per-instance reseeding after a snapshot restore
 *   wd_call               run one host request through wasmdeploy_runtime.host
 *   wd_interrupt          raise a pending signal from inside a blocking WASI call
 *   wd_set_limit          memory limit of the next calls (per package, below the memory's maximum)
 *
 * Imports (module "wasmdeploy", provided by the host):
 *   bridge_call/bridge_take   the synchronous engine bridge (torch layer -> engine)
 *   interrupt                 polled by the eval loop: a pending signal number, or 0
 *   memory_exceeded           the running call's memory limit was passed (the host ends the instance)
 *
 * Requests, results and bridge messages are "frames": u32 count, then per item u32 length and
 * the bytes (little endian, wasm's byte order). Python code sees only the `_wasmdeploy` module:
 * no host object is reachable from it.
 */
#define PY_SSIZE_T_CLEAN
#include "Python.h"
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifndef WD_IMPORT /* the component build defines both as nothing: wasm/src/component.c */
#define WD_IMPORT(name) __attribute__((import_module("wasmdeploy"), import_name(name)))
#define WD_EXPORT(name) __attribute__((export_name(name)))
#endif
/* Sends a request frame; returns the reply's length n >= 0 (fetch it with bridge_take), or
 * -(n + 1) for an error message of n bytes (also fetched with bridge_take). */
WD_IMPORT("bridge_call") int32_t wd_host_bridge_call(const uint8_t *frame, uint32_t len);
WD_IMPORT("bridge_take") void wd_host_bridge_take(uint8_t *dst);
/* Returns and clears the signal the host raised for this instance (SIGINT on a deadline). */
WD_IMPORT("interrupt") int32_t wd_host_interrupt(void);
/* The running call's memory limit was passed: the host ends this instance (it does not return). */
WD_IMPORT("memory_exceeded") void wd_host_memory_exceeded(uint32_t pages);

/* ---------- frames ---------- */

typedef struct {
    const char *data;
    uint32_t len;
} wd_item;

static uint8_t *frame_pack(const wd_item *items, uint32_t n, uint32_t *out_len) {
    size_t total = 4;
    for (uint32_t i = 0; i < n; i++) total += 4 + (size_t)items[i].len;
    if (total > UINT32_MAX) return NULL;
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) return NULL;
    uint8_t *p = buf;
    memcpy(p, &n, 4);
    p += 4;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(p, &items[i].len, 4);
        p += 4;
        if (items[i].len) memcpy(p, items[i].data, items[i].len);
        p += items[i].len;
    }
    *out_len = (uint32_t)total;
    return buf;
}

/* Splits a frame into items pointing into it; returns the count, or -1 if malformed. */
static int64_t frame_unpack(const uint8_t *buf, uint32_t len, wd_item **out) {
    uint32_t n;
    if (len < 4) return -1;
    memcpy(&n, buf, 4);
    if (n > (len - 4) / 4) return -1;
    wd_item *items = malloc(sizeof(wd_item) * (n ? n : 1));
    if (!items) return -1;
    uint32_t off = 4;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l;
        if (len - off < 4) goto bad;
        memcpy(&l, buf + off, 4);
        off += 4;
        if (len - off < l) goto bad;
        items[i].data = (const char *)buf + off;
        items[i].len = l;
        off += l;
    }
    *out = items;
    return n;
bad:
    free(items);
    return -1;
}

/* ---------- the _wasmdeploy module ---------- */

static PyObject *BridgeError;

/* Releases the Py_buffers of a request being built. */
static void release_views(Py_buffer *views, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) PyBuffer_Release(&views[i]);
    PyMem_Free(views);
}

/* call(kind: str, json: str, buffers: sequence of bytes-like) -> (json: str, buffers: list[bytes]) */
static PyObject *wd_bridge(PyObject *self, PyObject *args) {
    const char *kind, *json;
    Py_ssize_t kind_len, json_len;
    PyObject *seq_in;
    if (!PyArg_ParseTuple(args, "s#s#O:call", &kind, &kind_len, &json, &json_len, &seq_in)) return NULL;
    PyObject *seq = PySequence_Fast(seq_in, "buffers must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t nb = PySequence_Fast_GET_SIZE(seq);
    Py_buffer *views = PyMem_Calloc(nb ? nb : 1, sizeof(Py_buffer));
    wd_item *items = PyMem_Calloc(nb + 2, sizeof(wd_item));
    if (!views || !items) {
        PyMem_Free(views);
        PyMem_Free(items);
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    items[0] = (wd_item){kind, (uint32_t)kind_len};
    items[1] = (wd_item){json, (uint32_t)json_len};
    Py_ssize_t got = 0;
    for (; got < nb; got++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, got), &views[got], PyBUF_SIMPLE) < 0) break;
        items[got + 2] = (wd_item){views[got].buf, (uint32_t)views[got].len};
    }
    PyObject *result = NULL;
    if (got == nb) {
        uint32_t len;
        uint8_t *frame = frame_pack(items, (uint32_t)(nb + 2), &len);
        if (!frame) {
            PyErr_NoMemory();
        } else {
            int32_t r = wd_host_bridge_call(frame, len);
            free(frame);
            uint32_t n = r >= 0 ? (uint32_t)r : (uint32_t)(-(r + 1));
            uint8_t *reply = malloc(n ? n : 1);
            if (!reply) {
                /* The host drops its copy of the reply at the next request. */
                PyErr_NoMemory();
            } else {
                wd_host_bridge_take(reply);
                if (r < 0) {
                    PyObject *msg = PyUnicode_DecodeUTF8((const char *)reply, n, "replace");
                    if (msg) {
                        PyErr_SetObject(BridgeError, msg);
                        Py_DECREF(msg);
                    }
                } else {
                    wd_item *out;
                    int64_t count = frame_unpack(reply, n, &out);
                    if (count < 1) {
                        PyErr_SetString(BridgeError, "malformed bridge reply");
                    } else {
                        PyObject *text = PyUnicode_DecodeUTF8(out[0].data, out[0].len, "strict");
                        PyObject *bufs = PyList_New(count - 1);
                        for (int64_t i = 1; text && bufs && i < count; i++) {
                            PyObject *b = PyBytes_FromStringAndSize(out[i].data, out[i].len);
                            if (!b) {
                                Py_CLEAR(bufs);
                                break;
                            }
                            PyList_SET_ITEM(bufs, i - 1, b);
                        }
                        if (text && bufs) result = PyTuple_Pack(2, text, bufs);
                        Py_XDECREF(text);
                        Py_XDECREF(bufs);
                        free(out);
                    }
                }
                free(reply);
            }
        }
    }
    release_views(views, got);
    PyMem_Free(items);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef wd_methods[] = {
    {"call", wd_bridge, METH_VARARGS, "call(kind, json, buffers) -> (json, buffers): a synchronous engine request."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef wd_module = {PyModuleDef_HEAD_INIT, "_wasmdeploy", "The host bridge of a WASI interpreter.", -1, wd_methods};

static PyObject *PyInit__wasmdeploy(void) {
    PyObject *m = PyModule_Create(&wd_module);
    if (!m) return NULL;
    BridgeError = PyErr_NewException("_wasmdeploy.BridgeError", PyExc_RuntimeError, NULL);
    if (!BridgeError || PyModule_AddObjectRef(m, "BridgeError", BridgeError) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* ---------- interrupts ----------
 * The host cannot write this instance's memory while its thread runs Python (the memory is not
 * shared: wasi-libc is built without atomics). Instead the eval loop polls: CPython's periodic
 * signal check for Emscripten is enabled for this build (WASMDEPLOY_SIGNALS; wasm/patches/
 * signal-countdown.patch) as a countdown inlined into the eval loop, one decrement and one
 * branch per eval-breaker check. When it runs out, every WD_SIGNAL_INTERVAL checks, this file's
 * _Py_CheckEmscriptenSignalsPeriodically calls the host's `interrupt` import, which answers from
 * a SharedArrayBuffer slot another thread can set. */
int Py_EMSCRIPTEN_SIGNAL_HANDLING = 0;
#define WD_SIGNAL_INTERVAL 1024
/* Eval-breaker checks left until the next poll; INT_MAX until wd_init turns polling on. */
int _Py_wasmdeploy_signal_countdown = INT_MAX;
/* The running call's memory limit in 64 KiB pages (0: none beyond the memory's maximum). */
static uint32_t wd_limit_pages = 0;

void _Py_CheckEmscriptenSignals(void) {
    if (!Py_EMSCRIPTEN_SIGNAL_HANDLING) return;
    int sig = wd_host_interrupt();
    if (sig) PyErr_SetInterruptEx(sig);
}

void _Py_CheckEmscriptenSignalsPeriodically(void) {
    _Py_wasmdeploy_signal_countdown = WD_SIGNAL_INTERVAL;
    if (!Py_EMSCRIPTEN_SIGNAL_HANDLING) return;
    /* Memory that a call of a package with a larger limit left behind (growth is caught in sbrk). */
    if (wd_limit_pages && __builtin_wasm_memory_size(0) > wd_limit_pages) wd_host_memory_exceeded((uint32_t)__builtin_wasm_memory_size(0));
    _Py_CheckEmscriptenSignals();
}

/* ---------- memory limit ----------
 * malloc (wasi-libc's dlmalloc) grows linear memory only through sbrk, and the link wraps it
 * (-Wl,--wrap=sbrk): growth past the running call's limit ends the instance right there, before
 * the memory is taken, whether Python or C code asked for it. The eval loop pays nothing for it. */
void *__real_sbrk(intptr_t increment);
void *__wrap_sbrk(intptr_t increment) {
    if (wd_limit_pages && increment > 0) {
        uintptr_t pages = __builtin_wasm_memory_size(0) + ((uintptr_t)increment + 65535) / 65536;
        if (pages > wd_limit_pages) wd_host_memory_exceeded((uint32_t)pages);
    }
    return __real_sbrk(increment);
}

/* ---------- exports ---------- */

/* Sets the memory limit of the calls that follow, in 64 KiB pages (0: none). */
WD_EXPORT("wd_set_limit") void wd_set_limit(uint32_t pages) { wd_limit_pages = pages; }

/* Raise a signal now (the host calls it from inside a blocking WASI call it cut short, e.g. a
 * sleep woken by a deadline): like a signal handler, it only sets CPython's pending flags. */
WD_EXPORT("wd_interrupt") void wd_interrupt(int sig) {
    if (sig) PyErr_SetInterruptEx(sig);
}

static PyObject *g_dispatch;
static PyObject *g_after_restore;

WD_EXPORT("wd_alloc") void *wd_alloc(uint32_t size) { return malloc(size ? size : 1); }

WD_EXPORT("wd_free") void wd_free(void *p) { free(p); }

/* Before a snapshot is taken: collect Python's garbage, then zero the memory that malloc's free
 * chunks hold. Freed memory keeps whatever was there (source text, compiler trees of the boot's
 * imports), and every byte of it would ship in the snapshot and be copied into every instance.
 * malloc hands out free chunks before it takes from the top chunk or grows memory, so taking
 * blocks of each size, largest first, until one comes from the top or from new memory reaches
 * every free chunk down to SCRUB_MIN bytes; each is zeroed, and all are freed at the end (kept
 * until then so that each size sees only what the larger ones left). The boot snapshot's
 * compressed size went from 4.6 to 3.9 MB (gzip) with this. */
#define SCRUB_MAX ((size_t)1 << 20)
#define SCRUB_MIN ((size_t)64)
#define SCRUB_BLOCKS 16384
static int all_zero(const void *p, size_t n) {
    const uint64_t *w = p; /* malloc's blocks are 8-aligned and SCRUB_MIN a multiple of 8 */
    for (size_t i = 0; i < n / 8; i++)
        if (w[i]) return 0;
    return 1;
}
static void *(*volatile scrub_memset)(void *, int, size_t) = memset;
WD_EXPORT("wd_scrub") uint32_t wd_scrub(void) {
    /* On the stack, not static: static zeros would ship as data (memory is imported). Cleared
     * before returning, so the stack pages stay as zero as they were. */
    void *blocks[SCRUB_BLOCKS];
    uint32_t n = 0;
    size_t zeroed = 0;
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc) {
        PyObject *r = PyObject_CallMethod(gc, "collect", NULL);
        Py_XDECREF(r);
        Py_DECREF(gc);
    }
    PyErr_Clear();
    PyType_ClearCache();
    for (size_t size = SCRUB_MAX; size >= SCRUB_MIN; size >>= 1) {
        size_t pages = __builtin_wasm_memory_size(0);
        while (n < SCRUB_BLOCKS) {
            void *p = malloc(size);
            if (!p) break;
            /* New memory, or the top chunk (never-used memory, still zero): no free chunk of
             * this size is left, and taking the top would write a header into every block. */
            if (__builtin_wasm_memory_size(0) != pages || all_zero(p, size)) {
                free(p);
                break;
            }
            memset(p, 0, size);
            zeroed += size;
            blocks[n++] = p;
        }
    }
    while (n) free(blocks[--n]);
    scrub_memset(blocks, 0, sizeof blocks); /* through a volatile pointer: not a dead store */
    return (uint32_t)(zeroed >> 10);
}

static int fail_status(const char *what, PyStatus st) {
    fprintf(stderr, "wasmdeploy: %s: %s\n", what, st.err_msg ? st.err_msg : "failed");
    return 1;
}

/* Starts Python: stdlib in /lib/python3.11, the runtime in /runtime (the host's read-only file
 * system); no site, no environment, unbuffered stdio. Returns 0 on success. */
WD_EXPORT("wd_init") int wd_init(void) {
    PyStatus st;
    PyConfig config;
    if (PyImport_AppendInittab("_wasmdeploy", PyInit__wasmdeploy) < 0) return 1;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.buffered_stdio = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 1; /* SIGINT -> KeyboardInterrupt (deadlines) */
    config.pathconfig_warnings = 0;
    config.use_environment = 0;
    st = PyConfig_SetString(&config, &config.program_name, L"python");
    if (PyStatus_Exception(st)) goto bad;
    st = PyConfig_SetString(&config, &config.home, L"/");
    if (PyStatus_Exception(st)) goto bad;
    config.module_search_paths_set = 1;
    st = PyWideStringList_Append(&config.module_search_paths, L"/lib/python3.11");
    if (PyStatus_Exception(st)) goto bad;
    st = PyWideStringList_Append(&config.module_search_paths, L"/runtime");
    if (PyStatus_Exception(st)) goto bad;
    st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) return fail_status("init", st);
    PyObject *host = PyImport_ImportModule("wasmdeploy_runtime.host");
    if (!host) {
        PyErr_Print();
        return 2;
    }
    g_dispatch = PyObject_GetAttrString(host, "dispatch_frames");
    g_after_restore = PyObject_GetAttrString(host, "after_restore");
    Py_DECREF(host);
    if (!g_dispatch || !g_after_restore) {
        PyErr_Print();
        return 3;
    }
    Py_EMSCRIPTEN_SIGNAL_HANDLING = 1;
    _Py_wasmdeploy_signal_countdown = WD_SIGNAL_INTERVAL;
    return 0;
bad:
    PyConfig_Clear(&config);
    return fail_status("config", st);
}

WD_EXPORT("wd_after_restore") int wd_after_restore(int eager) {
    PyObject *r = PyObject_CallFunction(g_after_restore, "i", eager);
    if (!r) {
        PyErr_Print();
        return 1;
    }
    Py_DECREF(r);
    return 0;
}

/* One request: frame [op, json, *buffers]. Returns a frame [ok ("1"/"0"), json, releases json,
 * *buffers] the host reads and frees, or NULL if the runtime itself failed (the host replaces
 * the instance). */
WD_EXPORT("wd_call") uint8_t *wd_call(const uint8_t *req, uint32_t len) {
    /* A deadline that fired as the previous call ended must not hit this one. */
    if (PyErr_CheckSignals() < 0) PyErr_Clear();
    wd_item *in;
    int64_t n = frame_unpack(req, len, &in);
    if (n < 2) {
        fprintf(stderr, "wasmdeploy: malformed request\n");
        return NULL;
    }
    uint8_t *out = NULL;
    PyObject *bufs = PyList_New(n - 2);
    PyObject *result = NULL;
    for (int64_t i = 2; bufs && i < n; i++) {
        PyObject *b = PyBytes_FromStringAndSize(in[i].data, in[i].len);
        if (!b) {
            Py_CLEAR(bufs);
            break;
        }
        PyList_SET_ITEM(bufs, i - 2, b);
    }
    if (bufs) result = PyObject_CallFunction(g_dispatch, "s#s#O", in[0].data, (Py_ssize_t)in[0].len, in[1].data, (Py_ssize_t)in[1].len, bufs);
    Py_XDECREF(bufs);
    free(in);
    /* dispatch_frames returns (ok: bool, json: str, releases_json: str, buffers: list[bytes]). */
    if (!result || !PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 4) goto fail;
    PyObject *out_bufs = PyTuple_GET_ITEM(result, 3);
    if (!PyList_Check(out_bufs)) goto fail;
    Py_ssize_t nb = PyList_GET_SIZE(out_bufs);
    wd_item *items = malloc(sizeof(wd_item) * (3 + nb));
    if (!items) goto fail;
    int ok = PyObject_IsTrue(PyTuple_GET_ITEM(result, 0)) == 1;
    items[0] = (wd_item){ok ? "1" : "0", 1};
    for (int k = 1; k <= 2; k++) {
        Py_ssize_t l;
        const char *s = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(result, k), &l);
        if (!s) {
            free(items);
            goto fail;
        }
        items[k] = (wd_item){s, (uint32_t)l};
    }
    for (Py_ssize_t i = 0; i < nb; i++) {
        PyObject *b = PyList_GET_ITEM(out_bufs, i);
        if (!PyBytes_Check(b)) {
            free(items);
            goto fail;
        }
        items[3 + i] = (wd_item){PyBytes_AS_STRING(b), (uint32_t)PyBytes_GET_SIZE(b)};
    }
    uint32_t out_len;
    out = frame_pack(items, (uint32_t)(3 + nb), &out_len);
    free(items);
    Py_DECREF(result);
    return out;
fail:
    if (PyErr_Occurred()) PyErr_Print();
    else fprintf(stderr, "wasmdeploy: dispatch_frames returned a malformed result\n");
    Py_XDECREF(result);
    return NULL;
}
