// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkvctl - the fdpkv admin tool: main() and the one command table.
 * Every subcommand lives in a cmd_*.c file; see fdpkvctl.8.
 */
#include <string.h>

#include "fdpkvctl.h"

#define VERSION "0.1.0"

static const struct cmd commands[] = {
	{ "list", "list NVMe namespaces, their FDP state, LBA size and capacity", cmd_list },
	{ "info", "FDP configurations, handles, LBA format and capacity of a namespace", cmd_info },
	{ "ruh-status", "reclaim unit handle status of every placement identifier", cmd_ruh_status },
	{ "ruh-update", "move placement identifiers' handles to empty reclaim units", cmd_ruh_update },
	{ "stats", "FDP statistics (HBMW, MBMW, MBE) and the WAF they imply", cmd_stats },
	{ "events", "FDP events log, decoded; --enable turns event logging on", cmd_events },
	{ "provision", "plan or run FDP provisioning of a controller (needs --force)", cmd_provision },
	{ "format", "format an fdpkv cache on device URIs (libfdpkv)", cmd_format },
	{ "fsck", "verify superblocks, object headers and values; --repair drops damage", cmd_fsck },
	{ "dump", "list the keys of a cache with their value sizes", cmd_dump },
	{ "bench", "workload generator: throughput, latency percentiles, WAF", cmd_bench },
	{ "attach", "attach an FDP namespace to the fdpkv kernel module", cmd_attach },
	{ "detach", "detach a namespace from the fdpkv kernel module", cmd_detach },
	{ "grants", "namespaces, handle grants and leases of the fdpkv module, counters", cmd_grants },
	{ "policy", "show or set a module namespace's quotas per file and per uid", cmd_policy },
	{ "share", "make placement handles or an LBA extent shareable between tenants", cmd_share },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	const struct cmd *c;

	fprintf(f, "usage: %s <command> [args] [options]\n\ncommands:\n", PROG);
	for (c = commands; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "  %-12s %s\n", "help", "show this list");
	fprintf(f, "  %-12s %s\n", "version", "show the version");
	fprintf(f, "\nEach command takes --help and -o normal|json. See fdpkvctl(8).\n");
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", PROG, VERSION);
		return 0;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1, c) ? 1 : 0;
	fprintf(stderr, "%s: unknown command '%s'\n", PROG, argv[1]);
	usage(stderr);
	return 1;
}
