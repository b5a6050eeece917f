#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds, creates a
# development federation (CA and certificates for the HIPS agencies and two IG
# officers), starts the gateway on its embedded SQLite store, and sends real
# referrals through it over mutual TLS, showing each one accepted, delivered
# and acknowledged; then starts two agency connectors (Southsea Academy and
# Portsmouth MASH) and sends a referral through their local API, and the IG
# console for the partnership's data protection officer. With --serve it
# keeps them all running and prints their URLs, so that a referral can be
# clicked through in a browser and its audit trail read (Ctrl-C stops them).
# Everything it makes lives in .safeshare-dev/.
set -euo pipefail
SERVE=0
[ "${1:-}" = "--serve" ] && SERVE=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SAFESHARE_BUILD_DIR:-$ROOT/build}"
DEV="$ROOT/.safeshare-dev"
EX="$ROOT/deploy/examples"

step() { printf '\n==> %s\n' "$*"; }

step "Installing build dependencies (quiet when present) and building"
bash "$ROOT/deploy/install-deps.sh"
bash "$ROOT/deploy/build.sh"
SAFESHARE="$BUILD/agents/safeshare"
GATEWAY="$BUILD/gateway/safeshare-gateway"

step "Creating the development federation in $DEV/federation"
rm -rf "$DEV"
mkdir -p "$DEV/data"
chmod 700 "$DEV/data"
"$SAFESHARE" pki init --dir "$DEV/federation" \
  --federation_template "$ROOT/deploy/dev-federation.textproto"

cat > "$DEV/gateway.textproto" <<CONF
# safeshare.v1.GatewayConfig (see docs/operator-guide.md)
listen_address: "127.0.0.1:0"
tls {
  ca_cert_file: "$DEV/federation/gateway/ca.pem"
  cert_file: "$DEV/federation/gateway/cert.pem"
  key_file: "$DEV/federation/gateway/key.pem"
}
store: "sqlite://$DEV/data/gateway.db"
federation_file: "$DEV/federation/federation.textproto"
isa_dir: "$ROOT/deploy/isa"
audit_signing_key_file: "$DEV/federation/gateway/audit-signing.pem"
rule_pack: "2026"
delivery { school_calendar_dir: "$ROOT/deploy/school-calendars" }
CONF

step "Starting safeshare-gateway (SQLite store, TLS 1.3 with client certificates)"
# pki issued development certificates: --development accepts them.
"$GATEWAY" --config "$DEV/gateway.textproto" --port_file "$DEV/gateway.port" --development \
  2>"$DEV/gateway.log" &
GW_PID=$!
CONNECTOR_PIDS=()
stop_gateway() {
  for pid in "${CONNECTOR_PIDS[@]}" "$GW_PID"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait "$pid" || true
    fi
  done
}
trap stop_gateway EXIT
for _ in $(seq 1 100); do
  [ -s "$DEV/gateway.port" ] && break
  kill -0 "$GW_PID" 2>/dev/null || { cat "$DEV/gateway.log"; exit 1; }
  sleep 0.1
done
[ -s "$DEV/gateway.port" ] || { echo "gateway did not start"; cat "$DEV/gateway.log"; exit 1; }
PORT="$(cat "$DEV/gateway.port")"
echo "gateway listening on 127.0.0.1:$PORT (log: $DEV/gateway.log)"

agency() {  # agency ID COMMAND ARGS... : run the CLI as that agency
  local id="$1"; shift
  "$SAFESHARE" "$@" --gateway "localhost:$PORT" --identity "$DEV/federation/agencies/$id"
}

step "The federation directory, as Southsea Academy sees it"
agency southsea-academy agencies

step "Sending referrals"
POLICE_ID="demo-$(date +%s)-police"
SCHOOL_ID="demo-$(date +%s)-school"
CROSS_ID="demo-$(date +%s)-cross-border"
echo "Hampshire & Isle of Wight Constabulary -> Portsmouth MASH (domestic abuse, urgent):"
agency hiow-police send --to portsmouth-mash --message_id "$POLICE_ID" \
  --receipt_out "$DEV/police-receipt.json" \
  --declaration "$EX/police-to-portsmouth-referral.json" \
  --payload "$EX/police-to-portsmouth-referral.payload.json" \
  --practitioner pc-4471 --role police_officer
echo "Southsea Academy (DSL) -> Portsmouth MASH (neglect, standard):"
agency southsea-academy send --to portsmouth-mash --message_id "$SCHOOL_ID" \
  --declaration "$EX/school-to-portsmouth-referral.json" \
  --payload "$EX/school-to-portsmouth-referral.payload.json" \
  --practitioner dsl-01 --role designated_safeguarding_lead
echo "Portsmouth MASH -> Hampshire Children's Reception Team (cross-border: child lives in Hampshire):"
agency portsmouth-mash send --to hampshire-crt --message_id "$CROSS_ID" \
  --declaration "$EX/portsmouth-to-hampshire-referral.json" \
  --payload "$EX/portsmouth-to-hampshire-referral.payload.json" \
  --practitioner pm-sw-0147 --role mash_practitioner

step "Operation Encompass: the police tell the child's school before its next school day"
ENCOMPASS_ID="demo-$(date +%s)-encompass"
agency hiow-police send --kind operation_encompass --to southsea-academy \
  --message_id "$ENCOMPASS_ID" \
  --declaration "$EX/police-operation-encompass-to-school.json" \
  --payload "$EX/police-operation-encompass-to-school.payload.json" \
  --practitioner pc-4471 --role police_officer
echo "Due by Southsea Academy's next session start (deploy/school-calendars/southsea-academy.json):"
agency hiow-police status "$ENCOMPASS_ID"
agency southsea-academy inbox --out "$DEV/inbox/southsea-academy"
agency southsea-academy ack "$ENCOMPASS_ID"

step "Shares the golden rules and the agreements do not allow as declared"
echo "Southsea Academy declares criminal-offence data and a full case record (beyond its ISA with Portsmouth MASH):"
agency southsea-academy send --to portsmouth-mash --message_id "demo-$(date +%s)-overshare" \
  --declaration "$EX/school-overshare-referral.json" \
  --payload "$EX/school-to-portsmouth-referral.payload.json" \
  --practitioner dsl-01 --role designated_safeguarding_lead || true
echo "Southsea Academy asks an IG officer first (held, not delivered, until advice is given):"
ADVICE_ID="demo-$(date +%s)-advice"
agency southsea-academy send --to portsmouth-mash --message_id "$ADVICE_ID" \
  --declaration "$EX/school-advice-requested-referral.json" \
  --payload "$EX/school-to-portsmouth-referral.payload.json" \
  --practitioner dsl-01 --role designated_safeguarding_lead

step "What the police see before Portsmouth MASH collects"
agency hiow-police status "$POLICE_ID"

step "Portsmouth MASH and Hampshire CRT collect their mail"
agency portsmouth-mash inbox --out "$DEV/inbox/portsmouth-mash"
agency hampshire-crt inbox --out "$DEV/inbox/hampshire-crt"

step "They acknowledge each referral"
agency portsmouth-mash ack "$POLICE_ID"
agency portsmouth-mash ack "$SCHOOL_ID"
agency hampshire-crt ack "$CROSS_ID"

step "What each sender sees now"
agency hiow-police status "$POLICE_ID"
agency southsea-academy status "$SCHOOL_ID"
agency portsmouth-mash status "$CROSS_ID"

step "One agency cannot touch another's mail (expected refusal)"
agency southampton-mash ack "$POLICE_ID" || true

step "The police check their receipt offline: the decision is in the signed audit log"
"$SAFESHARE" receipt verify --receipt "$DEV/police-receipt.json" \
  --federation "$DEV/federation/federation.textproto"

step "Across the border: Southampton MASH asks Hampshire CRT what it holds"
REQ_ID="demo-$(date +%s)-request"
agency southampton-mash request --to hampshire-crt --message_id "$REQ_ID" \
  --ask education,social_care_history,health \
  --declaration "$EX/southampton-request-to-hampshire.json" \
  --payload "$EX/southampton-request-to-hampshire.payload.json" \
  --practitioner soton-sw-0311 --role social_worker
agency hampshire-crt inbox --out "$DEV/inbox/hampshire-crt"

step "Hampshire CRT answers with what it holds (fewer categories than asked)"
agency hampshire-crt respond "$REQ_ID" --message_id "demo-$(date +%s)-response" \
  --declaration "$EX/hampshire-response-to-southampton.json" \
  --payload "$EX/hampshire-response-to-southampton.payload.json" \
  --practitioner crt-sw-2231 --role social_worker
agency southampton-mash inbox --out "$DEV/inbox/southampton-mash"
agency southampton-mash thread "$REQ_ID"

step "A strategy discussion: Portsmouth MASH asks its team (police and hospitals) at once"
TEAM_ID="demo-$(date +%s)-strategy"
agency portsmouth-mash send --kind information_request --to_team portsmouth-strategy-discussion \
  --message_id "$TEAM_ID" \
  --declaration "$EX/portsmouth-strategy-team-request.json" \
  --payload "$EX/portsmouth-strategy-team-request.payload.json" \
  --practitioner pm-sw-0147 --role mash_practitioner
agency portsmouth-hospitals inbox --out "$DEV/inbox/portsmouth-hospitals"
agency portsmouth-hospitals ack "$TEAM_ID:portsmouth-hospitals"

step "Portsmouth MASH tells the police what the front door decided"
agency portsmouth-mash outcome "$POLICE_ID" --message_id "demo-$(date +%s)-outcome" \
  --outcome_decision strategy_discussion \
  --declaration "$EX/portsmouth-outcome-to-police.json" \
  --practitioner pm-sw-0147 --role mash_practitioner
agency hiow-police inbox --out "$DEV/inbox/hiow-police"
agency hiow-police thread "$POLICE_ID"

officer() {  # officer AGENCY.ID COMMAND ARGS... : run the CLI as an IG officer
  local id="$1"; shift
  "$SAFESHARE" "$@" --gateway "localhost:$PORT" --identity "$DEV/federation/officers/$id"
}
step "Portsmouth's IG lead gives the advice the school asked for"
officer portsmouth-mash.ig-lead advice list
officer portsmouth-mash.ig-lead advice approve "$ADVICE_ID" \
  --reason "Attendance and welfare notes are necessary for the threshold decision; share."
agency southsea-academy status "$ADVICE_ID"

step "The partnership's data protection officer reviews the flows"
officer hampshire-crt.dpo audit checkpoint --federation "$DEV/federation/federation.textproto"
officer hampshire-crt.dpo audit report
officer hampshire-crt.dpo audit export --format csv --out "$DEV/audit-export.csv"
officer hampshire-crt.dpo audit export --format jsonl --out "$DEV/audit-export.jsonl"
echo "exported $(($(wc -l < "$DEV/audit-export.csv") - 1)) audit records to $DEV/audit-export.csv"

step "Key transparency: Portsmouth MASH rotates its keys; partners and the MASH check the log"
agency portsmouth-mash keys rotate
agency hiow-police keys history --agency portsmouth-mash
agency portsmouth-mash keys monitor

connector() {  # connector AGENCY USER ROLE: start `safeshare agent serve` for it
  local id="$1"
  cat > "$DEV/connector-$id.textproto" <<CONF
# safeshare.v1.ConnectorConfig (see docs/connector.md)
gateway: "localhost:$PORT"
listen: "127.0.0.1:0"
data_dir: "$DEV/connector-$id"
federation_file: "$DEV/federation/federation.textproto"
isa_dir: "$ROOT/deploy/isa"
port_file: "$DEV/connector-$id.port"
local_user { id: "$2" role: $3 }
CONF
  "$SAFESHARE" agent serve --identity "$DEV/federation/agencies/$id" \
    --config "$DEV/connector-$id.textproto" 2>"$DEV/connector-$id.log" &
  CONNECTOR_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -s "$DEV/connector-$id.port" ] && break
    sleep 0.1
  done
  [ -s "$DEV/connector-$id.port" ] || { cat "$DEV/connector-$id.log"; exit 1; }
}

step "Agency connectors: Southsea Academy's and Portsmouth MASH's (local API and pages)"
connector southsea-academy dsl-01 PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD
connector portsmouth-mash pm-sw-0147 PRACTITIONER_ROLE_MASH_PRACTITIONER
SCHOOL_URL="http://127.0.0.1:$(cat "$DEV/connector-southsea-academy.port")"
MASH_URL="http://127.0.0.1:$(cat "$DEV/connector-portsmouth-mash.port")"
echo "Southsea Academy: $SCHOOL_URL/   Portsmouth MASH: $MASH_URL/"
echo "The school's case-management system sends a referral as JSON; its connector seals it:"
/usr/bin/python3 - "$SCHOOL_URL" "$MASH_URL" "$EX" <<'PY'
import json, sys, time, urllib.request
school, mash, ex = sys.argv[1:4]
def call(base, path, body=None, csrf=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "X-CSRF-Token": csrf or ""})
    with urllib.request.urlopen(req) as r:
        return r.status, json.load(r)
_, session = call(school, "/api/v1/session")
draft = {"kind": "MESSAGE_KIND_REFERRAL", "recipient_agency_id": "portsmouth-mash",
         "declaration": json.load(open(ex + "/school-to-portsmouth-referral.json")),
         "content": {"referral": json.load(open(ex + "/school-to-portsmouth-referral.payload.json"))}}
status, sent = call(school, "/api/v1/messages", draft, session["csrf_token"])
mid = sent["message_id"]
print(f"  POST /api/v1/messages -> {status}: {sent['receipt']['state']}, "
      f"agreement {sent['receipt']['decision']['isa_id']}, receipt verified: {sent['receipt_verified']}")
for _ in range(100):
    try:
        _, got = call(mash, "/api/v1/inbox/" + mid)
        break
    except urllib.error.HTTPError:
        time.sleep(0.1)
child = got["content"]["referral"]["record"]["child"]
print(f"  Portsmouth MASH's connector opened it: {child['given_names']} {child['family_name']}, "
      f"from {got['header']['sender_agency_id']}")
PY

step "The IG console for the partnership's data protection officer"
"$SAFESHARE" console --identity "$DEV/federation/officers/hampshire-crt.dpo" \
  --gateway "localhost:$PORT" --federation "$DEV/federation/federation.textproto" \
  --listen 127.0.0.1:0 --port_file "$DEV/console.port" 2>"$DEV/console.log" &
CONNECTOR_PIDS+=("$!")
for _ in $(seq 1 100); do
  [ -s "$DEV/console.port" ] && break
  sleep 0.1
done
[ -s "$DEV/console.port" ] || { cat "$DEV/console.log"; exit 1; }
CONSOLE_URL="http://127.0.0.1:$(cat "$DEV/console.port")"
echo "IG console: $CONSOLE_URL/"
/usr/bin/python3 - "$CONSOLE_URL" <<'PY'
import re, sys, urllib.request
page = urllib.request.urlopen(sys.argv[1] + "/flows").read().decode()
state = re.search(r'data-integrity="(\w+)"', page).group(1)
print(f"  the console's flows page: audit log {state}; "
      f"{len(re.findall('<svg', page))} charts drawn from verified records")
if state != "verified":
    sys.exit(1)
PY

if [ "$SERVE" = 1 ]; then
  step "Serving until Ctrl-C"
  echo "Open Southsea Academy's connector: $SCHOOL_URL/compose"
  echo "Open Portsmouth MASH's connector:  $MASH_URL/inbox"
  echo "Open the data protection officer's IG console: $CONSOLE_URL/advice"
  trap 'stop_gateway; exit 0' INT TERM
  wait "$GW_PID"
fi

step "Stopping the console, the connectors and the gateway (SIGTERM, graceful)"
stop_gateway
trap - EXIT

step "Verifying the whole audit log offline (database copy and export)"
cp "$DEV/data/gateway.db" "$DEV/audit-copy.db"
"$SAFESHARE" audit verify --db "$DEV/audit-copy.db" --federation "$DEV/federation/federation.textproto"
"$SAFESHARE" audit verify --export_file "$DEV/audit-export.jsonl" \
  --federation "$DEV/federation/federation.textproto"
echo "Done. Federation: $DEV/federation  Store: $DEV/data/gateway.db  Inboxes: $DEV/inbox"
