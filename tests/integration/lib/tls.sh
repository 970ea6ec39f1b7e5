# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Throwaway certificates for the SIP over TLS tests (sourced after lib/common.sh; lib/reg.sh
# sources it), made with openssl: EC P-256 keys, valid two days, PEM files. What openssl
# says goes to DIR/openssl.log; a failure fails the test.
#
# tls_ca DIR [NAME]
#   A self-signed CA: DIR/NAME.pem and DIR/NAME.key (NAME defaults to ca).
# tls_cert DIR NAME IP DNS [CA]
#   DIR/NAME.pem and DIR/NAME.key, subjectAltName IP:IP and DNS:DNS (our nodes check that
#   a peer's certificate names the address it is reached at or comes from), signed by
#   DIR/CA.pem (default ca).

tls_ca() {
    local dir=$1 name=${2:-ca}
    command -v openssl >/dev/null || fail "openssl not found (scripts/install-deps.sh)"
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$dir/$name.key" -out "$dir/$name.pem" -subj "/CN=ims-core test CA $name" \
        >>"$dir/openssl.log" 2>&1 ||
        fail "openssl could not make the CA $name: $(tail -3 "$dir/openssl.log")"
}

tls_cert() {
    local dir=$1 name=$2 ip=$3 dns=$4 ca=${5:-ca}
    printf 'subjectAltName=IP:%s,DNS:%s\n' "$ip" "$dns" >"$dir/$name.ext"
    {
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$dns" &&
            openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
                -CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem"
    } >>"$dir/openssl.log" 2>&1 ||
        fail "openssl could not make the certificate $name: $(tail -3 "$dir/openssl.log")"
}
