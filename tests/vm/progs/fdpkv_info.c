// SPDX-License-Identifier: GPL-2.0
/*
 * fdpkv_info - /dev/fdpkv exists once fdpkv.ko is loaded and answers the
 * info ioctl with the ABI this test was built against; unknown commands get
 * ENOTTY.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uapi/fdpkv.h>

#include "tap.h"

int main(void)
{
	struct fdpkv_info info;
	struct stat st;
	int fd, ret;

	tap_ok(stat("/dev/fdpkv", &st) == 0 && S_ISCHR(st.st_mode), "/dev/fdpkv is a char device");
	tap_ok((st.st_mode & 0777) == 0660, "/dev/fdpkv mode is 0660 (got %o)", st.st_mode & 0777);
	fd = open("/dev/fdpkv", O_RDWR);
	if (!tap_ok(fd >= 0, "open /dev/fdpkv: %s", fd < 0 ? strerror(errno) : "ok"))
		return tap_done();
	memset(&info, 0xa5, sizeof(info));
	ret = ioctl(fd, FDPKV_IOC_GET_INFO, &info);
	tap_ok(ret == 0, "FDPKV_IOC_GET_INFO returns 0 (%s)", ret ? strerror(errno) : "ok");
	tap_ok(info.abi_version == FDPKV_ABI_VERSION, "abi_version %u == %u", info.abi_version,
	       FDPKV_ABI_VERSION);
	tap_ok(info.size == sizeof(info), "size %u == %zu", info.size, sizeof(info));
	tap_ok(info.rsvd0 == 0 && info.rsvd1[0] == 0 && info.rsvd1[3] == 0,
	       "reserved fields are zeroed");
	tap_ok(memchr(info.version, 0, sizeof(info.version)) && info.version[0],
	       "version string '%.32s' is NUL-terminated", info.version);
	ret = ioctl(fd, _IOR(FDPKV_IOC_MAGIC, 0x7f, struct fdpkv_info), &info);
	tap_ok(ret == -1 && errno == ENOTTY, "an unknown command fails with ENOTTY");
	ret = ioctl(fd, FDPKV_IOC_GET_INFO, (void *)16);
	tap_ok(ret == -1 && errno == EFAULT, "a bad pointer fails with EFAULT");
	close(fd);
	return tap_done();
}
