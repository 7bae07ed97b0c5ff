/*
 * malloc_trim for Node: glibc keeps what a thread frees in that thread's arena, and only the top
 * of each heap goes back to the system by itself. A process that compiles ONNX Runtime sessions
 * and wasm code on a dozen threads kept 50-60 MB that way (docs/architecture.md). malloc_trim(0)
 * gives back every whole free page of every arena. JavaScript has no way to call it.
 *
 * Built by scripts/build-native.mjs into dist/native/malloc-trim.node; loaded by
 * src/platform/node/malloc-trim.ts, which does without it where it cannot be built.
 */
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) != 0, &out);
  return out;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
