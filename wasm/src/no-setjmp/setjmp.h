/* setjmp.h for Pillow's JPEG codec on wasm32-wasi (wasm/build-pillow.sh).
 * wasi-libc with clang 14 has no setjmp/longjmp (wasm has no way to unwind the C stack without
 * the exception-handling proposal, which this toolchain's wasi-libc does not use). Pillow only
 * longjmps from libjpeg's error_exit, after libjpeg printed its message: on wasm that ends the
 * instance with a trap (the host reports the interpreter crashed and replaces it) instead of
 * raising OSError. Valid images, and truncated ones (a libjpeg warning, not an error), decode. */
#ifndef WASMDEPLOY_NO_SETJMP_H
#define WASMDEPLOY_NO_SETJMP_H
typedef int jmp_buf[1];
#define setjmp(env) ((void)(env), 0)
static inline _Noreturn void longjmp(jmp_buf env, int val) {
    (void)env;
    (void)val;
    __builtin_trap();
}
#endif
