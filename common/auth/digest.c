/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Digest computations (MD5 through OpenSSL's EVP interface; the low-level
 * MD5() is deprecated in OpenSSL 3) and hex helpers. The header parser is in
 * digest_parse.c.
 */
#include "common/auth/digest.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/core/rc.h"

typedef struct piece {
    const void *p;
    size_t len;
} piece_t;

/* hex(MD5(pieces[0] ":" pieces[1] ":" ... pieces[n-1])). */
static int md5_hex_joined(const piece_t *pieces, size_t n, char out[IMS_DIGEST_HEX_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int ok;

    if (ctx == NULL)
        return IMS_ERROR;
    ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        if (i > 0)
            ok = EVP_DigestUpdate(ctx, ":", 1) == 1;
        if (ok && pieces[i].len > 0)
            ok = EVP_DigestUpdate(ctx, pieces[i].p, pieces[i].len) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return IMS_ERROR;
    return ims_auth_hex_encode(md, 16, out, IMS_DIGEST_HEX_SIZE);
}

static piece_t str_piece(const char *s)
{
    piece_t p = { s, strlen(s) };
    return p;
}

int ims_digest_ha1(const char *user, const char *realm, const uint8_t *password,
                   size_t password_len, char ha1[IMS_DIGEST_HEX_SIZE])
{
    piece_t pc[3] = { str_piece(user), str_piece(realm), { password, password_len } };

    return md5_hex_joined(pc, 3, ha1);
}

int ims_digest_ha2(const char *method, const char *uri, char ha2[IMS_DIGEST_HEX_SIZE])
{
    piece_t pc[2] = { str_piece(method), str_piece(uri) };

    return md5_hex_joined(pc, 2, ha2);
}

int ims_digest_response(const char *ha1, const char *nonce, const char *nc, const char *cnonce,
                        const char *qop, const char *ha2, char response[IMS_DIGEST_HEX_SIZE])
{
    if (qop == NULL) {
        piece_t pc[3] = { str_piece(ha1), str_piece(nonce), str_piece(ha2) };
        return md5_hex_joined(pc, 3, response);
    }
    if (nc == NULL || cnonce == NULL)
        return IMS_ERROR;
    piece_t pc[6] = { str_piece(ha1),    str_piece(nonce), str_piece(nc),
                      str_piece(cnonce), str_piece(qop),   str_piece(ha2) };
    return md5_hex_joined(pc, 6, response);
}

static int hex_value(char ch)
{
    unsigned char c = (unsigned char)ch;

    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ims_digest_check(const char *expected, const char *got, size_t got_len)
{
    size_t n = strlen(expected);
    unsigned diff = 0;

    /* Lengths and hex-ness are not secret: checking them early leaks nothing. */
    if (n != IMS_DIGEST_HEX_LEN || got_len != n)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++) {
        if (hex_value(got[i]) < 0)
            return IMS_ERROR;
    }
    /* For hex characters, | 0x20 lowercases letters and leaves digits alone. */
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(((unsigned char)got[i] | 0x20) ^ (unsigned char)expected[i]);
    return diff == 0 ? IMS_OK : IMS_ERROR;
}

int ims_auth_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    static const char digits[] = "0123456789abcdef";

    if (out_size == 0 || len > (out_size - 1) / 2) {
        if (out_size > 0)
            out[0] = '\0';
        return IMS_ERROR;
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
    return IMS_OK;
}

int ims_auth_hex_decode(const char *in, size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
    if (len % 2 != 0 || len / 2 > out_size)
        return IMS_ERROR;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0)
            return IMS_ERROR;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len != NULL)
        *out_len = len / 2;
    return IMS_OK;
}
