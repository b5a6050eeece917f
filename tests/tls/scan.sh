#!/usr/bin/env bash
# An independent TLS scan of a running gateway (docs/development.md): starts
# safeshare-gateway on a fresh development federation and checks it with
# testssl.sh (Debian's) and openssl s_client. Fails unless the gateway offers
# TLS 1.3 only (no SSLv2/3, TLS 1.0/1.1/1.2), only strong key-exchange groups,
# no cipher or finding testssl rates HIGH or CRITICAL, and refuses a client
# without a certificate (while one with its certificate gets through).
#   scan.sh [build dir, default build/]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-${SAFESHARE_BUILD_DIR:-$ROOT/build}}"
WORK="$(mktemp -d /tmp/safeshare-tls-scan.XXXXXX)"
GW_PID=""
cleanup() {
  if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then kill -TERM "$GW_PID"; wait "$GW_PID" || true; fi
  [ -n "${KEEP_SCAN:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "tls scan: FAILED: $*" >&2; exit 1; }

"$BUILD/agents/safeshare" pki init --dir "$WORK/federation" \
  --federation_template "$ROOT/deploy/dev-federation.textproto" >/dev/null
mkdir -m 700 "$WORK/data"
F="$WORK/federation"
cat > "$WORK/gateway.textproto" <<CONF
listen_address: "127.0.0.1:0"
tls { ca_cert_file: "$F/gateway/ca.pem" cert_file: "$F/gateway/cert.pem" key_file: "$F/gateway/key.pem" }
store: "sqlite://$WORK/data/gateway.db"
federation_file: "$F/federation.textproto"
isa_dir: "$ROOT/deploy/isa"
audit_signing_key_file: "$F/gateway/audit-signing.pem"
CONF
"$BUILD/gateway/safeshare-gateway" --config "$WORK/gateway.textproto" --port_file "$WORK/port" \
  --development 2>"$WORK/gateway.log" &
GW_PID=$!
for _ in $(seq 1 100); do
  [ -s "$WORK/port" ] && break
  kill -0 "$GW_PID" 2>/dev/null || { cat "$WORK/gateway.log"; fail "the gateway did not start"; }
  sleep 0.1
done
[ -s "$WORK/port" ] || fail "the gateway did not start"
PORT="$(cat "$WORK/port")"

# 1. testssl.sh: protocols, ciphers per protocol, forward secrecy (groups),
# server defaults and the vulnerability checks, as JSON.
testssl --quiet --color 0 --warnings off --openssl-timeout 10 --jsonfile "$WORK/testssl.json" \
  --add-ca "$F/gateway/ca.pem" \
  -p -E -f -S -U --ip 127.0.0.1 "localhost:$PORT" >"$WORK/testssl.txt" 2>&1 || true
[ -s "$WORK/testssl.json" ] || { cat "$WORK/testssl.txt"; fail "testssl wrote no findings"; }
python3 "$ROOT/tests/tls/check_testssl.py" "$WORK/testssl.json" ||
  { cat "$WORK/testssl.txt"; fail "see the findings above"; }

# 2. A client without a certificate is refused; with its certificate it is
# not (so the refusal is the missing certificate, not a broken setup). In
# TLS 1.3 the server checks the client's certificate after the client's
# Finished and only then sends its session tickets: a ticket means accepted.
A="$F/agencies/portsmouth-mash"
probe() {  # probe [openssl s_client args...]: the TLS messages, one a line
  printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' |
    timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
      -CAfile "$F/gateway/ca.pem" -verify_return_error -alpn h2 -ign_eof -msg "$@" 2>&1 |
    tr -d '\0' || true
}
without="$(probe)"
echo "$without" | grep -q "Finished" || { echo "$without"; fail "no handshake without a certificate"; }
echo "$without" | grep -q "NewSessionTicket" &&
  { echo "$without"; fail "a client without a certificate was accepted"; }
with="$(probe -cert "$A/cert.pem" -key "$A/key.pem")"
echo "$with" | grep -q "NewSessionTicket" ||
  { echo "$with"; fail "a client with its certificate was not accepted"; }
echo "$with" | grep -q "Protocol  *: TLSv1.3" || { echo "$with"; fail "not a TLS 1.3 session"; }
echo "tls scan: a client without a certificate is refused; one with its certificate is not"
echo "tls scan: passed (testssl $(testssl --version 2>/dev/null | grep -o '3\.[0-9.]*' | head -1))"
