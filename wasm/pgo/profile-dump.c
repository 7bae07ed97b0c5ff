/* Linked into the instrumented interpreter only (WASMDEPLOY_PGO=generate; wasm/pgo/README.md):
   a built-in module _wdprofile whose dump() returns the raw profile (.profraw bytes) the
   counters make so far, so that wasm/pgo/train.ts gets it out through an ordinary call, with no
   file system. The profile runtime is compiler-rt's, built by wasm/pgo/make-profile.sh without
   InstrProfilingFile.c (wasi-libc has no mmap): this file stands in for
   InstrProfilingRuntime.cpp, which would write default.profraw at exit. */
#include "Python.h"
#include <stdint.h>

/* Instrumented objects reference this to pull the runtime into the link. */
int __llvm_profile_runtime;
uint64_t __llvm_profile_get_size_for_buffer(void);
int __llvm_profile_write_buffer(char *Buffer);
void __llvm_profile_reset_counters(void);

static PyObject *wdprofile_dump(PyObject *self, PyObject *unused) {
  uint64_t n = __llvm_profile_get_size_for_buffer();
  PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
  if (!b) return NULL;
  if (__llvm_profile_write_buffer(PyBytes_AS_STRING(b)) != 0) {
    Py_DECREF(b);
    PyErr_SetString(PyExc_RuntimeError, "__llvm_profile_write_buffer failed");
    return NULL;
  }
  return b;
}

static PyObject *wdprofile_reset(PyObject *self, PyObject *unused) {
  __llvm_profile_reset_counters();
  Py_RETURN_NONE;
}

static PyMethodDef wdprofile_methods[] = {
  {"dump", wdprofile_dump, METH_NOARGS, "The raw profile (.profraw) so far."},
  {"reset", wdprofile_reset, METH_NOARGS, "Zero the counters."},
  {NULL, NULL, 0, NULL},
};
static struct PyModuleDef wdprofile_module = {PyModuleDef_HEAD_INIT, "_wdprofile", NULL, -1, wdprofile_methods};
static PyObject *PyInit__wdprofile(void) { return PyModule_Create(&wdprofile_module); }

/* wd_init calls Py_InitializeFromConfig; the instrumented link wraps it (-Wl,--wrap), as
   build-sci.sh's does for numpy's modules. */
PyStatus __real_Py_InitializeFromConfig(const PyConfig *config);
PyStatus __wrap_Py_InitializeFromConfig(const PyConfig *config) {
  if (PyImport_AppendInittab("_wdprofile", PyInit__wdprofile) < 0) return PyStatus_NoMemory();
  return __real_Py_InitializeFromConfig(config);
}
