/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pools of unique numbers for SPIs and protected ports (see ipsec_alloc.h).
 *
 * The live set is open addressing with linear probing over a power-of-two
 * array of (number, holders) slots, number 0 marking an empty slot (0 is never
 * in a range). It is kept at most half full, and removal shifts the following
 * entries back (no tombstones), so a lookup stops at the first empty slot.
 * The numbers are our own (allocated or read back from our journal), not
 * chosen by a peer, so a fixed multiplicative hash is enough.
 *
 * Why a number can have several holders: a re-registration keeps the
 * P-CSCF's protected server port (TS 33.203 §7.4), so the new SA set and the
 * one it replaces (retiring) hold the same port_ps; it is free again when the
 * last of them lets go.
 */
#include "common/ipsec/ipsec_alloc.h"

#include <stdlib.h>

#include "common/core/rc.h"

#define SET_MIN_BITS 6u   /* 64 slots */

typedef struct slot {
    uint32_t id;        /* 0: empty */
    uint32_t holders;   /* >= 1 while live */
} slot_t;

struct ipsec_idpool {
    uint32_t min, max;
    uint32_t cursor;    /* next number to try */
    slot_t *slots;      /* live numbers */
    size_t nslots;      /* power of two, 2^bits */
    unsigned bits;
    size_t live;
};

struct ipsec_alloc {
    ipsec_idpool_t *spis;
    ipsec_idpool_t *ports;
};

/* --- the live set ----------------------------------------------------- */

static size_t slot_of(const ipsec_idpool_t *p, uint32_t id)
{
    /* Fibonacci hashing (top bits of the product): consecutive numbers, the
     * cursor's, spread evenly. */
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> (64 - p->bits));
}

/* The slot holding id, or the empty slot where it would go. */
static size_t find_slot(const ipsec_idpool_t *p, uint32_t id)
{
    size_t i = slot_of(p, id);

    while (p->slots[i].id != 0 && p->slots[i].id != id)
        i = (i + 1) & (p->nslots - 1);
    return i;
}

static int rehash(ipsec_idpool_t *p, unsigned bits)
{
    slot_t *old = p->slots;
    size_t oldn = p->nslots;

    p->slots = calloc((size_t)1 << bits, sizeof(*p->slots));
    if (p->slots == NULL) {
        p->slots = old;
        return IMS_ERROR;
    }
    p->nslots = (size_t)1 << bits;
    p->bits = bits;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i].id != 0)
            p->slots[find_slot(p, old[i].id)] = old[i];
    }
    free(old);
    return IMS_OK;
}

/* Room for n more entries at no more than half load. */
static int reserve_room(ipsec_idpool_t *p, size_t n)
{
    unsigned bits = p->bits;

    while ((p->live + n) * 2 > (size_t)1 << bits) {
        if (bits >= 40)   /* 2^39 live numbers: more than a 32-bit range holds */
            return IMS_ERROR;
        bits++;
    }
    return bits == p->bits ? IMS_OK : rehash(p, bits);
}

/* Add id (one holder), known absent; room was reserved. */
static void set_put(ipsec_idpool_t *p, uint32_t id)
{
    p->slots[find_slot(p, id)] = (slot_t){ id, 1 };
    p->live++;
}

/* Remove the entry at slot i and shift the rest of its run back. */
static void set_remove_at(ipsec_idpool_t *p, size_t i)
{
    size_t mask = p->nslots - 1, j = i;

    p->slots[i] = (slot_t){ 0, 0 };
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (p->slots[j].id == 0)
            break;
        home = slot_of(p, p->slots[j].id);
        /* Move slots[j] into the hole unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            p->slots[i] = p->slots[j];
            p->slots[j] = (slot_t){ 0, 0 };
            i = j;
        }
    }
    p->live--;
    /* Shrink when mostly empty; a failed shrink just keeps the larger table. */
    if (p->bits > SET_MIN_BITS && p->live * 8 < p->nslots)
        (void)rehash(p, p->bits - 1);
}

/* --- the pool --------------------------------------------------------- */

ipsec_idpool_t *ipsec_idpool_new(uint32_t min, uint32_t max)
{
    ipsec_idpool_t *p;

    if (min == 0 || min > max)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    if (rehash(p, SET_MIN_BITS) != IMS_OK) {
        free(p);
        return NULL;
    }
    p->min = min;
    p->max = max;
    p->cursor = min;
    return p;
}

void ipsec_idpool_free(ipsec_idpool_t *p)
{
    if (p == NULL)
        return;
    free(p->slots);
    free(p);
}

uint64_t ipsec_idpool_size(const ipsec_idpool_t *p)
{
    return (uint64_t)p->max - p->min + 1;
}

size_t ipsec_idpool_live(const ipsec_idpool_t *p)
{
    return p->live;
}

bool ipsec_idpool_is_live(const ipsec_idpool_t *p, uint32_t id)
{
    return id != 0 && p->slots[find_slot(p, id)].id == id;
}

uint32_t ipsec_idpool_holders(const ipsec_idpool_t *p, uint32_t id)
{
    const slot_t *sl = &p->slots[find_slot(p, id)];

    return id != 0 && sl->id == id ? sl->holders : 0;
}

int ipsec_idpool_hold(ipsec_idpool_t *p, uint32_t id)
{
    slot_t *sl = &p->slots[find_slot(p, id)];

    if (id == 0 || sl->id != id)
        return IMS_DECLINED;
    if (sl->holders == UINT32_MAX)
        return IMS_ERROR;
    sl->holders++;
    return IMS_OK;
}

int ipsec_idpool_alloc(ipsec_idpool_t *p, uint32_t *id)
{
    if ((uint64_t)p->live >= ipsec_idpool_size(p))
        return IMS_DECLINED;
    if (reserve_room(p, 1) != IMS_OK)
        return IMS_ERROR;
    /* Ends: fewer live numbers than the range holds, so a free one exists. */
    for (;;) {
        uint32_t cand = p->cursor;
        p->cursor = cand == p->max ? p->min : cand + 1;
        if (!ipsec_idpool_is_live(p, cand)) {
            set_put(p, cand);
            *id = cand;
            return IMS_OK;
        }
    }
}

int ipsec_idpool_reserve(ipsec_idpool_t *p, uint32_t id)
{
    if (id < p->min || id > p->max)
        return IMS_ERROR;
    if (ipsec_idpool_is_live(p, id))
        return IMS_DECLINED;
    if (reserve_room(p, 1) != IMS_OK)
        return IMS_ERROR;
    set_put(p, id);
    return IMS_OK;
}

int ipsec_idpool_release(ipsec_idpool_t *p, uint32_t id)
{
    size_t i;

    if (id == 0)
        return IMS_DECLINED;
    i = find_slot(p, id);
    if (p->slots[i].id != id)
        return IMS_DECLINED;
    if (--p->slots[i].holders == 0)
        set_remove_at(p, i);
    return IMS_OK;
}

/* --- pairs ------------------------------------------------------------ */

static int alloc_pair(ipsec_idpool_t *p, uint32_t *c, uint32_t *s)
{
    int rc;

    if (ipsec_idpool_size(p) - p->live < 2)
        return IMS_DECLINED;
    if (reserve_room(p, 2) != IMS_OK)
        return IMS_ERROR;
    /* With room for two and two free numbers neither call fails; undo anyway. */
    rc = ipsec_idpool_alloc(p, c);
    if (rc != IMS_OK)
        return rc;
    rc = ipsec_idpool_alloc(p, s);
    if (rc != IMS_OK)
        (void)ipsec_idpool_release(p, *c);
    return rc;
}

static int reserve_pair(ipsec_idpool_t *p, uint32_t c, uint32_t s)
{
    if (c < p->min || c > p->max || s < p->min || s > p->max)
        return IMS_ERROR;
    if (c == s || ipsec_idpool_is_live(p, c) || ipsec_idpool_is_live(p, s))
        return IMS_DECLINED;
    if (reserve_room(p, 2) != IMS_OK)
        return IMS_ERROR;
    set_put(p, c);
    set_put(p, s);
    return IMS_OK;
}

static int release_pair(ipsec_idpool_t *p, uint32_t c, uint32_t s)
{
    int rc_c = ipsec_idpool_release(p, c);
    int rc_s = ipsec_idpool_release(p, s);

    return rc_c == IMS_OK && rc_s == IMS_OK ? IMS_OK : IMS_DECLINED;
}

ipsec_alloc_t *ipsec_alloc_new(uint32_t spi_min, uint32_t spi_max, uint16_t port_min,
                               uint16_t port_max)
{
    ipsec_alloc_t *a;

    if (spi_min < 256 || port_min == 0 || port_min >= port_max)
        return NULL;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->spis = ipsec_idpool_new(spi_min, spi_max);
    a->ports = ipsec_idpool_new(port_min, port_max);
    if (a->spis == NULL || a->ports == NULL) {
        ipsec_alloc_free(a);
        return NULL;
    }
    return a;
}

void ipsec_alloc_free(ipsec_alloc_t *a)
{
    if (a == NULL)
        return;
    ipsec_idpool_free(a->spis);
    ipsec_idpool_free(a->ports);
    free(a);
}

int ipsec_alloc_spi_pair(ipsec_alloc_t *a, uint32_t *spi_c, uint32_t *spi_s)
{
    return alloc_pair(a->spis, spi_c, spi_s);
}

int ipsec_alloc_port_pair(ipsec_alloc_t *a, uint16_t *port_c, uint16_t *port_s)
{
    uint32_t c, s;
    int rc = alloc_pair(a->ports, &c, &s);

    if (rc == IMS_OK) {
        *port_c = (uint16_t)c;
        *port_s = (uint16_t)s;
    }
    return rc;
}

int ipsec_alloc_port(ipsec_alloc_t *a, uint16_t *port)
{
    uint32_t v;
    int rc = ipsec_idpool_alloc(a->ports, &v);

    if (rc == IMS_OK)
        *port = (uint16_t)v;
    return rc;
}

int ipsec_alloc_port_hold(ipsec_alloc_t *a, uint16_t port)
{
    return ipsec_idpool_hold(a->ports, port);
}

int ipsec_alloc_port_release(ipsec_alloc_t *a, uint16_t port)
{
    return ipsec_idpool_release(a->ports, port);
}

uint32_t ipsec_alloc_port_holders(const ipsec_alloc_t *a, uint16_t port)
{
    return ipsec_idpool_holders(a->ports, port);
}

int ipsec_alloc_reserve_spi_pair(ipsec_alloc_t *a, uint32_t spi_c, uint32_t spi_s)
{
    return reserve_pair(a->spis, spi_c, spi_s);
}

int ipsec_alloc_reserve_port_pair(ipsec_alloc_t *a, uint16_t port_c, uint16_t port_s)
{
    return reserve_pair(a->ports, port_c, port_s);
}

int ipsec_alloc_release_spi_pair(ipsec_alloc_t *a, uint32_t spi_c, uint32_t spi_s)
{
    return release_pair(a->spis, spi_c, spi_s);
}

int ipsec_alloc_release_port_pair(ipsec_alloc_t *a, uint16_t port_c, uint16_t port_s)
{
    return release_pair(a->ports, port_c, port_s);
}

size_t ipsec_alloc_spis_live(const ipsec_alloc_t *a)
{
    return ipsec_idpool_live(a->spis);
}

size_t ipsec_alloc_ports_live(const ipsec_alloc_t *a)
{
    return ipsec_idpool_live(a->ports);
}
