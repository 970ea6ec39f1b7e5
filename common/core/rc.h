/* SPDX-License-Identifier: BSD-2-Clause */
/* One closed set of return codes used by every layer (after nginx). */
#ifndef IMS_RC_H
#define IMS_RC_H

typedef enum ims_rc {
    IMS_OK = 0,         /* done, success */
    IMS_ERROR = -1,     /* failed; the caller cleans up */
    IMS_AGAIN = -2,     /* not yet: more input or a later event needed */
    IMS_DECLINED = -3,  /* not mine / not applicable; try the next handler */
    IMS_DONE = -4       /* finished and nothing more to do (e.g. answered) */
} ims_rc_t;

#define IMS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
