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
#include <stdlib.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) != 0, &out);
  return out;
}

/*
 * The same on a libuv pool thread: malloc_trim walks every arena and gives pages back one
 * madvise at a time (4-47 ms measured), which the calling JavaScript thread need not wait for.
 * Only the arena being trimmed is locked, as any malloc in it would lock it.
 */
struct trim_job {
  napi_async_work work;
};

static void trim_execute(napi_env env, void *data) {
  (void)env;
  (void)data;
  malloc_trim(0);
}

static void trim_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  struct trim_job *job = data;
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value trim_in_background(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value name, out;
  napi_get_undefined(env, &out);
  struct trim_job *job = malloc(sizeof *job);
  if (job == NULL) return out;
  if (napi_create_string_utf8(env, "mallocTrim", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, trim_execute, trim_complete, job, &job->work) != napi_ok) {
    free(job);
    return out;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free(job);
  }
  return out;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn, bg;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "trimInBackground", NAPI_AUTO_LENGTH, trim_in_background, NULL, &bg) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trimInBackground", bg) != napi_ok) return NULL;
  return exports;
}
