/* SPDX-License-Identifier: BSD-2-Clause */
#include "common/core/clock.h"

#include <time.h>

/* Process-wide on purpose: a daemon has one loop, and a test drives one clock. */
static bool g_driven;
static uint64_t g_driven_ms;

static uint64_t real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ims_clock_now_ms(void)
{
    return g_driven ? g_driven_ms : real_ns() / 1000000u;
}

uint64_t ims_clock_real_us(void)
{
    return real_ns() / 1000u;
}

void ims_clock_drive(bool driven, uint64_t start_ms)
{
    g_driven = driven;
    g_driven_ms = start_ms;
}

void ims_clock_advance(uint64_t ms)
{
    g_driven_ms += ms;
}

bool ims_clock_is_driven(void)
{
    return g_driven;
}
