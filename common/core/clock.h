/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The monotonic clock every timer reads. Daemons use the real CLOCK_MONOTONIC;
 * tests switch to a driven clock and move it forward by hand, so timer schedules
 * (RFC 3261 retransmissions, Timer B/F/H) are checked without waiting.
 */
#ifndef IMS_CLOCK_H
#define IMS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds on the monotonic clock (real or driven). */
uint64_t ims_clock_now_ms(void);

/* Microseconds on the real monotonic clock (never driven): for measurements. */
uint64_t ims_clock_real_us(void);

/* Switch to a driven clock starting at start_ms (true) or back to the real one. */
void ims_clock_drive(bool driven, uint64_t start_ms);

/* Move the driven clock forward; no effect on the real clock. */
void ims_clock_advance(uint64_t ms);

bool ims_clock_is_driven(void);

#endif
