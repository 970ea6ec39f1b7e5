/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A thin wrapper over libconfig whose every error names the file, the line and
 * the key, e.g. "config/lab/pcscf.cfg:12: sip.listen: expected a string".
 */
#ifndef IMS_CONF_H
#define IMS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ims_conf ims_conf_t;

/* Load path. On failure returns NULL and writes "file:line: message" into err. */
ims_conf_t *ims_conf_load(const char *path, char *err, size_t errlen);
void ims_conf_free(ims_conf_t *conf);
const char *ims_conf_path(const ims_conf_t *conf);

/* The last error of a getter, "file:line: key: message". */
const char *ims_conf_error(const ims_conf_t *conf);

/*
 * Getters by dotted path ("sip.listen"). Each returns IMS_OK and sets *out;
 * IMS_DECLINED when the key is absent and required is false (*out untouched,
 * so pre-set the default); IMS_ERROR when absent and required, or of the wrong
 * type or out of range (see ims_conf_error). Strings stay owned by conf.
 */
int ims_conf_str(ims_conf_t *conf, const char *key, bool required, const char **out);
int ims_conf_int(ims_conf_t *conf, const char *key, bool required, long long min,
                 long long max, long long *out);
int ims_conf_bool(ims_conf_t *conf, const char *key, bool required, bool *out);
/* An optional unsigned setting in [min, max] (0 <= min <= max <= UINT32_MAX):
 * IMS_OK whether set (*out written) or absent (*out kept: the default);
 * IMS_ERROR when of the wrong type or out of range. */
int ims_conf_u32(ims_conf_t *conf, const char *key, long long min, long long max,
                 uint32_t *out);

/* Lists of strings: count (0 when absent) and element i. */
int ims_conf_list_len(ims_conf_t *conf, const char *key, size_t *out);
int ims_conf_list_str(ims_conf_t *conf, const char *key, size_t i, const char **out);

#endif
