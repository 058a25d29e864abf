/* SPDX-License-Identifier: MIT */
/* The public header compiles on its own, as strict C99 and as C++. */
#include <goqueue.h>

int
main(void)
{
	return gq_strerror(GQ_EINVAL)[0] == '\0';
}
