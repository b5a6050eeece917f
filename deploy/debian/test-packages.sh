#!/usr/bin/env bash
# The packages as an operator meets them: builds them (unless dist/ has
# them), installs them into a fresh Debian 12 root made by debootstrap, and
# runs the packaged gateway there as its system user: `check`, start on the
# SQLite store with a development federation made by the packaged CLI,
# /readyz answering 200, referrals sent and received with the packaged CLI,
# a scrape under load checked by promtool, and an online backup.
#   bash deploy/debian/test-packages.sh [ROOT_DIR]
# Needs root (debootstrap, chroot) and Debian's mirror. About 5 minutes after
# the packages are built; not part of deploy/test.sh.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="${1:-/var/tmp/safeshare-debian-root}"
CACHE=/var/cache/safeshare-debootstrap
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
step() { printf '\n==> %s\n' "$*"; }

ls "$SRC"/dist/safeshare-gateway_*.deb "$SRC"/dist/safeshare-cli_*.deb >/dev/null 2>&1 ||
  bash "$SRC/deploy/debian/build-packages.sh"
command -v debootstrap >/dev/null || bash "$SRC/deploy/install-deps.sh"

step "A fresh Debian 12 root (debootstrap --variant=minbase) in $ROOT"
cleanup() {
  [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  umount "$ROOT/proc" 2>/dev/null || true
}
trap cleanup EXIT
umount "$ROOT/proc" 2>/dev/null || true
rm -rf "$ROOT"
mkdir -p "$CACHE"
debootstrap --variant=minbase --cache-dir="$CACHE" bookworm "$ROOT" "$MIRROR" >/dev/null
mount -t proc proc "$ROOT/proc"
# debootstrap leaves no /etc/hosts; every installed system has one.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
in_root() { chroot "$ROOT" "$@"; }
as_gateway() { chroot --userspec=safeshare:safeshare "$ROOT" "$@"; }

step "Installing the packages with apt (their dependencies from Debian)"
mkdir -p "$ROOT/tmp/debs"
cp "$SRC"/dist/safeshare-gateway_*.deb "$SRC"/dist/safeshare-cli_*.deb "$ROOT/tmp/debs/"
in_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive in_root sh -c \
  'apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb >/dev/null'
in_root dpkg-query -W safeshare-gateway safeshare-cli
in_root id safeshare
[ "$(in_root stat -c '%U:%G %a' /var/lib/safeshare)" = "safeshare:safeshare 750" ]
[ -f "$ROOT/lib/systemd/system/safeshare-gateway.service" ]
[ -f "$ROOT/usr/share/safeshare/web/static/safeshare.css" ]
echo "user, directories and units in place"

step "A development federation, made by the packaged CLI as the gateway's user"
EXAMPLES=/usr/share/doc/safeshare-gateway/examples
FED=/var/lib/safeshare/dev-federation
as_gateway safeshare pki init --dir "$FED" --federation_template "$EXAMPLES/dev-federation.textproto" \
  >/dev/null
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
MPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$ROOT/etc/safeshare/gateway.textproto" <<CONF
listen_address: "127.0.0.1:$PORT"
tls {
  ca_cert_file: "$FED/gateway/ca.pem"
  cert_file: "$FED/gateway/cert.pem"
  key_file: "$FED/gateway/key.pem"
}
store: "sqlite:///var/lib/safeshare/gateway.db"
federation_file: "$FED/federation.textproto"
isa_dir: "$EXAMPLES/isa"
audit_signing_key_file: "$FED/gateway/audit-signing.pem"
rule_pack: "2026"
development: true
metrics { listen_address: "127.0.0.1:$MPORT" }
CONF
in_root chgrp safeshare /etc/safeshare/gateway.textproto
chmod 0640 "$ROOT/etc/safeshare/gateway.textproto"

step "safeshare-gateway check, then the gateway, as user safeshare"
as_gateway safeshare-gateway check --config /etc/safeshare/gateway.textproto
in_root install -d -o safeshare -g safeshare -m 0750 /run/safeshare
# chroot itself in the background (not a function: $! must be the gateway).
chroot --userspec=safeshare:safeshare "$ROOT" safeshare-gateway \
  --config /etc/safeshare/gateway.textproto --runtime_dir /run/safeshare 2>"$ROOT/tmp/gateway.log" &
GW_PID=$!
ready=""
for _ in $(seq 1 100); do
  ready="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz" || true)"
  [ "$ready" = 200 ] && break
  kill -0 "$GW_PID" 2>/dev/null || { cat "$ROOT/tmp/gateway.log"; exit 1; }
  sleep 0.2
done
[ "$ready" = 200 ] || { echo "/readyz answered '$ready'"; cat "$ROOT/tmp/gateway.log"; exit 1; }
echo "/readyz: 200"

step "Referrals through the packaged gateway, with the packaged CLI"
EX=/usr/share/doc/safeshare-cli/examples
agency() {
  local id="$1"
  shift
  in_root safeshare "$@" --gateway "localhost:$PORT" --identity "$FED/agencies/$id"
}
for i in $(seq 1 20); do
  agency hiow-police send --to portsmouth-mash --message_id "pkg-$i" \
    --declaration "$EX/police-to-portsmouth-referral.json" \
    --payload "$EX/police-to-portsmouth-referral.payload.json" \
    --practitioner pc-4471 --role police_officer >/dev/null &
  SEND=$!
  curl -s "http://127.0.0.1:$MPORT/metrics" >"$ROOT/tmp/scrape-$i.txt"
  wait "$SEND"
done
agency portsmouth-mash inbox --out /tmp/inbox | tail -1
for i in $(seq 1 20); do agency portsmouth-mash ack "pkg-$i" >/dev/null; done
agency hiow-police status pkg-20 | head -3

step "promtool on scrapes taken while referrals were sent"
for f in "$ROOT"/tmp/scrape-*.txt; do promtool check metrics <"$f" >/dev/null; done
grep -h '^safeshare_submits_total' "$ROOT/tmp/scrape-20.txt" | head -3
echo "promtool: $(ls "$ROOT"/tmp/scrape-*.txt | wc -l) scrapes pass"

step "An online backup with the packaged gateway while it runs"
as_gateway safeshare-gateway backup --config /etc/safeshare/gateway.textproto \
  --out /var/lib/safeshare/backup.db
[ "$(in_root stat -c '%U %a' /var/lib/safeshare/backup.db)" = "safeshare 600" ]

kill -TERM "$GW_PID"
wait "$GW_PID" # exit status 0: drained and closed the store
GW_PID=""
grep -q '"event":"gateway.stopping"' "$ROOT/tmp/gateway.log"
echo
echo "packages: installed in a fresh Debian 12 root, gateway served from them"
