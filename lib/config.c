// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * config.c - defaults and "key=value" parsing of struct fdpkv_config.
 * Every refusal names the key, because the message ends up in a log line of
 * a process that was configured from JSON far away.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void fdpkv_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Two copy workers keep a 2-core machine's second core busy; more would
 * only take cores from the caller (fdpkv_config: copy_threads). */
static unsigned int copy_threads_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (unsigned int)MIN(n, 2);
}

FDPKV_PUBLIC void fdpkv_config_init(struct fdpkv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_size = sizeof(*cfg);
	cfg->queue_depth = FDPKV_DEFAULT_QD;
	cfg->durability = FDPKV_DURABILITY_NONE;
	/* a cache is a cache: create it on first use unless told otherwise */
	cfg->format = FDPKV_FORMAT_AUTO;
	cfg->placement_by_salt = true;
	cfg->salt_separator = ':';
	cfg->max_classes = FDPKV_DEFAULT_CLASSES;
	cfg->free_segments_low = FDPKV_DEFAULT_FREE_LOW;
	cfg->reinsert = false;
	cfg->dealloc_zeroes = FDPKV_DEALLOC_ZEROES_AUTO;
	cfg->copy_threads = copy_threads_default();
	cfg->copy_piece_bytes = FDPKV_DEFAULT_COPY_PIECE;
	cfg->report_evicted = true;
}

static int parse_size(const char *v, uint64_t *out)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	if (!*v || !isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	if (shift && n > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)n << shift;
	return 0;
}

static int parse_uint(const char *v, unsigned int lo, unsigned int hi, unsigned int *out)
{
	unsigned long n;
	char *end;

	if (!*v || !isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int add_device(struct fdpkv_config *cfg, const char *uri, size_t len, char *err,
		      size_t errlen, const char *key)
{
	if (len == 0) {
		fdpkv_seterr(err, errlen, "%s: empty device URI", key);
		return -EINVAL;
	}
	if (cfg->ndevices >= FDPKV_MAX_DEVICES) {
		fdpkv_seterr(err, errlen, "%s: more than %d devices", key, FDPKV_MAX_DEVICES);
		return -EINVAL;
	}
	if (len >= sizeof(cfg->devices[0])) {
		fdpkv_seterr(err, errlen, "%s: URI longer than %zu bytes", key,
			     sizeof(cfg->devices[0]) - 1);
		return -EINVAL;
	}
	memcpy(cfg->devices[cfg->ndevices], uri, len);
	cfg->devices[cfg->ndevices][len] = '\0';
	cfg->ndevices++;
	return 0;
}

FDPKV_PUBLIC int fdpkv_config_set(struct fdpkv_config *cfg, const char *key, const char *value,
				  char *err, size_t errlen)
{
	unsigned int u;
	int ret = 0;

	if (!cfg || !key || !value) {
		fdpkv_seterr(err, errlen, "config: missing key or value");
		return -EINVAL;
	}
	if (!strcmp(key, "device")) {
		return add_device(cfg, value, strlen(value), err, errlen, key);
	} else if (!strcmp(key, "devices")) {
		const char *p = value;

		cfg->ndevices = 0;
		while (*p) {
			size_t n = strcspn(p, ",;");

			if (n) {
				ret = add_device(cfg, p, n, err, errlen, key);
				if (ret)
					return ret;
			}
			p += n;
			if (*p)
				p++;
		}
		if (!cfg->ndevices) {
			fdpkv_seterr(err, errlen, "devices: empty list");
			return -EINVAL;
		}
		return 0;
	} else if (!strcmp(key, "capacity")) {
		ret = parse_size(value, &cfg->capacity_bytes);
	} else if (!strcmp(key, "segment_size")) {
		uint64_t v;

		ret = parse_size(value, &v);
		if (!ret && v && (v < 4096 || v % 4096))
			ret = -EINVAL;
		if (!ret)
			cfg->segment_bytes = v;
	} else if (!strcmp(key, "queue_depth")) {
		ret = parse_uint(value, 1, 4096, &cfg->queue_depth);
	} else if (!strcmp(key, "durability")) {
		if (!strcmp(value, "none"))
			cfg->durability = FDPKV_DURABILITY_NONE;
		else if (!strcmp(value, "flush"))
			cfg->durability = FDPKV_DURABILITY_FLUSH;
		else if (!strcmp(value, "fua"))
			cfg->durability = FDPKV_DURABILITY_FUA;
		else
			ret = -EINVAL;
	} else if (!strcmp(key, "format")) {
		if (!strcmp(value, "never"))
			cfg->format = FDPKV_FORMAT_NEVER;
		else if (!strcmp(value, "auto"))
			cfg->format = FDPKV_FORMAT_AUTO;
		else if (!strcmp(value, "always"))
			cfg->format = FDPKV_FORMAT_ALWAYS;
		else
			ret = -EINVAL;
	} else if (!strcmp(key, "placement")) {
		if (!strcmp(value, "salt"))
			cfg->placement_by_salt = true;
		else if (!strcmp(value, "none"))
			cfg->placement_by_salt = false;
		else
			ret = -EINVAL;
	} else if (!strcmp(key, "salt_separator")) {
		if (strlen(value) != 1 || value[0] == '@')
			ret = -EINVAL;
		else
			cfg->salt_separator = value[0];
	} else if (!strcmp(key, "max_classes")) {
		ret = parse_uint(value, 1, FDPKV_MAX_CLASSES - FDPKV_CLASS_DATA0, &u);
		if (!ret)
			cfg->max_classes = u;
	} else if (!strcmp(key, "free_segments_low")) {
		ret = parse_uint(value, 1, 1u << 20, &cfg->free_segments_low);
	} else if (!strcmp(key, "reinsert")) {
		ret = parse_bool(value, &cfg->reinsert);
	} else if (!strcmp(key, "report_evicted")) {
		ret = parse_bool(value, &cfg->report_evicted);
	} else if (!strcmp(key, "copy_threads")) {
		ret = parse_uint(value, 0, FDPKV_MAX_COPY_THREADS, &cfg->copy_threads);
	} else if (!strcmp(key, "copy_piece")) {
		uint64_t v;

		ret = parse_size(value, &v);
		if (!ret && (v < 4096 || v % 4096 || v > FDPKV_MAX_COPY_PIECE))
			ret = -EINVAL;
		if (!ret)
			cfg->copy_piece_bytes = v;
	} else if (!strcmp(key, "dealloc_zeroes")) {
		if (!strcmp(value, "auto"))
			cfg->dealloc_zeroes = FDPKV_DEALLOC_ZEROES_AUTO;
		else if (!strcmp(value, "yes"))
			cfg->dealloc_zeroes = FDPKV_DEALLOC_ZEROES_YES;
		else if (!strcmp(value, "no"))
			cfg->dealloc_zeroes = FDPKV_DEALLOC_ZEROES_NO;
		else
			ret = -EINVAL;
	} else {
		fdpkv_seterr(err, errlen, "%s: unknown configuration key", key);
		return -ENOENT;
	}
	if (ret && !strcmp(key, "dealloc_zeroes"))
		fdpkv_seterr(err, errlen, "%s: bad value '%s' (auto, yes or no)", key, value);
	else if (ret)
		fdpkv_seterr(err, errlen, "%s: bad value '%s'", key, value);
	return ret;
}

FDPKV_PUBLIC int fdpkv_config_parse(struct fdpkv_config *cfg, const char *kv, char *err,
				    size_t errlen)
{
	const char *p = kv;
	char key[64], *val;
	int ret;

	if (!cfg || !kv) {
		fdpkv_seterr(err, errlen, "config: nothing to parse");
		return -EINVAL;
	}
	while (*p) {
		size_t n = strcspn(p, " \t\n,"), klen;
		const char *eq;

		if (n == 0) {
			p++;
			continue;
		}
		eq = memchr(p, '=', n);
		if (!eq) {
			fdpkv_seterr(err, errlen, "%.*s: expected key=value", (int)MIN(n, 64), p);
			return -EINVAL;
		}
		klen = (size_t)(eq - p);
		if (klen == 0 || klen >= sizeof(key)) {
			fdpkv_seterr(err, errlen, "%.*s: bad key", (int)MIN(n, 64), p);
			return -EINVAL;
		}
		memcpy(key, p, klen);
		key[klen] = '\0';
		val = strndup(eq + 1, n - klen - 1);
		if (!val)
			return -ENOMEM;
		ret = fdpkv_config_set(cfg, key, val, err, errlen);
		free(val);
		if (ret)
			return ret;
		p += n;
	}
	return 0;
}
