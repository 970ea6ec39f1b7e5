/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the Diameter receive path, as the peer layer runs it:
 * dia_frame_len on the first bytes, dia_msg_parse on the whole input, then on
 * success every AVP recursively with every getter, the log dump, and a copy of
 * the message rebuilt AVP by AVP; on failure the error answer with Failed-AVP.
 * Everything is freed (LeakSanitizer is on).
 *
 * Invariants checked (abort() so libFuzzer records a crash):
 * - framing and parsing agree: a message that parses was framed with its length;
 * - a refused input gives a Result-Code, and a message exactly when it had a
 *   header; Failed-AVP bytes lie inside the message;
 * - the error answer we would send (Session-Id, Result-Code, Failed-AVP) parses;
 * - a message we accepted, rebuilt from its parsed AVPs, parses again with the
 *   same header and the same AVPs;
 * - the dump is NUL-terminated within its buffer, however small.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "common/core/rc.h"
#include "diameter/base/codec.h"
#include "diameter/base/dict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_dia_parse: invariant failed: %s\n", what);
        abort();
    }
}

/* Every AVP at every level, each byte of each payload read (for ASan). */
static size_t walk(dia_iter_t *it, int depth)
{
    struct sockaddr_storage ss;
    dia_iter_t in;
    dia_avp_t a;
    size_t n = 0;
    char s[256];
    uint64_t u64;
    uint32_t u;
    int32_t i;

    while (dia_iter_next(it, &a)) {
        check(a.raw_len >= 8 && a.data + a.len == a.raw + a.raw_len, "AVP framing");
        for (uint32_t k = 0; k < a.len; k++)
            n += a.data[k];
        n += dia_avp_u32(&a, &u) == IMS_OK;
        n += dia_avp_u64(&a, &u64) == IMS_OK;
        n += dia_avp_i32(&a, &i) == IMS_OK;
        n += dia_avp_str(&a, s, sizeof(s)) == IMS_OK;
        n += dia_avp_address(&a, &ss) == IMS_OK;
        n += dia_dict_avp(a.code, a.vendor) != NULL;
        if (depth <= DIA_MAX_DEPTH) {
            dia_iter_group(&a, &in);
            n += walk(&in, depth + 1);
        }
    }
    return n;
}

static void dump(const dia_msg_t *m)
{
    static const size_t sizes[] = { 1, 7, 64, 4096 };
    char buf[4096];

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(buf, 'x', sizeof(buf));
        dia_msg_dump(m, buf, sizes[i]);
        check(memchr(buf, '\0', sizes[i]) != NULL, "dump terminated within its buffer");
    }
}

static dia_msg_t *must_parse(const dia_msg_t *m, const char *what)
{
    dia_msg_t *again = NULL;
    dia_err_t err;

    check(m != NULL, what);
    if (dia_msg_parse(m->buf, m->len, &again, &err) != IMS_OK) {
        fprintf(stderr, "fuzz_dia_parse: %s: %u %s\n", what, err.result_code, err.what);
        check(false, what);
    }
    return again;
}

static void answer_error(const dia_msg_t *req, const dia_err_t *err)
{
    dia_builder_t b;
    dia_msg_t *ans;

    dia_build_answer(&b, req);
    dia_put_u32(&b, DIA_AVP_RESULT_CODE, DIA_AVP_M, 0, err->result_code);
    if (err->failed.raw) {
        check(err->failed.raw >= req->buf + DIA_HDR_LEN &&
              err->failed.raw + err->failed.raw_len <= req->buf + req->len,
              "Failed-AVP bytes inside the message");
        dia_group_begin(&b, DIA_AVP_FAILED_AVP, DIA_AVP_M, 0);
        dia_put_raw(&b, &err->failed);
        dia_group_end(&b);
    }
    ans = dia_build_finish(&b);
    dia_msg_free(must_parse(ans, "the error answer parses"));
    dia_msg_free(ans);
}

static bool same_avp(const dia_avp_t *a, const dia_avp_t *b)
{
    return a->code == b->code && a->vendor == b->vendor && a->flags == b->flags &&
           a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void rebuild(const dia_msg_t *m)
{
    dia_builder_t b;
    dia_msg_t *copy, *again;
    dia_iter_t i1, i2;
    dia_avp_t a1, a2;

    dia_build_init(&b, m->flags, m->code, m->app_id, m->hbh, m->e2e);
    dia_iter_msg(m, &i1);
    while (dia_iter_next(&i1, &a1))
        dia_put_raw(&b, &a1);
    copy = dia_build_finish(&b);
    again = must_parse(copy, "a rebuilt message parses");
    check(again->flags == m->flags && again->code == m->code && again->app_id == m->app_id &&
          again->hbh == m->hbh && again->e2e == m->e2e, "rebuilt header");
    dia_iter_msg(m, &i1);
    dia_iter_msg(again, &i2);
    while (dia_iter_next(&i1, &a1))
        check(dia_iter_next(&i2, &a2) && same_avp(&a1, &a2), "rebuilt AVPs");
    check(!dia_iter_next(&i2, &a2), "no extra AVPs");
    dia_msg_free(again);
    dia_msg_free(copy);
}

static void on_ok(const dia_msg_t *m, int frame_rc, uint32_t flen, size_t size)
{
    dia_iter_t it;
    uint32_t rc;
    bool exp;
    char sid[128];

    check(frame_rc == IMS_OK && flen == size && m->len == size, "framing agrees");
    dia_iter_msg(m, &it);
    walk(&it, 0);
    (void)dia_msg_result(m, &rc, &exp);
    (void)dia_msg_session_id(m, sid, sizeof(sid));
    dump(m);
    /* Padding the last AVP could take a message at the size limit over it. */
    if (size <= DIA_MAX_MSG - 4)
        rebuild(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dia_msg_t *m = NULL;
    dia_err_t err;
    uint32_t flen = 0;
    int frc = dia_frame_len(data, size, &flen);

    check(size < 4 ? frc == IMS_AGAIN : (frc == IMS_OK || frc == IMS_ERROR), "frame_len result");
    if (frc == IMS_OK)
        check(flen >= DIA_HDR_LEN && flen <= DIA_MAX_MSG, "frame_len bounds");
    if (dia_msg_parse(data, size, &m, &err) == IMS_OK) {
        check(m != NULL && err.result_code == DIA_SUCCESS, "OK gives a message");
        on_ok(m, frc, flen, size);
    } else {
        check(err.result_code >= 3000 && err.result_code < 6000 && err.what, "a Result-Code");
        check((m != NULL) == (size >= DIA_HDR_LEN && size <= DIA_MAX_MSG), "message iff header");
        if (m) {
            dia_iter_t it;

            dia_iter_msg(m, &it);
            walk(&it, 0);
            dump(m);
            answer_error(m, &err);
        }
    }
    dia_msg_free(m);
    return 0;
}
