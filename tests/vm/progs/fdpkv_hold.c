// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_hold - take N placement handles and a lease of fdpkv namespace NS,
 * print "held", and keep them until killed. For tests of the tools.
 *
 * usage: fdpkv_hold NS N SLBA NLB
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdpkvio.h"

int main(int argc, char **argv)
{
	uint32_t ns = argc > 1 ? atoi(argv[1]) : 0, n = argc > 2 ? atoi(argv[2]) : 2;
	uint64_t slba = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	uint64_t nlb = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;
	int fd = open("/dev/fdpkv", O_RDWR);

	if (fd < 0 || fdpkv_ph_alloc(fd, ns, n, 0, NULL) || fdpkv_lease(fd, ns, slba, nlb, NULL)) {
		perror("fdpkv_hold");
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}
