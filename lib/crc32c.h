/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2.
 * Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final
 * xor 0xFFFFFFFF, so crc32c("123456789") == 0xE3069283.
 */
#ifndef GQ_CRC32C_H
#define GQ_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Extend @crc with the @len bytes at @buf and return the new CRC.  Start with
 * @crc = 0; feeding the result of one call into the next gives the CRC of the
 * concatenation.  Uses the SSE4.2 crc32 instruction when the CPU has it,
 * chosen once at first use.  Thread safety: any thread.
 */
uint32_t gq__crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable slicing-by-8 path, same contract as gq__crc32c(). */
uint32_t gq__crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* True if gq__crc32c() uses the hardware instruction (for tests, logs). */
bool gq__crc32c_hw_enabled(void);

#endif /* GQ_CRC32C_H */
