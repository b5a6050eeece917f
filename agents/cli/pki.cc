// safeshare pki init|issue|crl: a development federation's certificates.
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "agents/cli/common.h"
#include "agents/pki/dev_pki.h"

namespace safeshare::cli {
namespace {

FlagSpec DirFlag() { return Required({"dir", "DIR", "the federation directory"}); }

int PkiInit(const Invocation& inv) {
  const std::string dir = inv.Flag("dir");
  auto st = safeshare::agents::CreateDevFederation(inv.Flag("federation_template"), dir,
                                                   inv.Switch("force"));
  if (!st.ok()) return Failed(inv, st);
  inv.out << "federation created in " << dir
          << " (CA, gateway, agency and officer certificates; keys 0600)\n"
          << "these are development certificates: start the gateway with --development\n";
  return kExitDone;
}

int PkiIssue(const Invocation& inv) {
  auto not_before_days = inv.Int("not_before_days");
  if (!not_before_days.ok()) return inv.BadUsage(std::string(not_before_days.status().message()));
  auto valid_days = inv.Int("valid_days");
  if (!valid_days.ok()) return inv.BadUsage(std::string(valid_days.status().message()));
  auto st = safeshare::agents::IssueClientCertificate(
      inv.Flag("dir"), inv.Flag("principal"), inv.Flag("out"), absl::Hours(24) * *not_before_days,
      absl::Hours(24) * *valid_days);
  if (!st.ok()) return Failed(inv, st);
  inv.out << "issued " << inv.Flag("principal") << " into " << inv.Flag("out") << "\n";
  return kExitDone;
}

int PkiCrl(const Invocation& inv) {
  auto next_update_days = inv.Int("next_update_days");
  if (!next_update_days.ok()) return inv.BadUsage(std::string(next_update_days.status().message()));
  std::vector<std::string> serials =
      absl::StrSplit(inv.Flag("revoke"), ',', absl::SkipWhitespace());
  auto st = safeshare::agents::IssueDevelopmentCrl(inv.Flag("dir"), serials, inv.Flag("out"),
                                                   absl::Minutes(-5),
                                                   absl::Hours(24) * *next_update_days);
  if (!st.ok()) return Failed(inv, st);
  inv.out << "CRL revoking " << serials.size() << " certificate(s) written to " << inv.Flag("out")
          << "; name it in the federation file (revoked_certificates.crl_file) and send SIGHUP\n";
  return kExitDone;
}

}  // namespace

std::vector<Command> PkiCommands() {
  return {
      {"pki init",
       "create a development federation: CA, gateway, agency and officer certificates",
       {},
       {DirFlag(),
        {"federation_template", "FILE", "agencies and officers to issue certificates for",
         "deploy/dev-federation.textproto"},
        {"force", "", "replace an existing federation CA"}},
       PkiInit},
      {"pki issue",
       "issue one more client certificate from a development federation's CA",
       {},
       {DirFlag(),
        Required({"principal", "URI",
                  "safeshare://<federation-id>/agency/<id> or "
                  "safeshare://<federation-id>/officer/<agency>/<id>"}),
        Required({"out", "DIR", "where to write ca.pem, cert.pem and key.pem"}),
        {"not_before_days", "N", "validity starts this many days from now", "0"},
        {"valid_days", "N", "days of validity, at most 30 (development certificates)", "30"}},
       PkiIssue},
      {"pki crl",
       "write a CRL from a development federation's CA (to practise revocation)",
       {},
       {DirFlag(),
        {"revoke", "SERIALS", "hex serials to revoke, comma-separated", ""},
        Required({"out", "FILE", "where to write the PEM CRL"}),
        {"next_update_days", "N", "days until the CRL's nextUpdate", "7"}},
       PkiCrl},
  };
}

}  // namespace safeshare::cli
