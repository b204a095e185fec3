// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_ng_encode - NVMe passthrough encoding (the ng backend runs in the VM only). */
#include <errno.h>
#include <linux/nvme_ioctl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "internal.h"

static void test_write_fdp(void **state)
{
	struct nvme_uring_cmd c;
	char buf[8192];

	(void)state;
	assert_int_equal(ng_encode_rw(&c, true, 1, 12, 5ull << 32 << 12, 8192, buf, true, 7, false), 0);
	assert_int_equal(c.opcode, 0x01);
	assert_int_equal(c.nsid, 1);
	assert_int_equal(c.cdw10, 0);
	assert_int_equal(c.cdw11, 5);
	assert_int_equal(c.cdw12 & 0xffff, 1);		/* 2 LBAs, 0's based */
	assert_int_equal((c.cdw12 >> 20) & 0xf, 2);	/* DTYPE = data placement */
	assert_int_equal(c.cdw13 >> 16, 7);		/* DSPEC = placement id */
	assert_int_equal(c.cdw12 >> 30 & 1, 0);
	assert_true(c.addr == (uint64_t)(uintptr_t)buf);
	assert_int_equal(c.data_len, 8192);
	assert_int_equal(ng_encode_rw(&c, true, 1, 12, 0, 4096, buf, true, 3, true), 0);
	assert_int_equal(c.cdw12 >> 30 & 1, 1);		/* FUA */
}

static void test_read_and_refusals(void **state)
{
	struct nvme_uring_cmd c;
	char buf[4096];

	(void)state;
	assert_int_equal(ng_encode_rw(&c, false, 2, 9, 1024, 512, buf, true, 7, false), 0);
	assert_int_equal(c.opcode, 0x02);
	assert_int_equal(c.cdw10, 2);
	assert_int_equal(c.cdw12, 0);			/* no directive on reads */
	assert_int_equal(c.cdw13, 0);
	assert_int_equal(ng_encode_rw(&c, false, 2, 12, 100, 4096, buf, false, 0, false), -EINVAL);
	assert_int_equal(ng_encode_rw(&c, false, 2, 12, 0, 100, buf, false, 0, false), -EINVAL);
	assert_int_equal(ng_encode_rw(&c, false, 2, 12, 0, 0, buf, false, 0, false), -EINVAL);
	assert_int_equal(ng_encode_rw(&c, false, 2, 9, 0, 0x10001ull << 9, buf, false, 0, false),
			 -EINVAL);
	/* no FDP: writes carry no directive */
	assert_int_equal(ng_encode_rw(&c, true, 2, 12, 0, 4096, buf, false, 9, false), 0);
	assert_int_equal(c.cdw12 >> 20 & 0xf, 0);
	assert_int_equal(c.cdw13, 0);
}

static void test_dsm_and_flush(void **state)
{
	struct nvme_uring_cmd c;
	struct nvme_dsm_range r;

	(void)state;
	assert_int_equal(ng_encode_dsm(&c, 1, 12, 1ull << 30, 8 << 20, &r), 0);
	assert_int_equal(c.opcode, 0x09);
	assert_int_equal(c.cdw10, 0);
	assert_int_equal(c.cdw11, 1u << 2);
	assert_int_equal(r.nlb, 2048);
	assert_true(r.slba == (1ull << 30) >> 12);
	assert_int_equal(c.data_len, 16);
	assert_true(c.addr == (uint64_t)(uintptr_t)&r);
	assert_int_equal(ng_encode_dsm(&c, 1, 12, 1, 4096, &r), -EINVAL);
	ng_encode_flush(&c, 4);
	assert_int_equal(c.opcode, 0);
	assert_int_equal(c.nsid, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_fdp),
		cmocka_unit_test(test_read_and_refusals),
		cmocka_unit_test(test_dsm_and_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
