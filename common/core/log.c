/* SPDX-License-Identifier: BSD-2-Clause */
#include "common/core/log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#define LOG_CTX_MAX 128

static struct {
    char name[32];
    ims_log_level_t level;
    FILE *out;
    char ctx[LOG_CTX_MAX];
} g_log = { "ims", IMS_LOG_NOTICE, NULL, "" };

static const char *const level_names[] = { "err", "warn", "notice", "info", "debug" };

void ims_log_init(const char *name, ims_log_level_t level, FILE *out)
{
    snprintf(g_log.name, sizeof(g_log.name), "%s", name ? name : "ims");
    g_log.level = level;
    g_log.out = out;
}

void ims_log_set_level(ims_log_level_t level)
{
    g_log.level = level;
}

ims_log_level_t ims_log_get_level(void)
{
    return g_log.level;
}

int ims_log_level_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return (int)i;
    return -1;
}

void ims_log_ctx_set(const char *ctx)
{
    if (!ctx) {
        g_log.ctx[0] = '\0';
        return;
    }
    snprintf(g_log.ctx, sizeof(g_log.ctx), "%s", ctx);
}

void ims_log_ctx_clear(void)
{
    g_log.ctx[0] = '\0';
}

void ims_log_write(ims_log_level_t level, const char *file, int line, const char *fmt, ...)
{
    FILE *out = g_log.out ? g_log.out : stderr;
    char ts[32];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    const char *base = strrchr(file, '/');

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
    if ((unsigned)level > IMS_LOG_DEBUG)
        level = IMS_LOG_DEBUG;
    /* One fprintf per part, but the whole line is under the stream's lock:
     * a line is never interleaved with another (a daemon has one thread anyway). */
    flockfile(out);
    fprintf(out, "%s.%06ld %s %s %s:%d ", ts, (long)tv.tv_usec, g_log.name,
            level_names[level], base ? base + 1 : file, line);
    if (g_log.ctx[0])
        fprintf(out, "[%s] ", g_log.ctx);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    funlockfile(out);
    fflush(out);
}
