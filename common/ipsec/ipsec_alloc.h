/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SPIs and protected ports for the P-CSCF's IPsec SAs (TS 33.203 §7.1): every
 * registration takes a pair of SPIs (spi_pc, spi_ps) and a pair of ports
 * (port_pc, port_ps) that no other live registration holds.
 *
 * ipsec_idpool_t hands out unique numbers from a configured range [min, max]
 * (any size up to the whole 32-bit space) and keeps only the live ones: an
 * open-addressing hash set of live numbers plus a cursor that walks the range
 * in order. Allocation takes the next number after the cursor that is not
 * live, so a released number comes back only after the rest of the range has
 * been handed out: an SPI is not reused while stray packets for its old SA
 * may still arrive. Cost: O(1) while the range is mostly free, at worst the
 * number of live entries in a row ahead of the cursor; memory O(live).
 *
 * A number may have several holders (ipsec_idpool_hold): a re-registration
 * keeps the P-CSCF's protected server port (TS 33.203 §7.4), so the new SA set
 * and the one it replaces hold the same port_ps, which is free again only
 * when the last of them releases it.
 *
 * A restarted P-CSCF calls the reserve functions with what its journal holds
 * before it allocates anything new. Single-threaded, like the daemons.
 */
#ifndef IMS_IPSEC_ALLOC_H
#define IMS_IPSEC_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ipsec_idpool ipsec_idpool_t;

/* A pool over [min, max]; min >= 1. NULL when min is 0, min > max, or on
 * allocation failure. Free with ipsec_idpool_free (NULL is a no-op). */
ipsec_idpool_t *ipsec_idpool_new(uint32_t min, uint32_t max);
void ipsec_idpool_free(ipsec_idpool_t *p);

/* IMS_OK with a new live number (one holder) in *id; IMS_DECLINED when every
 * number of the range is live; IMS_ERROR on allocation failure (nothing
 * changed). */
int ipsec_idpool_alloc(ipsec_idpool_t *p, uint32_t *id);
/* Mark id live with one holder (journal restore). IMS_OK; IMS_DECLINED when
 * id is already live; IMS_ERROR when id is outside the range or on
 * allocation failure. */
int ipsec_idpool_reserve(ipsec_idpool_t *p, uint32_t id);
/* One more holder of the live id. IMS_OK; IMS_DECLINED when id is not live;
 * IMS_ERROR when it has UINT32_MAX holders already. */
int ipsec_idpool_hold(ipsec_idpool_t *p, uint32_t id);
/* One holder lets go; id is free again when it was the last. IMS_OK;
 * IMS_DECLINED when id was not live. */
int ipsec_idpool_release(ipsec_idpool_t *p, uint32_t id);
bool ipsec_idpool_is_live(const ipsec_idpool_t *p, uint32_t id);
/* How many hold id (0: free). */
uint32_t ipsec_idpool_holders(const ipsec_idpool_t *p, uint32_t id);
/* Live numbers (each counted once, whatever its holders). */
size_t ipsec_idpool_live(const ipsec_idpool_t *p);
/* How many numbers the range holds (max - min + 1, up to 2^32). */
uint64_t ipsec_idpool_size(const ipsec_idpool_t *p);

/* --- the P-CSCF's SPIs and ports together -------------------------------- */

typedef struct ipsec_alloc ipsec_alloc_t;

/* SPI range: spi_min >= 256 (RFC 4303 §2.1: 0 invalid, 1..255 reserved).
 * Port range: at least two ports, port_min >= 1. NULL when a range is bad or
 * on allocation failure. */
ipsec_alloc_t *ipsec_alloc_new(uint32_t spi_min, uint32_t spi_max, uint16_t port_min,
                               uint16_t port_max);
void ipsec_alloc_free(ipsec_alloc_t *a);

/* Two distinct new SPIs / ports. IMS_OK; IMS_DECLINED when the range has
 * fewer than two free; IMS_ERROR on allocation failure. Either both are
 * taken or neither. */
int ipsec_alloc_spi_pair(ipsec_alloc_t *a, uint32_t *spi_c, uint32_t *spi_s);
int ipsec_alloc_port_pair(ipsec_alloc_t *a, uint16_t *port_c, uint16_t *port_s);

/* One new port (port_pc of a set that shares the port_ps of the set it
 * replaces). IMS_OK; IMS_DECLINED when none is free; IMS_ERROR on allocation
 * failure. */
int ipsec_alloc_port(ipsec_alloc_t *a, uint16_t *port);
/* One more holder of a live port (a rotated set keeping port_ps). IMS_OK;
 * IMS_DECLINED when the port is not live. Released like any other. */
int ipsec_alloc_port_hold(ipsec_alloc_t *a, uint16_t port);
/* One holder of port lets go (free when it was the last). IMS_OK;
 * IMS_DECLINED when it was not live. */
int ipsec_alloc_port_release(ipsec_alloc_t *a, uint16_t port);
/* How many hold port (0: free). */
uint32_t ipsec_alloc_port_holders(const ipsec_alloc_t *a, uint16_t port);

/* Journal restore: both values become live, or neither (IMS_DECLINED when one
 * is already live or the two are equal; IMS_ERROR when one is out of range). */
int ipsec_alloc_reserve_spi_pair(ipsec_alloc_t *a, uint32_t spi_c, uint32_t spi_s);
int ipsec_alloc_reserve_port_pair(ipsec_alloc_t *a, uint16_t port_c, uint16_t port_s);

/* Release (one holder of) both of a pair; IMS_OK, or IMS_DECLINED when either
 * was not live (the other is still released). */
int ipsec_alloc_release_spi_pair(ipsec_alloc_t *a, uint32_t spi_c, uint32_t spi_s);
int ipsec_alloc_release_port_pair(ipsec_alloc_t *a, uint16_t port_c, uint16_t port_s);

/* Live SPIs / ports (two per registration; a port_ps shared by a
 * re-registration's sets counts once). */
size_t ipsec_alloc_spis_live(const ipsec_alloc_t *a);
size_t ipsec_alloc_ports_live(const ipsec_alloc_t *a);

#endif
