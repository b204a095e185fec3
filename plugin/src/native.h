/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdpkv_lmcache._native - CPython bindings for libfdpkv (shared declarations).
 */
#ifndef FDPKV_NATIVE_H
#define FDPKV_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "fdpkv.h"

/* Per-module state: everything mutable lives here, nothing in statics. */
struct native_state {
	PyTypeObject *cache_type;
};

extern PyModuleDef native_module;

static inline struct native_state *native_get_state(PyObject *module)
{
	return (struct native_state *)PyModule_GetState(module);
}

/* Raise OSError (the errno subclass) for a negative errno @neg, with @msg or strerror. */
PyObject *native_set_errno(int neg, const char *msg);

/* Apply @params (dict of str -> str | list[str]) to @cfg with fdpkv_config_set. */
int native_config_from_dict(struct fdpkv_config *cfg, PyObject *params);

/* Create the Cache heap type for @module. */
PyTypeObject *native_cache_type_new(PyObject *module);

#endif /* FDPKV_NATIVE_H */
