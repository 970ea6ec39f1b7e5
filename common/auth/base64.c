/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Base64 without OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock: DecodeBlock skips
 * surrounding whitespace and reports the length before padding is removed,
 * and both work on int lengths; a small exact codec is simpler to trust.
 */
#include "common/auth/base64.h"

#include "common/core/rc.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ims_base64_encode(const uint8_t *in, size_t len, char *out, size_t out_size, size_t *out_len)
{
    size_t need, o = 0, i = 0;

    if (out_size > 0)
        out[0] = '\0';
    if (len > (SIZE_MAX - 1) / 4 * 3 - 2)
        return IMS_ERROR;
    need = IMS_BASE64_ENC_LEN(len);
    if (out_size < need + 1)
        return IMS_ERROR;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return IMS_OK;
}

/* 0..63, or -1 for a character outside the alphabet. */
static int b64_value(char ch)
{
    unsigned char c = (unsigned char)ch;

    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int ims_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
    size_t n = len, rem, need, o = 0;
    uint32_t acc = 0;
    int bits = 0;

    /* Padding, if any, must complete the last quantum exactly. */
    if (n > 0 && in[n - 1] == '=') {
        if (len % 4 != 0)
            return IMS_ERROR;
        n--;
        if (in[n - 1] == '=')
            n--;
    }
    rem = n % 4;
    if (rem == 1)
        return IMS_ERROR;
    need = n / 4 * 3 + (rem == 0 ? 0 : rem - 1);
    if (need > out_size)
        return IMS_ERROR;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return IMS_ERROR;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* The leftover 2 or 4 bits must be zero in a canonical encoding. */
    if ((acc & ((1u << bits) - 1)) != 0)
        return IMS_ERROR;
    *out_len = o;
    return IMS_OK;
}
