/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Security mechanism agreement (RFC 3329) for IMS AKA + IPsec (TS 33.203 §7,
 * Annex H; TS 24.229 §5.2.2): parse the values of Security-Client,
 * Security-Server and Security-Verify, pick one mechanism, format the
 * Security-Server the P-CSCF sends (and the Security-Client/-Verify a UE
 * sends), and check a Security-Verify against the Security-Server sent.
 *
 *   sec-mechanism = mechanism-name *(SEMI mech-parameters)
 *   ipsec-3gpp parameters: alg, ealg, spi-c, spi-s, port-c, port-s, prot, mod, q
 *
 * Values come from the network: the parser works on {ptr, len}, copies into
 * fixed-size fields and refuses what does not fit, with a reason phrase the
 * P-CSCF can put in its 400. Values that are well-formed but that we do not
 * implement (alg=hmac-sha-256-128, prot=ah, mod=UDP-enc-tun) are not errors:
 * the mechanism is kept, marked by its enum values, and selection skips it.
 */
#ifndef IMS_SEC_AGREE_H
#define IMS_SEC_AGREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sip_msg; /* common/sip/msg.h; not included: IPsec code needs no libosip2 headers */

#define SEC_AGREE_MAX_MECHS 16   /* mechanisms in one list (all header instances) */
#define SEC_AGREE_NAME_SIZE 32   /* mechanism name, with NUL */
#define SEC_AGREE_VALUE_SIZE 24  /* alg/ealg/prot/mod value, with NUL */
#define SEC_AGREE_EXT_SIZE 160   /* other parameters, ";name=value..." text, with NUL */
#define SEC_AGREE_Q_NONE (-1)    /* no q parameter */

/* Longest text sec_agree_format writes for a full list, NUL included. */
#define SEC_AGREE_TEXT_MAX (SEC_AGREE_MAX_MECHS * 420)

typedef enum sec_agree_kind {
    SEC_AGREE_OTHER = 0,    /* any other token (ipsec-ike, ipsec-man, ...) */
    SEC_AGREE_IPSEC_3GPP,
    SEC_AGREE_TLS,
    SEC_AGREE_DIGEST
} sec_agree_kind_t;

/* Integrity algorithms (alg). UNKNOWN: a value we do not implement. */
typedef enum sec_agree_alg {
    SEC_AGREE_ALG_UNKNOWN = 0,
    SEC_AGREE_ALG_HMAC_SHA1_96,
    SEC_AGREE_ALG_HMAC_MD5_96
} sec_agree_alg_t;

/* Encryption algorithms (ealg); an absent ealg means NULL (TS 33.203 Annex H). */
typedef enum sec_agree_ealg {
    SEC_AGREE_EALG_UNKNOWN = 0,
    SEC_AGREE_EALG_NULL,
    SEC_AGREE_EALG_AES_CBC,
    SEC_AGREE_EALG_DES_EDE3_CBC
} sec_agree_ealg_t;

/* Bits of sec_agree_mech_t.present: which ipsec-3gpp parameters were given. */
enum {
    SEC_AGREE_P_ALG = 1u << 0,
    SEC_AGREE_P_EALG = 1u << 1,
    SEC_AGREE_P_SPI_C = 1u << 2,
    SEC_AGREE_P_SPI_S = 1u << 3,
    SEC_AGREE_P_PORT_C = 1u << 4,
    SEC_AGREE_P_PORT_S = 1u << 5,
    SEC_AGREE_P_PROT = 1u << 6,
    SEC_AGREE_P_MOD = 1u << 7
};

/*
 * One mechanism. For every kind: name as received and q. For ipsec-3gpp also
 * the parameters of TS 33.203 Annex H; the *_name texts hold the value as
 * received (or as set by sec_agree_mech_ipsec) and the enums what it means,
 * with the defaults (ealg null, prot esp, mod trans) when absent. Parameters
 * we do not interpret (all of them for tls, digest and others: d-alg, d-ver,
 * ...) are kept in ext as ";name" or ";name=value", in arrival order.
 */
typedef struct sec_agree_mech {
    sec_agree_kind_t kind;
    char name[SEC_AGREE_NAME_SIZE];
    int q;                          /* thousandths, 0..1000, or SEC_AGREE_Q_NONE */
    uint32_t present;               /* SEC_AGREE_P_* */
    sec_agree_alg_t alg;
    sec_agree_ealg_t ealg;
    bool prot_esp;                  /* prot=esp (or absent) */
    bool mod_trans;                 /* mod=trans (or absent) */
    char alg_name[SEC_AGREE_VALUE_SIZE];
    char ealg_name[SEC_AGREE_VALUE_SIZE];
    char prot_name[SEC_AGREE_VALUE_SIZE];
    char mod_name[SEC_AGREE_VALUE_SIZE];
    uint32_t spi_c, spi_s;
    uint16_t port_c, port_s;
    char ext[SEC_AGREE_EXT_SIZE];
} sec_agree_mech_t;

typedef struct sec_agree_list {
    size_t count;
    sec_agree_mech_t mech[SEC_AGREE_MAX_MECHS];
} sec_agree_list_t;

/* One (alg, ealg) pair of the P-CSCF's configured preference list. */
typedef struct sec_agree_pref {
    sec_agree_alg_t alg;
    sec_agree_ealg_t ealg;
} sec_agree_pref_t;

/* --- names -------------------------------------------------------------- */

/* Case-insensitive lookup of "hmac-sha-1-96" / "aes-cbc" ...; UNKNOWN when
 * not one of ours. s need not be NUL-terminated. */
sec_agree_alg_t sec_agree_alg_from(const char *s, size_t len);
sec_agree_ealg_t sec_agree_ealg_from(const char *s, size_t len);
/* Canonical lower-case names (static strings); "" for UNKNOWN. */
const char *sec_agree_alg_name(sec_agree_alg_t alg);
const char *sec_agree_ealg_name(sec_agree_ealg_t ealg);

/* --- parse -------------------------------------------------------------- */

void sec_agree_list_init(sec_agree_list_t *l);

/*
 * Parse one header value s[0..len) (not necessarily NUL-terminated), a
 * comma-separated list of mechanisms, and append them to l: call once per
 * header instance, after sec_agree_list_init. Empty list elements are skipped
 * (RFC 7230 §7) but a value must name at least one mechanism.
 *
 * Refused (IMS_ERROR, *reason a static phrase fit for a 400 reason): bad
 * syntax, more than SEC_AGREE_MAX_MECHS mechanisms in l, a name or value
 * longer than its field, a parameter given twice, a q outside the qvalue
 * grammar, an spi-c/spi-s that is not a decimal 256..4294967295 (0 is
 * invalid, 1..255 reserved: RFC 4303 §2.1), a port not 1..65535, and an
 * ipsec-3gpp mechanism without alg, spi-c, spi-s, port-c or port-s.
 * On error l is left as it was before the call. reason may be NULL.
 */
int sec_agree_parse_add(sec_agree_list_t *l, const char *s, size_t len, const char **reason);

/* sec_agree_list_init, then sec_agree_parse_add for each of the n
 * NUL-terminated values (the instances of one header, in message order). */
int sec_agree_parse(sec_agree_list_t *l, const char *const *values, size_t n,
                    const char **reason);

/* Every instance of header name (e.g. "Security-Client", any case) in msg,
 * parsed into l as by sec_agree_parse. IMS_OK; IMS_DECLINED when msg has no
 * such header (a UE without sec-agree: no IPsec); IMS_ERROR when one is
 * malformed (*reason as above). l is empty unless IMS_OK. */
int sec_agree_parse_msg(sec_agree_list_t *l, const struct sip_msg *msg, const char *name,
                        const char **reason);

/* --- build and format --------------------------------------------------- */

/*
 * Fill m as an ipsec-3gpp mechanism with the given values, prot=esp, mod=trans
 * and every parameter marked present (ealg=null is written out too): the
 * P-CSCF's Security-Server entry (its spi_pc/spi_ps, port_pc/port_ps and the
 * chosen alg/ealg), or a UE's Security-Client entry. q: thousandths or
 * SEC_AGREE_Q_NONE. IMS_ERROR when alg or ealg is UNKNOWN, q is out of range,
 * an SPI is below 256 or a port is 0 (m is then unchanged).
 */
int sec_agree_mech_ipsec(sec_agree_mech_t *m, sec_agree_alg_t alg, sec_agree_ealg_t ealg,
                         uint32_t spi_c, uint32_t spi_s, uint16_t port_c, uint16_t port_s,
                         int q);

/* Append m to l (copied). IMS_ERROR when l is full. */
int sec_agree_list_add(sec_agree_list_t *l, const sec_agree_mech_t *m);

/*
 * Write l as one header value into buf (size bytes, NUL-terminated), e.g.
 *   ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1;...;prot=esp;mod=trans
 * Parameters appear in that order (those absent from the parsed input are
 * left out), then q, then ext; mechanisms are joined by ", ". The text parses
 * back to an equal list. The Security-Verify a UE sends is this text of the
 * Security-Server list it received. *len (may be NULL) gets the length. IMS_ERROR when l is
 * empty or buf too small (SEC_AGREE_TEXT_MAX always suffices).
 */
int sec_agree_format(const sec_agree_list_t *l, char *buf, size_t size, size_t *len);

/* --- select and verify -------------------------------------------------- */

/*
 * Choose the mechanism of offer to answer with: an ipsec-3gpp one with
 * prot=esp, mod=trans and an (alg, ealg) pair listed in prefs; the earliest
 * pair in prefs wins, then the highest q (absent q ranks below any q), then
 * the earliest in offer. IMS_OK with *index into offer->mech; IMS_DECLINED
 * when none is acceptable (RFC 3329 §2.3.1: answer 494 with our
 * Security-Server list).
 */
int sec_agree_select(const sec_agree_list_t *offer, const sec_agree_pref_t *prefs,
                     size_t nprefs, size_t *index);

/* Two mechanisms agree: names (case-insensitive), q, and for ipsec-3gpp the
 * effective alg/ealg/prot/mod (absent ealg equals ealg=null), SPIs and ports;
 * the ext parameters as sets, case-insensitively. */
bool sec_agree_mech_equal(const sec_agree_mech_t *a, const sec_agree_mech_t *b);

/*
 * RFC 3329 §2.3.1: the Security-Verify a UE sends must list exactly the
 * mechanisms of the Security-Server it received. true when verify and server
 * hold the same mechanisms (sec_agree_mech_equal), in any order.
 */
bool sec_agree_verify(const sec_agree_list_t *verify, const sec_agree_list_t *server);

#endif
