#!/usr/bin/env bash
# systemd-analyze verify on the packaged units (deploy/debian/), with their
# programs pointed at this build's binaries; any warning fails (verify itself
# exits 0 on an unknown key or a value it ignores). Also checks the hardening
# the operator guide promises is there.
#   verify_units.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC="$1"
BUILD="$2"
command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze is missing (deploy/install-deps.sh installs systemd)"
  exit 1
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/bin/safeshare-gateway|$BUILD/gateway/safeshare-gateway|g" \
  "$SRC/deploy/debian/safeshare-gateway.service" >"$tmp/safeshare-gateway.service"
sed "s|/usr/bin/safeshare |$BUILD/agents/safeshare |g" \
  "$SRC/deploy/debian/safeshare-connector@.service" >"$tmp/safeshare-connector@.service"
cd "$tmp"
status=0
for unit in safeshare-gateway.service safeshare-connector@portsmouth-mash.service; do
  out="$(systemd-analyze verify "./$unit" 2>&1)" || status=1
  if [ -n "$out" ]; then
    echo "$unit: $out"
    status=1
  fi
done
for unit in safeshare-gateway.service safeshare-connector@.service; do
  for want in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes CapabilityBoundingSet= \
    StateDirectory= ProtectHome=yes SystemCallFilter=@system-service UMask=0077; do
    grep -q "^$want" "$unit" || { echo "$unit: no $want"; status=1; }
  done
  grep -q "^ReadWritePaths=" "$unit" && { echo "$unit: ReadWritePaths beyond its state"; status=1; }
done
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' safeshare-gateway.service ||
  { echo "safeshare-gateway.service: reload is not SIGHUP"; status=1; }
[ "$status" -eq 0 ] && echo "units: verified, hardened"
exit "$status"
