/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NVMe helpers for the in-VM tests: admin commands by ioctl, I/O commands by
 * io_uring uring_cmd on a /dev/ngXnY node. Return 0, a positive NVMe status,
 * or a negative errno, as the kernel's passthrough does.
 */
#ifndef FDPKV_NVMEIO_H
#define FDPKV_NVMEIO_H

#include <liburing.h>
#include <stdint.h>

#define NVME_OPC_WRITE		0x01
#define NVME_OPC_READ		0x02
#define NVME_OPC_IO_MGMT_RECV	0x12
#define NVME_OPC_IO_MGMT_SEND	0x1d

struct ruh_desc {
	uint16_t pid;
	uint16_t ruhid;
	uint64_t ruamw;
};

int nvme_ring_init(struct io_uring *ring, unsigned int entries);
/* one synchronous uring_cmd; cdw[0..5] are CDW10..CDW15 */
int nvme_uring_io(struct io_uring *ring, int fd, uint32_t cmd_op, uint8_t opcode,
		  uint32_t nsid, void *buf, uint32_t len, const uint32_t cdw[6]);
/* the same through /dev/fdpkv (cmd_op FDPKV_URING_CMD_IO) on fdpkv namespace @fdpkv_ns */
int nvme_uring_io_ns(struct io_uring *ring, int fd, uint32_t cmd_op, uint32_t fdpkv_ns,
		     uint8_t opcode, uint32_t nsid, void *buf, uint32_t len, const uint32_t cdw[6]);
int nvme_identify_ns_lba(int fd, uint32_t nsid, uint32_t *lba_size, uint64_t *nsze);
/* RUH Status through I/O Management Receive; returns the descriptor count */
int nvme_ruh_status(struct io_uring *ring, int fd, uint32_t cmd_op, uint32_t nsid,
		    struct ruh_desc *d, int max);
int nvme_ruh_status_ns(struct io_uring *ring, int fd, uint32_t cmd_op, uint32_t fdpkv_ns,
		       uint32_t nsid, struct ruh_desc *d, int max);
void *nvme_alloc(size_t len);

#endif
