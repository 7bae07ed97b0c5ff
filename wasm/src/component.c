/* The component build's side of wit/interpreter.wit: the world's exports as the canonical ABI
 * lowers them, over wasmdeploy.c's entry points, and wasmdeploy.c's four host functions over
 * the world's `host` imports. Compiled only into python-component.wasm (wasm/build-python.sh,
 * which compiles wasmdeploy.c with WD_IMPORT and WD_EXPORT defined empty), so python.wasm is unchanged.
 *
 * Canonical ABI, as used here (wasm32): a list<u8> parameter is (ptr, len), allocated by the
 * caller with our cabi_realloc and owned by us afterwards; a list<u8> result is a pointer to
 * (ptr, len), which the host reads and then hands back through cabi_post_<name>; an imported
 * function's result<list<u8>, string> is written by the host at a return pointer we pass:
 * a u8 tag at 0 (0 ok, 1 error), then the payload's (ptr, len) at 4 and 8, in memory the host
 * allocated with our cabi_realloc. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WIT_IMPORT(name) __attribute__((import_module("wasmdeploy:interpreter/host@0.1.0"), import_name(name)))
#define WIT_EXPORT(name) __attribute__((export_name(name)))

/* wasmdeploy.c's entry points (plain functions in this build). */
int wd_init(void);
int wd_after_restore(int eager);
uint8_t *wd_call(const uint8_t *req, uint32_t len);
void wd_set_limit(uint32_t pages);
void wd_interrupt(int sig);

typedef struct {
    uint8_t is_err;
    uint8_t *ptr;
    uint32_t len;
} wit_result_bytes;

WIT_IMPORT("bridge-call") void wit_bridge_call(const uint8_t *ptr, uint32_t len, wit_result_bytes *ret);
WIT_IMPORT("interrupt") int32_t wit_interrupt(void);
WIT_IMPORT("memory-exceeded") void wit_memory_exceeded(uint32_t pages);

/* ---- the canonical ABI's allocator: the host allocates list arguments and results in our
 * memory with it ---- */
WIT_EXPORT("cabi_realloc") void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    (void)align; /* malloc's 8-byte alignment covers every type the world passes */
    if (new_size == 0) return (void *)align;
    void *p = realloc(old, new_size);
    if (!p) abort();
    return p;
}

/* ---- wasmdeploy.c's host functions ---- */

/* The last bridge reply, for wd_host_bridge_take. */
static uint8_t *reply;
static uint32_t reply_len;

int32_t wd_host_bridge_call(const uint8_t *frame, uint32_t len) {
    wit_result_bytes r;
    wit_bridge_call(frame, len, &r);
    free(reply);
    reply = r.ptr;
    reply_len = r.len;
    if (r.len > INT32_MAX - 1) abort();
    return r.is_err ? -(int32_t)r.len - 1 : (int32_t)r.len;
}

void wd_host_bridge_take(uint8_t *dst) {
    if (reply_len) memcpy(dst, reply, reply_len);
    free(reply);
    reply = NULL;
    reply_len = 0;
}

int32_t wd_host_interrupt(void) { return wit_interrupt(); }

void wd_host_memory_exceeded(uint32_t pages) {
    wit_memory_exceeded(pages);
    __builtin_trap(); /* the host must not return; if it does, end the instance anyway */
}

/* ---- the world's exports ---- */

extern void __wasm_call_ctors(void);
static int started;

WIT_EXPORT("init") int32_t wit_init(void) {
    if (started) return 1;
    started = 1;
    __wasm_call_ctors(); /* a reactor's C constructors (what _initialize does in python.wasm) */
    return wd_init();
}

WIT_EXPORT("after-init") int32_t wit_after_init(int32_t eager) { return wd_after_restore(eager); }

static uint32_t call_ret[2];

/* A frame's total length: u32 count, then per item a u32 length and the bytes. */
static uint32_t frame_length(const uint8_t *f) {
    uint32_t n, at = 4, l;
    memcpy(&n, f, 4);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(&l, f + at, 4);
        at += 4 + l;
    }
    return at;
}

WIT_EXPORT("call") uint32_t *wit_call(uint8_t *req, uint32_t len) {
    uint8_t *out = wd_call(req, len);
    free(req);
    call_ret[0] = (uint32_t)(uintptr_t)out;
    call_ret[1] = out ? frame_length(out) : 0;
    return call_ret;
}

WIT_EXPORT("cabi_post_call") void wit_post_call(uint32_t *ret) { free((void *)(uintptr_t)ret[0]); }

WIT_EXPORT("set-limit") void wit_set_limit(uint32_t pages) { wd_set_limit(pages); }

WIT_EXPORT("raise-signal") void wit_raise_signal(int32_t sig) { wd_interrupt(sig); }
