/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdpkv_lmcache._native - module definition: multi-phase init, module state,
 * constants, the errno -> OSError helper and the version exports.
 */
#include "native.h"

#include <errno.h>
#include <string.h>

PyObject *native_set_errno(int neg, const char *msg)
{
	int err = neg < 0 ? -neg : neg;
	PyObject *args;

	if (!msg || !*msg)
		msg = strerror(err);
	/* Calling OSError(errno, msg) picks the subclass (FileNotFoundError, ...). */
	args = Py_BuildValue("(is)", err, msg);
	if (args) {
		PyErr_SetObject(PyExc_OSError, args);
		Py_DECREF(args);
	}
	return NULL;
}

PyDoc_STRVAR(lib_version_doc,
"lib_version() -> (major, minor)\n\n"
"The run-time version of the linked libfdpkv; compare with VERSION_MAJOR/MINOR\n"
"(the version of the header this module was compiled against).");

static PyObject *native_lib_version(PyObject *module, PyObject *unused)
{
	return Py_BuildValue("(ii)", fdpkv_version_major(), fdpkv_version_minor());
}

PyDoc_STRVAR(check_config_doc,
"check_config(params: dict) -> None\n\n"
"Apply params to a default configuration as Cache() would, without opening\n"
"anything: raises ValueError naming an unknown key or a bad value.");

static PyObject *native_check_config(PyObject *module, PyObject *params)
{
	struct fdpkv_config cfg;

	if (!PyDict_Check(params)) {
		PyErr_SetString(PyExc_TypeError, "params must be a dict");
		return NULL;
	}
	if (native_config_from_dict(&cfg, params) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef native_methods[] = {
	{"check_config", native_check_config, METH_O, check_config_doc},
	{"lib_version", native_lib_version, METH_NOARGS, lib_version_doc},
	{NULL, NULL, 0, NULL},
};

static int native_exec(PyObject *module)
{
	struct native_state *st = native_get_state(module);
	static const struct {
		const char *name;
		long value;
	} consts[] = {
		{"VERSION_MAJOR", FDPKV_VERSION_MAJOR},
		{"VERSION_MINOR", FDPKV_VERSION_MINOR},
		{"KEY_MAX", FDPKV_KEY_MAX},
		{"MAX_DEVICES", FDPKV_MAX_DEVICES},
		{"MAX_CLASSES", FDPKV_MAX_CLASSES},
		{"OP_SET", FDPKV_OP_SET},
		{"OP_GET", FDPKV_OP_GET},
		{"OP_EXISTS", FDPKV_OP_EXISTS},
		{"OP_LOOKUP_LOCK", FDPKV_OP_LOOKUP_LOCK},
		{"OP_DELETE", FDPKV_OP_DELETE},
	};
	size_t i;

	for (i = 0; i < sizeof(consts) / sizeof(consts[0]); i++)
		if (PyModule_AddIntConstant(module, consts[i].name, consts[i].value) < 0)
			return -1;

	st->cache_type = native_cache_type_new(module);
	if (!st->cache_type)
		return -1;
	if (PyModule_AddType(module, st->cache_type) < 0)
		return -1;
	return 0;
}

static int native_traverse(PyObject *module, visitproc visit, void *arg)
{
	struct native_state *st = native_get_state(module);

	Py_VISIT(st->cache_type);
	return 0;
}

static int native_clear(PyObject *module)
{
	struct native_state *st = native_get_state(module);

	Py_CLEAR(st->cache_type);
	return 0;
}

static void native_free(void *module)
{
	native_clear((PyObject *)module);
}

static PyModuleDef_Slot native_slots[] = {
	{Py_mod_exec, native_exec},
	{0, NULL},
};

PyDoc_STRVAR(native_doc,
"Bindings for libfdpkv, the NVMe-FDP KV-cache store.\n\n"
"Cache(params) opens a cache; see help(Cache).");

PyModuleDef native_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "fdpkv_lmcache._native",
	.m_doc = native_doc,
	.m_size = sizeof(struct native_state),
	.m_methods = native_methods,
	.m_slots = native_slots,
	.m_traverse = native_traverse,
	.m_clear = native_clear,
	.m_free = native_free,
};

PyMODINIT_FUNC PyInit__native(void);
PyMODINIT_FUNC PyInit__native(void)
{
	return PyModuleDef_Init(&native_module);
}
