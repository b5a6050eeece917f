"""Judges a testssl.sh JSON report (--jsonfile) of a safeshare gateway: TLS 1.3
only, strong key-exchange groups only, and nothing rated HIGH or CRITICAL but
the certificate findings that belong to the operator's PKI rather than to the
TLS configuration. Prints what it found; exits 1 on any problem.

  check_testssl.py REPORT.json
"""
import json
import sys

# Key exchange: X25519, X448 and the NIST P-256/384/521 curves, or
# finite-field groups of 3072 bits or more.
STRONG_GROUPS = {"X25519", "X448", "prime256v1", "secp384r1", "secp521r1",
                 "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"}
GROUP_IDS = ("PFS_ECDHE_curves", "FS_ECDHE_curves", "DH_groups", "PFS_DH_groups", "FS_DH_groups")
# Rated HIGH by testssl but not the gateway's TLS configuration: `pki init`
# issues 30-day development certificates (testssl rates expiry within 30 days
# HIGH), and revocation is by the federation file's CRL, checked on every call
# (docs/operator-guide.md), so certificates carry no CRL or OCSP address.
NOT_TLS_CONFIG = {"cert_expirationStatus", "cert_notAfter", "cert_revocation"}
# The vulnerability checks (-U) that must have run: a scan cut short passes
# nothing.
VULNERABILITY_IDS = {"heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "CRIME_TLS",
                     "POODLE_SSL", "fallback_SCSV", "FREAK", "DROWN", "LOGJAM",
                     "BEAST", "LUCKY13", "RC4"}


def problems(report):
    findings = {f["id"]: f for f in report}

    def finding(i):
        return findings.get(i, {}).get("finding", "")

    out = []
    for f in report:
        if f.get("severity") == "FATAL" or f["id"] == "scanProblem":
            out.append(f"the scan failed: {f['id']}: {f.get('finding', '')}")
    missing = sorted(VULNERABILITY_IDS - findings.keys())
    if missing:
        out.append(f"vulnerability checks missing from the report: {' '.join(missing)}")
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2"):
        if not finding(proto).startswith("not offered"):
            out.append(f"{proto}: {finding(proto) or 'not tested'}")
    if not finding("TLS1_3").startswith("offered"):
        out.append(f"TLS1_3: {finding('TLS1_3') or 'not tested'}")
    groups = " ".join(finding(i) for i in GROUP_IDS).split()
    if not groups:
        out.append("no key-exchange groups reported")
    weak = [g for g in groups if g not in STRONG_GROUPS]
    if weak:
        out.append(f"weak groups offered: {' '.join(weak)}")
    for f in report:
        if f.get("severity") in ("HIGH", "CRITICAL") and f["id"] not in NOT_TLS_CONFIG:
            out.append(f"{f['id']} ({f['severity']}): {f.get('finding', '')}")
    return groups, out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        report = json.load(f)
    groups, found = problems(report)
    print("testssl: groups offered: " + (" ".join(groups) or "none"))
    for p in found:
        print("  " + p)
    if not found:
        print("testssl: TLS 1.3 only, strong groups only, no HIGH or CRITICAL finding")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
