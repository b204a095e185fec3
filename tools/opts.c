// SPDX-License-Identifier: GPL-2.0
/*
 * Option parsing for fdpkvctl: each subcommand describes its options in a
 * table (struct opt); opts_parse() turns it into getopt_long's tables, fills
 * the config struct, and handles -h/--help and the one positional argument.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "fdpkvctl.h"

#define MAX_OPTS 32

void opts_usage(FILE *f, const struct cmd_spec *spec)
{
	const struct opt *o;
	char left[64];

	fprintf(f, "usage: %s %s%s%s [options]\n", PROG, spec->name,
		spec->positional ? " " : "", spec->positional ? spec->positional : "");
	if (f == stdout && spec->desc)
		fprintf(f, "\n%s\n", spec->desc);
	fprintf(f, "\noptions:\n");
	for (o = spec->opts; o && o->lname; o++) {
		if (o->sname)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->sname, o->lname,
				 o->type == OPT_FLAG ? "" : "=", o->type == OPT_FLAG ? "" : o->arg);
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->lname,
				 o->type == OPT_FLAG ? "" : "=", o->type == OPT_FLAG ? "" : o->arg);
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
	fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;
	unsigned long long x;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return -1;
	*v = x;
	return 0;
}

int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 0: break;
	default: return -1;
	}
	if (*end) {
		end++;
		if (toupper((unsigned char)*end) == 'I')	/* KiB, MiB... */
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && x > (UINT64_MAX >> shift))
		return -1;
	*v = (uint64_t)x << shift;
	return 0;
}

int parse_u16_list(const char *s, uint16_t *out, int max)
{
	char buf[1024], *tok, *save = NULL;
	unsigned long long v;
	int n = 0;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n >= max || parse_uint(tok, 0xffff, &v))
			return -1;
		out[n++] = (uint16_t)v;
	}
	return n ? n : -1;
}

static int opt_store(const struct opt *o, const char *arg, const struct cmd_spec *spec)
{
	unsigned long long v;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)o->ptr = true;
		return 0;
	case OPT_STR:
		*(const char **)o->ptr = arg;
		return 0;
	case OPT_UINT:
		if (parse_uint(arg, UINT32_MAX, &v))
			break;
		*(unsigned int *)o->ptr = (unsigned int)v;
		return 0;
	case OPT_SIZE:
		if (parse_size(arg, (uint64_t *)o->ptr))
			break;
		return 0;
	}
	fprintf(stderr, "%s %s: invalid value '%s' for --%s\n", PROG, spec->name, arg, o->lname);
	return -1;
}

int opts_parse(int argc, char **argv, const struct cmd_spec *spec, const char **pos)
{
	struct option lopts[MAX_OPTS + 2];
	char sopts[3 * MAX_OPTS + 4] = ":h";
	const struct opt *o;
	int n = 0, c, idx;
	size_t sl = strlen(sopts);

	for (o = spec->opts; o && o->lname && n < MAX_OPTS; o++, n++) {
		lopts[n] = (struct option){ o->lname,
			o->type == OPT_FLAG ? no_argument : required_argument, NULL, 0x100 + n };
		if (o->sname) {
			sopts[sl++] = o->sname;
			if (o->type != OPT_FLAG)
				sopts[sl++] = ':';
		}
	}
	sopts[sl] = 0;
	lopts[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n + 1] = (struct option){ NULL, 0, NULL, 0 };

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, &idx)) != -1) {
		const struct opt *hit = NULL;

		if (c == 'h') {
			opts_usage(stdout, spec);
			return 1;
		}
		if (c == '?' || c == ':') {
			if (optopt && optopt < 0x100)
				fprintf(stderr, "%s %s: %s option -%c\n", PROG, spec->name,
					c == ':' ? "missing argument for" : "unknown", optopt);
			else
				fprintf(stderr, "%s %s: %s '%s'\n", PROG, spec->name,
					c == ':' ? "missing argument for" : "unknown option",
					argv[optind - 1]);
			goto usage;
		}
		if (c >= 0x100)
			hit = &spec->opts[c - 0x100];
		else
			for (o = spec->opts; o && o->lname; o++)
				if (o->sname == c)
					hit = o;
		if (!hit || opt_store(hit, optarg, spec))
			goto usage;
	}
	if (spec->positional) {
		if (optind >= argc) {
			fprintf(stderr, "%s %s: missing %s\n", PROG, spec->name, spec->positional);
			goto usage;
		}
		*pos = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "%s %s: unexpected argument '%s'\n", PROG, spec->name, argv[optind]);
		goto usage;
	}
	return 0;
usage:
	opts_usage(stderr, spec);
	return -1;
}
