/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the in-VM tests for /dev/fdpkv: ioctls return 0 or -errno,
 * passthrough commands 0, a positive NVMe status or -errno (like cqe->res).
 */
#ifndef FDPKV_TEST_FDPKVIO_H
#define FDPKV_TEST_FDPKVIO_H

#include <liburing.h>
#include <stdint.h>
#include <uapi/fdpkv.h>

int fdpkv_ioc(int fd, unsigned long cmd, void *arg);
int fdpkv_attach(int fd, const char *path, struct fdpkv_ns_attach *a);
int fdpkv_ph_alloc(int fd, uint32_t ns, uint32_t count, uint32_t flags, uint16_t *pids);
int fdpkv_lease(int fd, uint32_t ns, uint64_t slba, uint64_t nlb, uint32_t *id);
/* fill the 128-byte SQE for an FDPKV_URING_CMD_IO */
void fdpkv_prep_io(struct io_uring_sqe *sqe, int fd, uint32_t ns, uint8_t opcode, uint32_t nsid,
		   void *buf, uint32_t len, const uint32_t cdw[6]);
int fdpkv_io(struct io_uring *ring, int fd, uint32_t ns, uint8_t opcode, uint32_t nsid,
	     void *buf, uint32_t len, const uint32_t cdw[6]);
/* placement write / read of nlb blocks at slba */
void fdpkv_rw_cdw(uint32_t cdw[6], uint64_t slba, uint32_t nlb, int pid);
/* RUAMW of every placement id (indexed by position in RUH Status) */
int fdpkv_ruamw(struct io_uring *ring, int fd, uint32_t ns, uint32_t nsid, uint64_t *ruamw,
		uint16_t *pids, int max);

#endif
