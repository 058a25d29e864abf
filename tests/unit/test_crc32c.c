/* SPDX-License-Identifier: MIT */
/*
 * test_crc32c.c - CRC-32C: published check values, agreement of the
 * hardware and software paths with a bit-at-a-time reference on every
 * length and alignment, chaining, and concurrent first use.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"

TestSuite(crc32c, .timeout = 30);

/* The slowest possible definition, independent of both implementations. */
static uint32_t
crc_ref(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;
	int k;

	crc = ~crc;
	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

/* Deterministic xorshift fill so failures reproduce. */
static void
fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
}

static void
check_vector(const void *buf, size_t len, uint32_t want)
{
	cr_assert(eq(u32, gq__crc32c(0, buf, len), want));
	cr_assert(eq(u32, gq__crc32c_sw(0, buf, len), want));
	cr_assert(eq(u32, crc_ref(0, buf, len), want));
}

/* "123456789" has the standard CRC-32C check value 0xE3069283. */
Test(crc32c, check_value)
{
	check_vector("123456789", 9, 0xE3069283u);
}

/* The RFC 3720 (iSCSI) test vectors give their published CRCs. */
Test(crc32c, rfc3720_vectors)
{
	uint8_t buf[32];
	int i;

	memset(buf, 0, sizeof(buf));
	check_vector(buf, sizeof(buf), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	check_vector(buf, sizeof(buf), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	check_vector(buf, sizeof(buf), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	check_vector(buf, sizeof(buf), 0x113FDB5Cu);
}

/* An empty input leaves the running CRC unchanged, whatever it is. */
Test(crc32c, empty_input)
{
	cr_assert(eq(u32, gq__crc32c(0, NULL, 0), 0));
	cr_assert(eq(u32, gq__crc32c_sw(0, NULL, 0), 0));
	cr_assert(eq(u32, gq__crc32c(0xdeadbeefu, "x", 0), 0xdeadbeefu));
	cr_assert(eq(u32, gq__crc32c_sw(0xdeadbeefu, "x", 0), 0xdeadbeefu));
}

/* Hardware, software and reference agree on every length 0..1000 at every
 * start alignment 0..15. */
Test(crc32c, hw_sw_agree_all_lengths_and_alignments)
{
	static uint8_t buf[1000 + 16];
	size_t len;
	size_t off;
	uint32_t hw;
	uint32_t sw;

	cr_log_info("hardware crc32c: %s",
		    gq__crc32c_hw_enabled() ? "yes" : "no");
	fill_random(buf, sizeof(buf), 0x1234567);
	for (off = 0; off < 16; off++) {
		for (len = 0; len <= 1000; len++) {
			hw = gq__crc32c(0, buf + off, len);
			sw = gq__crc32c_sw(0, buf + off, len);
			cr_assert(eq(u32, hw, sw), "len %zu off %zu", len, off);
			if (len % 37 == 0 || len < 24)
				cr_assert(
					eq(u32, sw, crc_ref(0, buf + off, len)),
					"len %zu off %zu", len, off);
		}
	}
}

/* Both paths agree on a large buffer with a non-zero starting CRC. */
Test(crc32c, hw_sw_agree_large)
{
	static uint8_t buf[1 << 20];
	uint32_t want;

	fill_random(buf, sizeof(buf), 99);
	want = crc_ref(0x5a5a5a5au, buf + 3, sizeof(buf) - 3);
	cr_assert(eq(u32, gq__crc32c(0x5a5a5a5au, buf + 3, sizeof(buf) - 3),
		     want));
	cr_assert(eq(u32, gq__crc32c_sw(0x5a5a5a5au, buf + 3, sizeof(buf) - 3),
		     want));
}

/* crc(crc(a), b) == crc(a || b) at every split point, for both paths. */
Test(crc32c, chaining)
{
	uint8_t buf[300];
	uint32_t whole;
	uint32_t c;
	size_t i;
	size_t j;

	fill_random(buf, sizeof(buf), 7);
	whole = crc_ref(0, buf, sizeof(buf));
	for (i = 0; i <= sizeof(buf); i++) {
		c = gq__crc32c(gq__crc32c(0, buf, i), buf + i, sizeof(buf) - i);
		cr_assert(eq(u32, c, whole), "split %zu", i);
		c = gq__crc32c_sw(gq__crc32c_sw(0, buf, i), buf + i,
				  sizeof(buf) - i);
		cr_assert(eq(u32, c, whole), "split %zu", i);
	}
	/* Three pieces, mixing the two implementations. */
	for (i = 0; i < sizeof(buf); i += 13) {
		for (j = i; j <= sizeof(buf); j += 29) {
			c = gq__crc32c(0, buf, i);
			c = gq__crc32c_sw(c, buf + i, j - i);
			c = gq__crc32c(c, buf + j, sizeof(buf) - j);
			cr_assert(eq(u32, c, whole), "split %zu %zu", i, j);
		}
	}
}

static void *
crc_thread(void *arg)
{
	uintptr_t ok = 1;
	int i;

	(void)arg;
	for (i = 0; i < 1000; i++) {
		if (gq__crc32c(0, "123456789", 9) != 0xE3069283u ||
		    gq__crc32c_sw(0, "123456789", 9) != 0xE3069283u)
			ok = 0;
	}
	return (void *)ok;
}

/* Threads racing on the very first call all get correct results (each
 * Criterion test runs in a fresh process, so this is the first use). */
Test(crc32c, concurrent_first_use)
{
	pthread_t t[8];
	void *res;
	int i;

	for (i = 0; i < 8; i++)
		cr_assert(eq(int, pthread_create(&t[i], NULL, crc_thread, NULL),
			     0));
	for (i = 0; i < 8; i++) {
		cr_assert(eq(int, pthread_join(t[i], &res), 0));
		cr_assert(eq(ptr, res, (void *)1));
	}
}
