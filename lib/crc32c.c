/* SPDX-License-Identifier: MIT */
/* placeholder, being written */
typedef int gq__placeholder_crc32c;
