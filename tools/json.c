// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny streaming JSON writer for fdpkvctl's -o json: objects, arrays,
 * strings (escaped), integers up to 128 bits, doubles, booleans and null,
 * indented two spaces a level. Keys are NULL inside arrays and at the top.
 */
#include <math.h>
#include <string.h>

#include "fdpkvctl.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* comma, newline, indent and "key": for the next value */
static void prefix(struct json *j, const char *key)
{
	int i;

	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->f);
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	j->first[j->depth] = false;
	if (key) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_nest(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth < (int)(sizeof(j->first) / sizeof(j->first[0])) - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_nest(struct json *j, char c)
{
	bool empty = j->first[j->depth];
	int i;

	if (j->depth > 0)
		j->depth--;
	if (!empty) {
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
}

void json_obj_open(struct json *j, const char *key) { open_nest(j, key, '{'); }
void json_obj_close(struct json *j) { close_nest(j, '}'); }
void json_arr_open(struct json *j, const char *key) { open_nest(j, key, '['); }
void json_arr_close(struct json *j) { close_nest(j, ']'); }

void json_str(struct json *j, const char *key, const char *v)
{
	prefix(j, key);
	if (v)
		put_string(j->f, v);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_u128(struct json *j, const char *key, u128 v)
{
	char buf[48];

	prefix(j, key);
	fputs(u128_str(v, buf, sizeof(buf)), j->f);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_double(struct json *j, const char *key, double v, int prec)
{
	prefix(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.*f", prec, v);
	else
		fputs("null", j->f);
}

void json_null(struct json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

const char *u128_str(u128 v, char *buf, size_t len)
{
	char tmp[48];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && i < (int)sizeof(tmp));
	if ((size_t)i >= len)
		i = (int)len - 1;
	for (int k = 0; k < i; k++)
		buf[k] = tmp[i - 1 - k];
	buf[i] = 0;
	return buf;
}

int u128_parse(const char *s, u128 *v)
{
	u128 x = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (x > (~(u128)0 - 9) / 10)
			return -1;
		x = x * 10 + (u128)(*s - '0');
	}
	*v = x;
	return 0;
}
