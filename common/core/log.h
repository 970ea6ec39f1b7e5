/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging with levels and a per-message context: set the context (e.g. the
 * Call-ID) while a message is handled and every line carries it.
 */
#ifndef IMS_LOG_H
#define IMS_LOG_H

#include <stdio.h>

typedef enum ims_log_level {
    IMS_LOG_ERR = 0,
    IMS_LOG_WARN = 1,
    IMS_LOG_NOTICE = 2,
    IMS_LOG_INFO = 3,
    IMS_LOG_DEBUG = 4
} ims_log_level_t;

/* Process-wide settings. name appears on every line (e.g. "pcscf"). out NULL -> stderr. */
void ims_log_init(const char *name, ims_log_level_t level, FILE *out);
void ims_log_set_level(ims_log_level_t level);
ims_log_level_t ims_log_get_level(void);
/* "err","warn","notice","info","debug" -> level; returns -1 when unknown. */
int ims_log_level_parse(const char *s);

/* Context shown in brackets on each line until cleared (copied; NULL clears). */
void ims_log_ctx_set(const char *ctx);
void ims_log_ctx_clear(void);

void ims_log_write(ims_log_level_t level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define ims_log(lvl, ...)                                                  \
    do {                                                                   \
        if ((lvl) <= ims_log_get_level())                                  \
            ims_log_write((lvl), __FILE__, __LINE__, __VA_ARGS__);         \
    } while (0)

#define IMS_ERR(...)    ims_log(IMS_LOG_ERR, __VA_ARGS__)
#define IMS_WARN(...)   ims_log(IMS_LOG_WARN, __VA_ARGS__)
#define IMS_NOTICE(...) ims_log(IMS_LOG_NOTICE, __VA_ARGS__)
#define IMS_INFO(...)   ims_log(IMS_LOG_INFO, __VA_ARGS__)
#define IMS_DEBUG(...)  ims_log(IMS_LOG_DEBUG, __VA_ARGS__)

#endif
