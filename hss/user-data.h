/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Cx User-Data: the IMS subscription XML of TS 29.228 Annex B / E
 * (IMSSubscription, ServiceProfile, PublicIdentity, InitialFilterCriteria),
 * generated from a subscriber's configuration, every text node escaped.
 */
#ifndef HSS_USER_DATA_H
#define HSS_USER_DATA_H

#include <stddef.h>

#include "hss/context.h"

/* Build the XML for sub: a malloc'd NUL-terminated string the caller frees,
 * its length in *len; NULL when it would be longer than max_len. */
char *hss_user_data_build(const hss_sub_t *sub, size_t max_len, size_t *len);

/* The same, built once and cached in sub (the configuration never changes
 * while the daemon runs). NULL when it is longer than max_len. */
const char *hss_user_data(hss_sub_t *sub, size_t max_len, size_t *len);

#endif
