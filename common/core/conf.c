/* SPDX-License-Identifier: BSD-2-Clause */
#include "common/core/conf.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/rc.h"

struct ims_conf {
    config_t cfg;
    char *path;
    char err[512];
};

ims_conf_t *ims_conf_load(const char *path, char *err, size_t errlen)
{
    ims_conf_t *conf = calloc(1, sizeof(*conf));

    if (!conf)
        abort();
    config_init(&conf->cfg);
    if (config_read_file(&conf->cfg, path) != CONFIG_TRUE) {
        const char *file = config_error_file(&conf->cfg);

        if (config_error_type(&conf->cfg) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read file", path);
        else
            snprintf(err, errlen, "%s:%d: %s", file ? file : path,
                     config_error_line(&conf->cfg), config_error_text(&conf->cfg));
        config_destroy(&conf->cfg);
        free(conf);
        return NULL;
    }
    conf->path = strdup(path);
    return conf;
}

void ims_conf_free(ims_conf_t *conf)
{
    if (!conf)
        return;
    config_destroy(&conf->cfg);
    free(conf->path);
    free(conf);
}

const char *ims_conf_path(const ims_conf_t *conf)
{
    return conf->path;
}

const char *ims_conf_error(const ims_conf_t *conf)
{
    return conf->err;
}

/* Record "file:line: key: message", the line being the setting's own when known. */
__attribute__((format(printf, 4, 5)))
static int fail(ims_conf_t *conf, const config_setting_t *s, const char *key, const char *fmt, ...)
{
    va_list ap;
    int n;
    const char *file = s ? config_setting_source_file(s) : NULL;

    if (s)
        n = snprintf(conf->err, sizeof(conf->err), "%s:%u: %s: ", file ? file : conf->path,
                     config_setting_source_line(s), key);
    else
        n = snprintf(conf->err, sizeof(conf->err), "%s: %s: ", conf->path, key);
    if (n < 0 || (size_t)n >= sizeof(conf->err))
        return IMS_ERROR;
    va_start(ap, fmt);
    vsnprintf(conf->err + n, sizeof(conf->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return IMS_ERROR;
}

/* Look up key; IMS_OK with *s, IMS_DECLINED when absent and optional, IMS_ERROR when required. */
static int lookup(ims_conf_t *conf, const char *key, bool required, config_setting_t **s)
{
    *s = config_lookup(&conf->cfg, key);
    if (*s)
        return IMS_OK;
    if (!required)
        return IMS_DECLINED;
    return fail(conf, NULL, key, "missing required setting");
}

int ims_conf_str(ims_conf_t *conf, const char *key, bool required, const char **out)
{
    config_setting_t *s;
    int rc = lookup(conf, key, required, &s);

    if (rc != IMS_OK)
        return rc;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail(conf, s, key, "expected a string");
    *out = config_setting_get_string(s);
    return IMS_OK;
}

int ims_conf_int(ims_conf_t *conf, const char *key, bool required, long long min,
                 long long max, long long *out)
{
    config_setting_t *s;
    long long v;
    int rc = lookup(conf, key, required, &s);

    if (rc != IMS_OK)
        return rc;
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    else if (config_setting_type(s) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(s);
    else
        return fail(conf, s, key, "expected an integer");
    if (v < min || v > max)
        return fail(conf, s, key, "%lld is out of range [%lld, %lld]", v, min, max);
    *out = v;
    return IMS_OK;
}

int ims_conf_u32(ims_conf_t *conf, const char *key, long long min, long long max,
                 uint32_t *out)
{
    long long v = 0;
    int rc = ims_conf_int(conf, key, false, min, max, &v);

    if (rc == IMS_OK)
        *out = (uint32_t)v;
    return rc == IMS_ERROR ? IMS_ERROR : IMS_OK;
}

int ims_conf_bool(ims_conf_t *conf, const char *key, bool required, bool *out)
{
    config_setting_t *s;
    int rc = lookup(conf, key, required, &s);

    if (rc != IMS_OK)
        return rc;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail(conf, s, key, "expected true or false");
    *out = config_setting_get_bool(s) != 0;
    return IMS_OK;
}

int ims_conf_list_len(ims_conf_t *conf, const char *key, size_t *out)
{
    config_setting_t *s = config_lookup(&conf->cfg, key);

    *out = 0;
    if (!s)
        return IMS_OK;
    if (!config_setting_is_aggregate(s))
        return fail(conf, s, key, "expected a list or array");
    *out = (size_t)config_setting_length(s);
    return IMS_OK;
}

int ims_conf_list_str(ims_conf_t *conf, const char *key, size_t i, const char **out)
{
    config_setting_t *s = config_lookup(&conf->cfg, key);
    config_setting_t *e;

    if (!s || !config_setting_is_aggregate(s) || i >= (size_t)config_setting_length(s))
        return fail(conf, s, key, "no element %zu", i);
    e = config_setting_get_elem(s, (unsigned)i);
    if (!e || config_setting_type(e) != CONFIG_TYPE_STRING)
        return fail(conf, e ? e : s, key, "element %zu: expected a string", i);
    *out = config_setting_get_string(e);
    return IMS_OK;
}
