/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdpkv_lmcache._native.Cache - one open libfdpkv cache.
 *
 * Locking. Every call into the library happens under @rw held for reading;
 * close() takes it for writing, so struct fdpkv_cache is never freed under a
 * running call. Buffers of SET/GET batches are held (Py_buffer) in a struct
 * pending, linked into @pending under @plock, and passed to the library as the
 * operation's user_data. drain() unlinks the pendings of the completions it
 * takes while still holding @rw, so after close() every pending left in the
 * list belongs to an operation whose completion was discarded: close()
 * releases those. The GIL is never requested while @rw or @plock is held, so
 * neither lock can deadlock against it.
 */
#include "native.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct link {
	struct link *prev, *next;
};

/* The buffers of one SET/GET batch, held until its completion is drained. */
struct pending {
	struct link link;	/* first member: (struct pending *)link */
	Py_ssize_t nviews;	/* acquired views (the rest are not) */
	Py_buffer views[];
};

typedef struct {
	PyObject_HEAD
	struct fdpkv_cache *cache;	/* NULL once closed; written under @rw (write) */
	pthread_rwlock_t rw;		/* read: any library call; write: close */
	pthread_mutex_t plock;		/* protects @pending */
	struct link pending;		/* list of struct pending, under @plock */
	int locks_ready;
} CacheObject;

/* Completions are drained in chunks of this many; a call stops at DRAIN_MAX. */
#define DRAIN_CHUNK	64
#define DRAIN_MAX	65536

static const char *op_name(int op)
{
	switch (op) {
	case FDPKV_OP_SET: return "set";
	case FDPKV_OP_GET: return "get";
	case FDPKV_OP_EXISTS: return "exists";
	case FDPKV_OP_LOOKUP_LOCK: return "lookup_lock";
	case FDPKV_OP_DELETE: return "delete";
	}
	return "?";
}

static PyObject *err_closed(void)
{
	PyErr_SetString(PyExc_ValueError, "operation on a closed fdpkv cache");
	return NULL;
}

/* --- pending list (callers hold no GIL requirement: plain pointer work) ---- */

static void pending_link(CacheObject *self, struct pending *p)
{
	pthread_mutex_lock(&self->plock);
	p->link.next = &self->pending;
	p->link.prev = self->pending.prev;
	self->pending.prev->next = &p->link;
	self->pending.prev = &p->link;
	pthread_mutex_unlock(&self->plock);
}

/* Caller holds @plock. */
static void pending_unlink_locked(struct pending *p)
{
	p->link.prev->next = p->link.next;
	p->link.next->prev = p->link.prev;
	p->link.prev = p->link.next = &p->link;
}

static void pending_unlink(CacheObject *self, struct pending *p)
{
	pthread_mutex_lock(&self->plock);
	pending_unlink_locked(p);
	pthread_mutex_unlock(&self->plock);
}

/* Release the buffers of @p and free it. Needs the GIL. */
static void pending_free(struct pending *p)
{
	Py_ssize_t i;

	if (!p)
		return;
	for (i = 0; i < p->nviews; i++)
		PyBuffer_Release(&p->views[i]);
	PyMem_Free(p);
}

/* --- keys ---------------------------------------------------------------- */

/*
 * Point @out at the UTF-8 form of every str in @keys (a tuple we hold, so the
 * cached UTF-8 stays valid while the GIL is released). Needs the GIL.
 */
static int keys_convert(PyObject *keys, struct fdpkv_key *out)
{
	Py_ssize_t i, n = PyTuple_GET_SIZE(keys);

	for (i = 0; i < n; i++) {
		PyObject *k = PyTuple_GET_ITEM(keys, i);
		Py_ssize_t len;
		const char *s;

		if (!PyUnicode_Check(k)) {
			PyErr_Format(PyExc_TypeError, "key %zd must be str, not %.100s",
				     i, Py_TYPE(k)->tp_name);
			return -1;
		}
		s = PyUnicode_AsUTF8AndSize(k, &len);
		if (!s)
			return -1;
		if (len < 1 || len > FDPKV_KEY_MAX) {
			PyErr_Format(PyExc_ValueError,
				     "key %zd is %zd bytes in UTF-8; keys must be 1..%d bytes",
				     i, len, FDPKV_KEY_MAX);
			return -1;
		}
		out[i].data = s;
		out[i].len = (uint32_t)len;
	}
	return 0;
}

/* A tuple of the items of the list/tuple @seq; a str or bytes is refused. */
static PyObject *as_tuple(PyObject *seq, const char *what)
{
	if (PyUnicode_Check(seq) || PyBytes_Check(seq) || PyByteArray_Check(seq) ||
	    !PySequence_Check(seq)) {
		PyErr_Format(PyExc_TypeError, "%s must be a list, not %.100s", what,
			     Py_TYPE(seq)->tp_name);
		return NULL;
	}
	return PySequence_Tuple(seq);
}

/* --- construction -------------------------------------------------------- */

static int config_set_one(struct fdpkv_config *cfg, const char *key, PyObject *value)
{
	char err[256] = "";
	const char *v;
	int rc;

	if (!PyUnicode_Check(value)) {
		PyErr_Format(PyExc_TypeError, "parameter '%s' must be str, not %.100s", key,
			     Py_TYPE(value)->tp_name);
		return -1;
	}
	v = PyUnicode_AsUTF8(value);
	if (!v)
		return -1;
	rc = fdpkv_config_set(cfg, key, v, err, sizeof(err));
	if (rc == -ENOENT) {
		PyErr_Format(PyExc_ValueError, "unknown parameter '%s'%s%s", key,
			     err[0] ? ": " : "", err);
		return -1;
	}
	if (rc == -EINVAL) {
		if (err[0])
			PyErr_SetString(PyExc_ValueError, err);
		else
			PyErr_Format(PyExc_ValueError, "invalid value '%s' for parameter '%s'",
				     v, key);
		return -1;
	}
	if (rc < 0) {
		native_set_errno(rc, err);
		return -1;
	}
	return 0;
}

int native_config_from_dict(struct fdpkv_config *cfg, PyObject *params)
{
	Py_ssize_t pos = 0;
	PyObject *k, *v;

	fdpkv_config_init(cfg);
	while (PyDict_Next(params, &pos, &k, &v)) {
		const char *key;

		if (!PyUnicode_Check(k)) {
			PyErr_SetString(PyExc_TypeError, "parameter names must be str");
			return -1;
		}
		key = PyUnicode_AsUTF8(k);
		if (!key)
			return -1;
		if (PyList_Check(v) || PyTuple_Check(v)) {
			/* A repeatable key (device): one fdpkv_config_set per item. */
			PyObject *t = PySequence_Tuple(v);
			Py_ssize_t i;

			if (!t)
				return -1;
			for (i = 0; i < PyTuple_GET_SIZE(t); i++) {
				if (config_set_one(cfg, key, PyTuple_GET_ITEM(t, i)) < 0) {
					Py_DECREF(t);
					return -1;
				}
			}
			Py_DECREF(t);
		} else if (config_set_one(cfg, key, v) < 0) {
			return -1;
		}
	}
	return 0;
}

static PyObject *cache_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"params", NULL};
	struct fdpkv_config cfg;
	struct fdpkv_cache *cache = NULL;
	PyObject *params;
	CacheObject *self;
	char err[512] = "";
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!:Cache", kwlist, &PyDict_Type, &params))
		return NULL;
	if (native_config_from_dict(&cfg, params) < 0)
		return NULL;

	self = (CacheObject *)type->tp_alloc(type, 0);
	if (!self)
		return NULL;
	self->pending.prev = self->pending.next = &self->pending;
	if (pthread_rwlock_init(&self->rw, NULL) || pthread_mutex_init(&self->plock, NULL)) {
		Py_DECREF(self);
		return PyErr_NoMemory();
	}
	self->locks_ready = 1;

	Py_BEGIN_ALLOW_THREADS
	rc = fdpkv_open(&cfg, &cache, err, sizeof(err));
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		if (rc == -EINVAL)
			PyErr_SetString(PyExc_ValueError, err[0] ? err : "invalid configuration");
		else
			native_set_errno(rc, err);
		Py_DECREF(self);
		return NULL;
	}
	self->cache = cache;
	return (PyObject *)self;
}

/* --- close / dealloc ----------------------------------------------------- */

/* Close the library cache and release every buffer still held. Needs the GIL. */
static void cache_do_close(CacheObject *self)
{
	struct link list;
	struct link *l;

	if (!self->locks_ready)
		return;

	Py_BEGIN_ALLOW_THREADS
	pthread_rwlock_wrlock(&self->rw);
	if (self->cache) {
		/* Waits for in-flight I/O: afterwards no buffer is touched. */
		fdpkv_close(self->cache);
		self->cache = NULL;
	}
	pthread_rwlock_unlock(&self->rw);
	Py_END_ALLOW_THREADS

	/* Whatever is still linked lost its completion in fdpkv_close(). */
	pthread_mutex_lock(&self->plock);
	if (self->pending.next == &self->pending) {
		list.next = list.prev = &list;
	} else {
		list.next = self->pending.next;
		list.prev = self->pending.prev;
		list.next->prev = &list;
		list.prev->next = &list;
	}
	self->pending.next = self->pending.prev = &self->pending;
	pthread_mutex_unlock(&self->plock);

	while ((l = list.next) != &list) {
		pending_unlink_locked((struct pending *)l);
		pending_free((struct pending *)l);
	}
}

static void cache_dealloc(CacheObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);

	cache_do_close(self);
	if (self->locks_ready) {
		pthread_rwlock_destroy(&self->rw);
		pthread_mutex_destroy(&self->plock);
	}
	tp->tp_free((PyObject *)self);
	Py_DECREF(tp);
}

PyDoc_STRVAR(close_doc,
"close()\n\n"
"Wait for every submitted operation, persist what recovery needs and free the\n"
"cache. Undrained completions are discarded and their buffers released; no\n"
"buffer is touched afterwards. Safe to call more than once.");

static PyObject *cache_close(CacheObject *self, PyObject *unused)
{
	cache_do_close(self);
	Py_RETURN_NONE;
}

static PyObject *cache_get_closed(CacheObject *self, void *closure)
{
	return PyBool_FromLong(self->cache == NULL);
}

/* --- event fd / submit --------------------------------------------------- */

PyDoc_STRVAR(event_fd_doc,
"event_fd() -> int\n\n"
"The library's eventfd: readable while completions are queued. Never read\n"
"it; drain() clears it. Valid until close().");

static PyObject *cache_event_fd(CacheObject *self, PyObject *unused)
{
	int fd = -ESHUTDOWN;

	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		fd = fdpkv_event_fd(self->cache);
	pthread_rwlock_unlock(&self->rw);
	if (fd == -ESHUTDOWN)
		return err_closed();
	if (fd < 0)
		return native_set_errno(fd, NULL);
	return PyLong_FromLong(fd);
}

PyDoc_STRVAR(submit_doc,
"submit(op, keys, buffers=None) -> int\n\n"
"Submit a batch. keys: list of str (1..KEY_MAX bytes of UTF-8 each).\n"
"buffers: one C-contiguous buffer per key for OP_SET (read) and OP_GET\n"
"(written; must be writable), None otherwise. Each buffer is held until the\n"
"operation's completion has been drained or the cache closed. Never blocks\n"
"on I/O. Returns the operation id. Raises ValueError for an empty batch, a\n"
"length mismatch or a closed cache, TypeError for a non-str key and\n"
"BufferError for a read-only or non-contiguous buffer.");

static PyObject *cache_submit(CacheObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"op", "keys", "buffers", NULL};
	struct fdpkv_key kstack[16];
	struct fdpkv_buf bstack[16];
	struct fdpkv_key *karr = kstack;
	struct fdpkv_buf *barr = NULL;
	struct pending *p = NULL;
	PyObject *keys_in, *bufs_in = Py_None;
	PyObject *keys = NULL, *bufs = NULL, *ret = NULL;
	Py_ssize_t n, i;
	uint64_t id = 0;
	int op, rc, needbuf;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "iO|O:submit", kwlist, &op, &keys_in,
					 &bufs_in))
		return NULL;
	if (op < FDPKV_OP_SET || op > FDPKV_OP_DELETE) {
		PyErr_Format(PyExc_ValueError, "unknown op %d", op);
		return NULL;
	}
	if (!self->cache)
		return err_closed();
	needbuf = op == FDPKV_OP_SET || op == FDPKV_OP_GET;

	keys = as_tuple(keys_in, "keys");
	if (!keys)
		return NULL;
	n = PyTuple_GET_SIZE(keys);
	if (n == 0) {
		PyErr_SetString(PyExc_ValueError, "empty batch");
		goto out;
	}
	if (n > (Py_ssize_t)UINT_MAX) {
		PyErr_SetString(PyExc_ValueError, "batch too large");
		goto out;
	}
	if (needbuf) {
		if (bufs_in == Py_None) {
			PyErr_Format(PyExc_TypeError, "%s needs one buffer per key", op_name(op));
			goto out;
		}
		bufs = as_tuple(bufs_in, "buffers");
		if (!bufs)
			goto out;
		if (PyTuple_GET_SIZE(bufs) != n) {
			PyErr_Format(PyExc_ValueError, "length mismatch: %zd keys, %zd buffers",
				     n, PyTuple_GET_SIZE(bufs));
			goto out;
		}
	} else if (bufs_in != Py_None) {
		PyErr_Format(PyExc_TypeError, "%s takes no buffers", op_name(op));
		goto out;
	}

	if (n > (Py_ssize_t)(sizeof(kstack) / sizeof(kstack[0]))) {
		karr = PyMem_Malloc(n * sizeof(*karr));
		if (!karr) {
			PyErr_NoMemory();
			goto out;
		}
	}
	if (keys_convert(keys, karr) < 0)
		goto out;

	if (needbuf) {
		int flags = op == FDPKV_OP_SET ? PyBUF_SIMPLE : PyBUF_WRITABLE;

		barr = n > (Py_ssize_t)(sizeof(bstack) / sizeof(bstack[0])) ?
			PyMem_Malloc(n * sizeof(*barr)) : bstack;
		p = PyMem_Malloc(sizeof(*p) + n * sizeof(Py_buffer));
		if (!barr || !p) {
			PyErr_NoMemory();
			goto out;
		}
		p->nviews = 0;
		p->link.prev = p->link.next = &p->link;
		for (i = 0; i < n; i++) {
			Py_buffer *v = &p->views[i];

			if (PyObject_GetBuffer(PyTuple_GET_ITEM(bufs, i), v, flags) < 0)
				goto out;
			p->nviews++;
			if (!PyBuffer_IsContiguous(v, 'C')) {
				PyErr_Format(PyExc_BufferError, "buffer %zd is not C-contiguous", i);
				goto out;
			}
			barr[i].base = v->buf;
			barr[i].len = (uint64_t)v->len;
		}
	}

	Py_BEGIN_ALLOW_THREADS
	pthread_rwlock_rdlock(&self->rw);
	if (!self->cache) {
		rc = -ESHUTDOWN;
	} else {
		/* Linked first: a completion may be drained before submit returns. */
		if (p)
			pending_link(self, p);
		rc = fdpkv_submit(self->cache, (enum fdpkv_op)op, (unsigned int)n, karr, barr,
				  p, &id);
		if (rc < 0 && p)
			pending_unlink(self, p);
	}
	pthread_rwlock_unlock(&self->rw);
	Py_END_ALLOW_THREADS

	if (rc == -ESHUTDOWN) {
		err_closed();
		goto out;
	}
	if (rc == -EINVAL) {
		PyErr_Format(PyExc_ValueError, "libfdpkv refused the %s batch of %zd keys",
			     op_name(op), n);
		goto out;
	}
	if (rc < 0) {
		native_set_errno(rc, NULL);
		goto out;
	}
	p = NULL;	/* owned by the operation until drained */
	ret = PyLong_FromUnsignedLongLong(id);
out:
	pending_free(p);
	if (karr != kstack)
		PyMem_Free(karr);
	if (barr != bstack)
		PyMem_Free(barr);
	Py_XDECREF(bufs);
	Py_XDECREF(keys);
	return ret;
}

/* --- drain --------------------------------------------------------------- */

/*
 * Take up to @max (0: DRAIN_MAX) completions into a malloc'ed array, unlinking
 * their pendings. Runs without the GIL. Returns the count or -errno.
 */
static long drain_raw(CacheObject *self, unsigned int max, struct fdpkv_completion **out)
{
	struct fdpkv_completion *arr = NULL;
	size_t n = 0, cap = 0;
	long rc = 0;

	if (max == 0 || max > DRAIN_MAX)
		max = DRAIN_MAX;
	pthread_rwlock_rdlock(&self->rw);
	while (self->cache && n < max) {
		unsigned int want;
		int got, i;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : DRAIN_CHUNK;
			struct fdpkv_completion *na = realloc(arr, ncap * sizeof(*arr));

			if (!na) {
				rc = -ENOMEM;
				break;
			}
			arr = na;
			cap = ncap;
		}
		want = (unsigned int)(cap - n);
		if (want > max - n)
			want = (unsigned int)(max - n);
		got = fdpkv_drain(self->cache, arr + n, want);
		if (got < 0) {
			rc = got;
			break;
		}
		if (got > 0) {
			pthread_mutex_lock(&self->plock);
			for (i = 0; i < got; i++)
				if (arr[n + i].user_data)
					pending_unlink_locked(arr[n + i].user_data);
			pthread_mutex_unlock(&self->plock);
		}
		n += (size_t)got;
		if ((unsigned int)got < want)
			break;	/* the queue is empty */
	}
	pthread_rwlock_unlock(&self->rw);
	*out = arr;
	if (rc < 0 && n == 0) {
		free(arr);
		*out = NULL;
		return rc;
	}
	return (long)n;
}

/* Release completion @c and the buffers of its operation. Needs the GIL. */
static void completion_done(struct fdpkv_completion *c)
{
	pending_free(c->user_data);
	c->user_data = NULL;
	fdpkv_completion_release(c);
}

/* (id, op, result, [status...], [value_len...]) */
static PyObject *completion_full(const struct fdpkv_completion *c)
{
	PyObject *st = PyList_New(c->nkeys), *vl = PyList_New(c->nkeys), *t;
	unsigned int i;

	if (!st || !vl)
		goto fail;
	for (i = 0; i < c->nkeys; i++) {
		PyObject *a = PyLong_FromLong(c->status ? c->status[i] : c->result);
		PyObject *b = PyLong_FromUnsignedLongLong(c->value_len ? c->value_len[i] : 0);

		if (!a || !b) {
			Py_XDECREF(a);
			Py_XDECREF(b);
			goto fail;
		}
		PyList_SET_ITEM(st, i, a);
		PyList_SET_ITEM(vl, i, b);
	}
	t = Py_BuildValue("(KiiNN)", (unsigned long long)c->id, (int)c->op, c->result, st, vl);
	return t;
fail:
	Py_XDECREF(st);
	Py_XDECREF(vl);
	return NULL;
}

/*
 * The error that makes @c fail, or 0. SET and GET fail on any error (a miss
 * included: per_key says which). For EXISTS, LOOKUP_LOCK and DELETE a miss
 * (-ENOENT) or a locked key (-EBUSY, DELETE) is an answer, not a failure:
 * only other per-key errors (I/O) fail the batch, whatever @result says.
 */
static int completion_error(const struct fdpkv_completion *c)
{
	unsigned int i;

	if (c->op == FDPKV_OP_SET || c->op == FDPKV_OP_GET || c->result == 0 || !c->status)
		return c->result;
	for (i = 0; i < c->nkeys; i++) {
		int st = c->status[i];

		if (st == 0 || st == -ENOENT || (st == -EBUSY && c->op == FDPKV_OP_DELETE))
			continue;
		return st;
	}
	return 0;
}

/* LMCache's (future_id, ok, error, per_key) with len(per_key) == nkeys. */
static PyObject *completion_lmcache(const struct fdpkv_completion *c)
{
	PyObject *pk = PyList_New(c->nkeys), *err;
	unsigned int i;
	int error = completion_error(c);
	int ok = error == 0;

	if (!pk)
		return NULL;
	for (i = 0; i < c->nkeys; i++) {
		/* GET: True only when the buffer was filled completely (status 0). */
		PyObject *b = (c->status ? c->status[i] == 0 : c->result == 0) ? Py_True : Py_False;

		Py_INCREF(b);
		PyList_SET_ITEM(pk, i, b);
	}
	if (ok)
		err = PyUnicode_FromStringAndSize("", 0);
	else
		err = PyUnicode_FromFormat("%s: %s", op_name(c->op), strerror(-error));
	if (!err) {
		Py_DECREF(pk);
		return NULL;
	}
	return Py_BuildValue("(KONN)", (unsigned long long)c->id, ok ? Py_True : Py_False, err, pk);
}

static PyObject *drain_common(CacheObject *self, PyObject *args, PyObject *kwds,
			      PyObject *(*build)(const struct fdpkv_completion *))
{
	static char *kwlist[] = {"max", NULL};
	struct fdpkv_completion *arr = NULL;
	unsigned int max = 0;
	PyObject *list;
	long n, i;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|I:drain", kwlist, &max))
		return NULL;
	if (!self->cache)
		return PyList_New(0);

	Py_BEGIN_ALLOW_THREADS
	n = drain_raw(self, max, &arr);
	Py_END_ALLOW_THREADS
	if (n < 0)
		return native_set_errno((int)n, NULL);

	list = PyList_New(n);
	for (i = 0; i < n; i++) {
		/* On failure keep going: every completion must still be released. */
		if (list) {
			PyObject *t = build(&arr[i]);

			if (t)
				PyList_SET_ITEM(list, i, t);
			else
				Py_CLEAR(list);
		}
		completion_done(&arr[i]);
	}
	free(arr);
	return list;
}

PyDoc_STRVAR(drain_doc,
"drain(max=0) -> list[(id, op, result, status, value_len)]\n\n"
"Take queued completions (all, or at most max), clearing the eventfd when the\n"
"queue empties. result is 0 or the batch's first negative errno; status and\n"
"value_len have one entry per key. Releases the batches' buffers. Returns []\n"
"after close().");

static PyObject *cache_drain(CacheObject *self, PyObject *args, PyObject *kwds)
{
	return drain_common(self, args, kwds, completion_full);
}

PyDoc_STRVAR(drain_lmcache_doc,
"drain_lmcache(max=0) -> list[(id, ok, error, per_key)]\n\n"
"drain() in the shape of LMCache's native connectors: ok is result == 0,\n"
"per_key[i] is status[i] == 0 (for GET: the buffer was filled completely),\n"
"always one bool per key.");

static PyObject *cache_drain_lmcache(CacheObject *self, PyObject *args, PyObject *kwds)
{
	return drain_common(self, args, kwds, completion_lmcache);
}

PyDoc_STRVAR(wait_doc,
"wait(timeout_ms) -> bool\n\n"
"Block (GIL released) until a completion is queued or timeout_ms (>= 0)\n"
"passes. close() waits for a running wait() to return.");

static PyObject *cache_wait(CacheObject *self, PyObject *args)
{
	int timeout, rc = -ESHUTDOWN;

	if (!PyArg_ParseTuple(args, "i:wait", &timeout))
		return NULL;
	if (timeout < 0) {
		PyErr_SetString(PyExc_ValueError, "timeout_ms must be >= 0");
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_wait(self->cache, timeout);
	pthread_rwlock_unlock(&self->rw);
	Py_END_ALLOW_THREADS
	if (rc == -ESHUTDOWN)
		return err_closed();
	if (rc < 0)
		return native_set_errno(rc, NULL);
	return PyBool_FromLong(rc > 0);
}

/* --- unlock / usage / keys / stats (GIL held: no I/O) -------------------- */

PyDoc_STRVAR(unlock_doc,
"unlock(keys)\n\n"
"Drop one lock of each key taken by OP_LOOKUP_LOCK. Unknown or unlocked keys\n"
"are ignored. A no-op after close() (close releases every lock).");

static PyObject *cache_unlock(CacheObject *self, PyObject *keys_in)
{
	struct fdpkv_key *karr;
	PyObject *keys;
	Py_ssize_t n;

	keys = as_tuple(keys_in, "keys");
	if (!keys)
		return NULL;
	n = PyTuple_GET_SIZE(keys);
	if (n == 0 || n > (Py_ssize_t)UINT_MAX) {
		Py_DECREF(keys);
		Py_RETURN_NONE;
	}
	karr = PyMem_Malloc(n * sizeof(*karr));
	if (!karr) {
		Py_DECREF(keys);
		return PyErr_NoMemory();
	}
	if (keys_convert(keys, karr) < 0) {
		PyMem_Free(karr);
		Py_DECREF(keys);
		return NULL;
	}
	/* the cache lock may be held by eviction: never wait for it with the GIL */
	Py_BEGIN_ALLOW_THREADS
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		fdpkv_unlock(self->cache, (unsigned int)n, karr);
	pthread_rwlock_unlock(&self->rw);
	Py_END_ALLOW_THREADS
	PyMem_Free(karr);
	Py_DECREF(keys);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(usage_doc,
"usage() -> dict(bytes_used, bytes_capacity, objects)\n\n"
"Value bytes of live objects, value bytes the cache can hold, object count.");

static PyObject *cache_usage(CacheObject *self, PyObject *unused)
{
	struct fdpkv_usage u;
	int rc = -ESHUTDOWN;

	memset(&u, 0, sizeof(u));
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_usage(self->cache, &u);
	pthread_rwlock_unlock(&self->rw);
	if (rc == -ESHUTDOWN)
		return err_closed();
	if (rc < 0)
		return native_set_errno(rc, NULL);
	return Py_BuildValue("{sKsKsK}", "bytes_used", (unsigned long long)u.bytes_used,
			     "bytes_capacity", (unsigned long long)u.bytes_capacity,
			     "objects", (unsigned long long)u.objects);
}

static int bucket_cb(void *arg, const char *bucket, uint64_t bytes)
{
	PyObject *d = arg, *v;
	int rc;

	v = PyLong_FromUnsignedLongLong(bytes);
	if (!v)
		return -1;
	{
		PyObject *k = PyUnicode_DecodeUTF8(bucket, (Py_ssize_t)strlen(bucket),
						   "surrogateescape");

		if (!k) {
			Py_DECREF(v);
			return -1;
		}
		rc = PyDict_SetItem(d, k, v);
		Py_DECREF(k);
	}
	Py_DECREF(v);
	return rc < 0 ? -1 : 0;
}

PyDoc_STRVAR(usage_by_bucket_doc,
"usage_by_bucket() -> dict[str, int]\n\n"
"Value bytes per cache-salt bucket ('' for keys without a salt).");

static PyObject *cache_usage_by_bucket(CacheObject *self, PyObject *unused)
{
	PyObject *d = PyDict_New();
	int rc = -ESHUTDOWN;

	if (!d)
		return NULL;
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_usage_by_bucket(self->cache, bucket_cb, d);
	pthread_rwlock_unlock(&self->rw);
	if (PyErr_Occurred()) {
		Py_DECREF(d);
		return NULL;
	}
	if (rc == -ESHUTDOWN) {
		Py_DECREF(d);
		return err_closed();
	}
	if (rc < 0) {
		Py_DECREF(d);
		return native_set_errno(rc, NULL);
	}
	return d;
}

/* Append (key, vlen) to the list @arg; key decoded as UTF-8 (surrogateescape). */
static int key_append(PyObject *list, const void *key, uint32_t klen, uint64_t vlen)
{
	PyObject *t = Py_BuildValue("(NK)",
				    PyUnicode_DecodeUTF8(key, klen, "surrogateescape"),
				    (unsigned long long)vlen);
	int rc;

	if (!t)
		return -1;
	rc = PyList_Append(list, t);
	Py_DECREF(t);
	return rc;
}

static int foreach_cb(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	return key_append(arg, key, klen, vlen) < 0 ? -1 : 0;
}

PyDoc_STRVAR(keys_doc,
"keys() -> list[(key, value_len)]\n\n"
"Every live key (e.g. to seed an eviction policy after a restart).");

static PyObject *cache_keys(CacheObject *self, PyObject *unused)
{
	PyObject *list = PyList_New(0);
	int rc = -ESHUTDOWN;

	if (!list)
		return NULL;
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_foreach_key(self->cache, foreach_cb, list);
	pthread_rwlock_unlock(&self->rw);
	if (PyErr_Occurred()) {
		Py_DECREF(list);
		return NULL;
	}
	if (rc == -ESHUTDOWN) {
		Py_DECREF(list);
		return err_closed();
	}
	if (rc < 0) {
		Py_DECREF(list);
		return native_set_errno(rc, NULL);
	}
	return list;
}

/* --- one page of keys, in key-byte order ---------------------------------- */

/* A key copied out of the library's index. */
struct page_key {
	uint64_t vlen;
	uint32_t klen;
	uint8_t key[];
};

/*
 * keys_page() state. The walk runs under the library's lock and without the
 * GIL, so it only copies: it keeps the @want smallest keys after @after in a
 * max-heap (the largest kept is the first to go).
 */
struct page_ctx {
	const uint8_t *after;		/* NULL: from the first key */
	size_t after_len;
	const uint8_t *prefix;		/* NULL: every key */
	size_t prefix_len;
	size_t want;			/* page size + 1: the extra key says "more" */
	size_t n, cap;
	struct page_key **heap;
	int err;
};

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return (alen > blen) - (alen < blen);
}

static int page_key_cmp(const struct page_key *a, const struct page_key *b)
{
	return key_cmp(a->key, a->klen, b->key, b->klen);
}

static void page_sift_down(struct page_ctx *x, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, big = i;
		struct page_key *t;

		if (l < x->n && page_key_cmp(x->heap[l], x->heap[big]) > 0)
			big = l;
		if (r < x->n && page_key_cmp(x->heap[r], x->heap[big]) > 0)
			big = r;
		if (big == i)
			return;
		t = x->heap[i];
		x->heap[i] = x->heap[big];
		x->heap[big] = t;
		i = big;
	}
}

static void page_sift_up(struct page_ctx *x, size_t i)
{
	while (i) {
		size_t up = (i - 1) / 2;
		struct page_key *t;

		if (page_key_cmp(x->heap[i], x->heap[up]) <= 0)
			return;
		t = x->heap[i];
		x->heap[i] = x->heap[up];
		x->heap[up] = t;
		i = up;
	}
}

/* fdpkv_foreach_key callback: no GIL, no Python. */
static int page_cb(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct page_ctx *x = arg;
	struct page_key *k;
	bool replaced = x->n == x->want;

	if (x->prefix && (klen < x->prefix_len || memcmp(key, x->prefix, x->prefix_len)))
		return 0;
	if (x->after && key_cmp(key, klen, x->after, x->after_len) <= 0)
		return 0;
	if (replaced) {
		if (key_cmp(key, klen, x->heap[0]->key, x->heap[0]->klen) >= 0)
			return 0;
		k = realloc(x->heap[0], sizeof(*k) + klen);
		if (!k)
			return x->err = -ENOMEM;
		x->heap[0] = k;
	} else {
		if (x->n == x->cap) {
			size_t cap = x->cap ? 2 * x->cap : 64;
			void *h;

			if (cap > x->want)
				cap = x->want;
			h = realloc(x->heap, cap * sizeof(*x->heap));
			if (!h)
				return x->err = -ENOMEM;
			x->heap = h;
			x->cap = cap;
		}
		k = malloc(sizeof(*k) + klen);
		if (!k)
			return x->err = -ENOMEM;
		x->heap[x->n++] = k;
	}
	k->vlen = vlen;
	k->klen = klen;
	memcpy(k->key, key, klen);
	if (replaced)
		page_sift_down(x, 0);
	else
		page_sift_up(x, x->n - 1);
	return 0;
}

static int page_qsort_cmp(const void *a, const void *b)
{
	return page_key_cmp(*(struct page_key *const *)a, *(struct page_key *const *)b);
}

/* Copy bytes or None from @o into a malloc'd buffer (NULL, 0 for None). Needs the GIL. */
static int bytes_copy(PyObject *o, const char *what, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (o == Py_None)
		return 0;
	if (!PyBytes_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be bytes or None, not %s", what,
			     Py_TYPE(o)->tp_name);
		return -1;
	}
	*len = (size_t)PyBytes_GET_SIZE(o);
	/* a copy: the walk runs without the GIL */
	*out = malloc(*len ? *len : 1);
	if (!*out) {
		PyErr_NoMemory();
		return -1;
	}
	memcpy(*out, PyBytes_AS_STRING(o), *len);
	return 0;
}

PyDoc_STRVAR(keys_page_doc,
"keys_page(after, limit, prefix=None) -> (list[(key, value_len)], more)\n\n"
"Up to limit live keys strictly after the key bytes `after` (bytes, or None\n"
"to start at the first key) that begin with the bytes `prefix` (None: any),\n"
"ordered by their UTF-8 bytes; keys decoded with surrogateescape. `more` is\n"
"True when further such keys exist, so the last key returned is the cursor\n"
"of the next page: a key present during the whole listing is returned exactly\n"
"once whatever is added or removed between calls. The index is walked\n"
"without the GIL (O(keys) per call). limit: 1..65536, else ValueError.");

#define KEYS_PAGE_MAX	65536

static PyObject *cache_keys_page(CacheObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"after", "limit", "prefix", NULL};
	struct page_ctx x;
	PyObject *after_o, *prefix_o = Py_None, *list = NULL, *ret = NULL;
	uint8_t *after = NULL, *prefix = NULL;
	Py_ssize_t limit;
	size_t i, n;
	int rc = -ESHUTDOWN, more;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "On|O:keys_page", kwlist, &after_o, &limit,
					 &prefix_o))
		return NULL;
	if (limit < 1 || limit > KEYS_PAGE_MAX) {
		PyErr_Format(PyExc_ValueError, "limit must be 1..%d, got %zd", KEYS_PAGE_MAX,
			     limit);
		return NULL;
	}
	memset(&x, 0, sizeof(x));
	if (bytes_copy(after_o, "after", &after, &x.after_len) < 0 ||
	    bytes_copy(prefix_o, "prefix", &prefix, &x.prefix_len) < 0)
		goto out;
	x.after = after;
	x.prefix = prefix;
	x.want = (size_t)limit + 1;

	Py_BEGIN_ALLOW_THREADS
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_foreach_key(self->cache, page_cb, &x);
	pthread_rwlock_unlock(&self->rw);
	if (rc >= 0 && x.n > 1)
		qsort(x.heap, x.n, sizeof(*x.heap), page_qsort_cmp);
	Py_END_ALLOW_THREADS

	if (rc == -ESHUTDOWN) {
		err_closed();
		goto out;
	}
	if (rc < 0) {
		native_set_errno(x.err ? x.err : rc, NULL);
		goto out;
	}
	more = x.n == x.want;
	n = more ? x.n - 1 : x.n;
	list = PyList_New((Py_ssize_t)n);
	if (!list)
		goto out;
	for (i = 0; i < n; i++) {
		PyObject *t = Py_BuildValue("(NK)",
					    PyUnicode_DecodeUTF8((const char *)x.heap[i]->key,
								 x.heap[i]->klen, "surrogateescape"),
					    (unsigned long long)x.heap[i]->vlen);

		if (!t)
			goto out;
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	ret = Py_BuildValue("(OO)", list, more ? Py_True : Py_False);
out:
	Py_XDECREF(list);
	for (i = 0; i < x.n; i++)
		free(x.heap[i]);
	free(x.heap);
	free(after);
	free(prefix);
	return ret;
}

/*
 * Evicted keys are collected without the GIL (fdpkv_take_evicted takes the
 * cache lock, which eviction may hold: no Python thread may wait for that),
 * then turned into Python objects.
 */
struct evicted_key {
	struct evicted_key *next;
	uint64_t vlen;
	uint32_t klen;
	uint8_t key[];
};

struct evicted_ctx {
	struct evicted_key *head, **tail;
	size_t n;
	int failed;
};

static void evicted_cb(void *arg, const void *key, uint32_t klen, uint64_t vlen)
{
	struct evicted_ctx *ctx = arg;
	struct evicted_key *e = malloc(sizeof(*e) + klen);

	/* The library forgets reported keys: keep the others after a failure. */
	if (!e) {
		ctx->failed = 1;
		return;
	}
	e->next = NULL;
	e->vlen = vlen;
	e->klen = klen;
	memcpy(e->key, key, klen);
	*ctx->tail = e;
	ctx->tail = &e->next;
	ctx->n++;
}

PyDoc_STRVAR(take_evicted_doc,
"take_evicted() -> list[(key, value_len)]\n\n"
"Keys the cache evicted by itself since the last call (then forgotten).\n"
"Returns [] after close().");

static PyObject *cache_take_evicted(CacheObject *self, PyObject *unused)
{
	struct evicted_ctx ctx = { NULL, NULL, 0, 0 };
	struct evicted_key *e, *next;
	PyObject *list;
	int rc = 0;

	ctx.tail = &ctx.head;
	Py_BEGIN_ALLOW_THREADS
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_take_evicted(self->cache, evicted_cb, &ctx);
	pthread_rwlock_unlock(&self->rw);
	Py_END_ALLOW_THREADS
	list = rc < 0 || ctx.failed ? NULL : PyList_New(0);
	for (e = ctx.head; e; e = next) {
		next = e->next;
		if (list && key_append(list, e->key, e->klen, e->vlen) < 0)
			Py_CLEAR(list);
		free(e);
	}
	if (rc < 0)
		return native_set_errno(rc, NULL);
	if (ctx.failed)
		return PyErr_NoMemory();
	return list;
}

PyDoc_STRVAR(register_arena_doc,
"register_arena(address, size) -> int\n\n"
"Register size bytes of memory at address (e.g. LMCache's L1 arena) so that\n"
"values inside it move between device and memory without a copy, through\n"
"io_uring fixed buffers (fdpkv_register_arena). The memory is pinned until\n"
"unregister_arena() or close(). Returns the arena id; raises OSError with the\n"
"library's errno (EEXIST overlap, ENOSPC too many, ENOMEM cannot pin).");

static PyObject *cache_register_arena(CacheObject *self, PyObject *args)
{
	unsigned long long addr, size;
	int rc = -ESHUTDOWN;

	if (!PyArg_ParseTuple(args, "KK:register_arena", &addr, &size))
		return NULL;
	if (!addr || !size || addr > UINTPTR_MAX || size > SIZE_MAX) {
		PyErr_Format(PyExc_ValueError,
			     "register_arena: address and size must be non-zero and fit a pointer");
		return NULL;
	}
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache) {
		/* pinning many GiB takes a while: let other threads run */
		Py_BEGIN_ALLOW_THREADS
		rc = fdpkv_register_arena(self->cache, (void *)(uintptr_t)addr, (size_t)size);
		Py_END_ALLOW_THREADS
	}
	pthread_rwlock_unlock(&self->rw);
	if (rc == -ESHUTDOWN)
		return err_closed();
	if (rc < 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "register_arena: %s", strerror(-rc));
		return native_set_errno(rc, msg);
	}
	return PyLong_FromLong(rc);
}

PyDoc_STRVAR(unregister_arena_doc,
"unregister_arena(id)\n\n"
"Unpin an arena. Raises OSError(EBUSY) while an operation using it is in\n"
"flight, OSError(ENOENT) for an unknown id.");

static PyObject *cache_unregister_arena(CacheObject *self, PyObject *args)
{
	int id, rc = -ESHUTDOWN;

	if (!PyArg_ParseTuple(args, "i:unregister_arena", &id))
		return NULL;
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache)
		rc = fdpkv_unregister_arena(self->cache, id);
	pthread_rwlock_unlock(&self->rw);
	if (rc == -ESHUTDOWN)
		return err_closed();
	if (rc < 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "unregister_arena: %s", strerror(-rc));
		return native_set_errno(rc, msg);
	}
	Py_RETURN_NONE;
}

PyDoc_STRVAR(stats_doc, "stats() -> dict\n\nThe library's counters (struct fdpkv_stats).");

static PyObject *cache_stats(CacheObject *self, PyObject *unused)
{
	struct fdpkv_stats s;
	PyObject *d, *classes, *fixed;
	unsigned int i;
	int rc = -ESHUTDOWN;
	bool fixed_all = true;

	memset(&s, 0, sizeof(s));
	pthread_rwlock_rdlock(&self->rw);
	if (self->cache) {
		struct fdpkv_device_stats ds;

		rc = fdpkv_stats(self->cache, &s);
		/* arena values go as fixed buffers to every device (see fdpkv.h) */
		for (i = 0; fdpkv_device_stats(self->cache, i, &ds) == 0; i++)
			fixed_all = fixed_all && ds.fixed_buffers;
	}
	pthread_rwlock_unlock(&self->rw);
	if (rc == -ESHUTDOWN)
		return err_closed();
	if (rc < 0)
		return native_set_errno(rc, NULL);

#define U(f) #f, (unsigned long long)s.f
	d = Py_BuildValue("{sKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsK}",
			  U(hits), U(misses), U(sets), U(gets), U(exists), U(deletes),
			  U(bytes_written), U(bytes_read), U(evicted_segments),
			  U(evicted_objects), U(reinserted_objects), U(io_errors),
			  U(corrupt_objects), U(inflight_ops), U(inflight_cmds),
			  U(segments_total), U(segments_free), U(index_entries), U(index_bytes),
			  U(direct_bytes), U(fixed_cmds));
#undef U
	if (!d)
		return NULL;
	fixed = PyBool_FromLong(fixed_all);
	if (PyDict_SetItemString(d, "fixed_buffers", fixed) < 0) {
		Py_DECREF(fixed);
		Py_DECREF(d);
		return NULL;
	}
	Py_DECREF(fixed);
	if (s.nclasses > FDPKV_MAX_CLASSES)
		s.nclasses = FDPKV_MAX_CLASSES;
	classes = PyList_New(s.nclasses);
	if (!classes) {
		Py_DECREF(d);
		return NULL;
	}
	for (i = 0; i < s.nclasses; i++) {
		PyObject *t = Py_BuildValue("{sisK}", "placement_id",
					    (int)s.classes[i].placement_id, "bytes_written",
					    (unsigned long long)s.classes[i].bytes_written);

		if (!t) {
			Py_DECREF(classes);
			Py_DECREF(d);
			return NULL;
		}
		PyList_SET_ITEM(classes, i, t);
	}
	if (PyDict_SetItemString(d, "classes", classes) < 0) {
		Py_DECREF(classes);
		Py_DECREF(d);
		return NULL;
	}
	Py_DECREF(classes);
	return d;
}

PyDoc_STRVAR(placement_doc,
"placement() -> list[dict]\n\n"
"Per device, the class -> placement id map (fdpkv_placement_report): fdp,\n"
"handles, shared_handles, shared_classes and classes, a list of\n"
"{placement_id, sharing} (sharing: how many other classes write through the\n"
"same placement id). shared_classes > 0 means classes were folded onto one\n"
"handle because the device had fewer handles than classes.");

static PyObject *placement_dict(const struct fdpkv_placement_report *r)
{
	PyObject *d, *classes;
	unsigned int i;

	classes = PyList_New(r->nclasses);
	if (!classes)
		return NULL;
	for (i = 0; i < r->nclasses; i++) {
		PyObject *t = Py_BuildValue("{sisi}", "placement_id",
					    (int)r->classes[i].placement_id, "sharing",
					    (int)r->classes[i].sharing);

		if (!t) {
			Py_DECREF(classes);
			return NULL;
		}
		PyList_SET_ITEM(classes, i, t);
	}
	d = Py_BuildValue("{sOsIsIsIsN}", "fdp", r->fdp ? Py_True : Py_False,
			  "handles", r->handles, "shared_handles", r->shared_handles,
			  "shared_classes", r->shared_classes, "classes", classes);
	return d;
}

static PyObject *cache_placement(CacheObject *self, PyObject *unused)
{
	struct fdpkv_placement_report r[FDPKV_MAX_DEVICES];
	PyObject *list;
	unsigned int n = 0, i;
	int rc = 0;

	pthread_rwlock_rdlock(&self->rw);
	if (!self->cache)
		rc = -ESHUTDOWN;
	/* -EINVAL past the last device: the library keeps the count */
	while (!rc && n < FDPKV_MAX_DEVICES && !fdpkv_placement_report(self->cache, n, &r[n]))
		n++;
	pthread_rwlock_unlock(&self->rw);
	if (rc == -ESHUTDOWN)
		return err_closed();
	list = PyList_New(n);
	if (!list)
		return NULL;
	for (i = 0; i < n; i++) {
		PyObject *d = placement_dict(&r[i]);

		if (!d) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, d);
	}
	return list;
}

/* --- type ---------------------------------------------------------------- */

static PyMethodDef cache_methods[] = {
	{"event_fd", (PyCFunction)cache_event_fd, METH_NOARGS, event_fd_doc},
	{"submit", (PyCFunction)(void (*)(void))cache_submit, METH_VARARGS | METH_KEYWORDS,
	 submit_doc},
	{"drain", (PyCFunction)(void (*)(void))cache_drain, METH_VARARGS | METH_KEYWORDS,
	 drain_doc},
	{"drain_lmcache", (PyCFunction)(void (*)(void))cache_drain_lmcache,
	 METH_VARARGS | METH_KEYWORDS, drain_lmcache_doc},
	{"wait", (PyCFunction)cache_wait, METH_VARARGS, wait_doc},
	{"unlock", (PyCFunction)cache_unlock, METH_O, unlock_doc},
	{"usage", (PyCFunction)cache_usage, METH_NOARGS, usage_doc},
	{"usage_by_bucket", (PyCFunction)cache_usage_by_bucket, METH_NOARGS,
	 usage_by_bucket_doc},
	{"keys", (PyCFunction)cache_keys, METH_NOARGS, keys_doc},
	{"keys_page", (PyCFunction)(void (*)(void))cache_keys_page, METH_VARARGS | METH_KEYWORDS,
	 keys_page_doc},
	{"foreach_key", (PyCFunction)cache_keys, METH_NOARGS, keys_doc},
	{"take_evicted", (PyCFunction)cache_take_evicted, METH_NOARGS, take_evicted_doc},
	{"stats", (PyCFunction)cache_stats, METH_NOARGS, stats_doc},
	{"register_arena", (PyCFunction)cache_register_arena, METH_VARARGS, register_arena_doc},
	{"unregister_arena", (PyCFunction)cache_unregister_arena, METH_VARARGS,
	 unregister_arena_doc},
	{"placement", (PyCFunction)cache_placement, METH_NOARGS, placement_doc},
	{"close", (PyCFunction)cache_close, METH_NOARGS, close_doc},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef cache_getset[] = {
	{"closed", (getter)cache_get_closed, NULL, "True once close() has run.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(cache_doc,
"Cache(params: dict[str, str | list[str]])\n\n"
"Open (and per 'format' create) a libfdpkv cache. Every item becomes an\n"
"fdpkv_config_set(key, value) call; a list value repeats the key (device).\n"
"Unknown keys and bad values raise ValueError naming them; open failures\n"
"raise OSError with the library's reason.");

static PyType_Slot cache_slots[] = {
	{Py_tp_new, cache_new},
	{Py_tp_dealloc, cache_dealloc},
	{Py_tp_methods, cache_methods},
	{Py_tp_getset, cache_getset},
	{Py_tp_doc, (void *)cache_doc},
	{0, NULL},
};

static PyType_Spec cache_spec = {
	.name = "fdpkv_lmcache._native.Cache",
	.basicsize = sizeof(CacheObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = cache_slots,
};

PyTypeObject *native_cache_type_new(PyObject *module)
{
	return (PyTypeObject *)PyType_FromModuleAndSpec(module, &cache_spec, NULL);
}
