#!/usr/bin/env bash
# TLS of the HTTPS front against the running kprd: TLS 1.2 and 1.3 only,
# AEAD suites with forward secrecy only (ECDHE + AES-GCM / ChaCha20-Poly1305),
# everything else refused — proven with hand-built ClientHellos
# (tests/hostile/tls_probe.py: OpenSSL 3 can no longer even offer SSLv3,
# RC4 or export suites, so an s_client failure alone could mean "never
# offered") and with openssl s_client for the real handshakes; no
# client-initiated renegotiation; HSTS on every response; no plain HTTP.
# The priority string is server.tls_priorities (default in config.c).
. "$(dirname "$0")/../lib/common.sh"

PORT=${KPR_URL##*:}
HOST=127.0.0.1
PROBE=$(dirname "$0")/../hostile/tls_probe.py
probe() { timeout 10 python3 "$PROBE" "$HOST" "$PORT" "$@"; }
refused() { # version suites: the server must not answer with a ServerHello
  local r; r=$(probe "$1" "$2"); echo "    $1 [$2] -> $r"
  [ -n "$r" ] && [[ $r != serverhello* ]]
}
accepted() { # version suite: a ServerHello choosing exactly that suite
  local r; r=$(probe "$1" "$2"); echo "    $1 [$2] -> $r"
  [ "$r" = "serverhello 0303 $2" ]
}
sclient() { timeout 10 openssl s_client -connect "$HOST:$PORT" -servername localhost "$@" </dev/null 2>&1; }
negotiated() { grep -oE 'Cipher is [^ ]+' | head -1 | cut -d' ' -f3; }

# --- old protocol versions (every suite they might use offered)
OLD_SUITES=c013,c014,c009,c00a,0033,0039,002f,0035,000a,0005,0004
check "SSLv3 ClientHello refused" refused ssl3 "$OLD_SUITES"
check "TLS 1.0 ClientHello refused" refused tls1.0 "$OLD_SUITES"
check "TLS 1.1 ClientHello refused" refused tls1.1 "$OLD_SUITES"
# and by a real client willing to speak them (SECLEVEL=0 lifts OpenSSL's own ban)
check "TLS 1.0 refused (s_client)" [ "$(sclient -tls1 -cipher 'DEFAULT@SECLEVEL=0' | negotiated)" = "(NONE)" ]
check "TLS 1.1 refused (s_client)" [ "$(sclient -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' | negotiated)" = "(NONE)" ]

# --- TLS 1.2 suites that are not AEAD with forward secrecy, one class at a time
check "CBC suites (ECDHE, SHA-1 and SHA-2 MACs) refused" refused tls1.2 c013,c014,c009,c00a,c027,c028,c023,c024
check "RSA key exchange refused (even with AES-GCM)" refused tls1.2 002f,0035,003c,003d,009c,009d
check "3DES refused" refused tls1.2 000a,c008,c012,0016
check "RC4 refused" refused tls1.2 0004,0005,c007,c011
check "finite-field DHE refused" refused tls1.2 009e,009f,0033,0039
check "NULL encryption refused" refused tls1.2 0001,0002,003b,c006,c010
check "anonymous key exchange refused" refused tls1.2 0034,00a6,c018,c019
check "export-grade suites refused" refused tls1.2 0003,0006,0008,0014
check "CCM suites refused" refused tls1.2 c0ac,c0ad,c0ae,c0af
check "weak suites refused by s_client too" \
  [ "$(sclient -tls1_2 -cipher 'AES128-SHA:AES256-GCM-SHA384:DES-CBC3-SHA:ECDHE-ECDSA-AES128-SHA:DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0' | negotiated)" = "(NONE)" ]

# --- what must work: TLS 1.2 ECDHE + AEAD, TLS 1.3
check "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 accepted" accepted tls1.2 c02b
check "TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 accepted" accepted tls1.2 c02c
check "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 accepted" accepted tls1.2 cca9
check "TLS 1.2 with AES-GCM (s_client)" [ "$(sclient -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256 | negotiated)" = ECDHE-ECDSA-AES128-GCM-SHA256 ]
check "TLS 1.2 curl request" curl -fsS --cacert "$KPR_CACERT" --tls-max 1.2 -o /dev/null "$KPR_URL/healthz"
for cs in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
  check "TLS 1.3 $cs accepted" [ "$(sclient -tls1_3 -ciphersuites $cs | negotiated)" = "$cs" ]
done
check "TLS 1.3 AES-CCM-8 (short tag) refused" [ "$(sclient -tls1_3 -ciphersuites TLS_AES_128_CCM_8_SHA256 | negotiated)" = "(NONE)" ]
check "TLS 1.3 curl request" curl -fsS --cacert "$KPR_CACERT" --tlsv1.3 -o /dev/null "$KPR_URL/healthz"
check "the certificate verifies against the stack's CA" grep -q 'Verify return code: 0 (ok)' <<<"$(sclient -tls1_3 -CAfile "$KPR_CACERT")"

# --- client-initiated renegotiation: the server closes instead of a second handshake
reneg=$( (printf 'R\n'; sleep 1) | timeout 8 openssl s_client -connect "$HOST:$PORT" -tls1_2 -msg 2>&1)
check "client-initiated renegotiation refused (one ServerHello, then close)" \
  [ "$(grep -c '<<< .*ServerHello$' <<<"$reneg")" = 1 ]

# --- HSTS on every response, errors included; no plain HTTP
req GET /healthz
hsts=$(header Strict-Transport-Security)
check "HSTS header present" matches "$hsts" '^max-age=[0-9]+'
check "HSTS max-age at least 180 days" [ "${hsts#max-age=}" -ge 15552000 ]
req GET /no/such/path
check "HSTS on error responses too" [ -n "$(header Strict-Transport-Security)" ]
plain=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$PORT/healthz" 2>/dev/null); plain=${plain:-000}
check "plain HTTP on the TLS port is not served (got $plain)" [ "$plain" = 000 ]

finish
