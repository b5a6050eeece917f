// safeshare keys gen|rotate|revoke: an agency's envelope keys.
#include "envelope/keys.h"

#include "absl/time/time.h"
#include "agents/cli/common.h"
#include "agents/keyring.h"
#include "google/protobuf/text_format.h"

namespace safeshare::cli {
namespace {

int KeysGen(const Invocation& inv) {
  const std::string out = inv.Flag("out");
  safeshare::agents::Keyring ring;
  safeshare::v1::Agency entry;
  for (auto type : {safeshare::envelope::PrivateKey::Type::kSigning,
                    safeshare::envelope::PrivateKey::Type::kEncryption}) {
    auto key = safeshare::envelope::PrivateKey::Generate(type);
    if (!key.ok()) return Failed(inv, key.status());
    if (auto st = ring.Add(out, *key); !st.ok()) return Failed(inv, st);
    *entry.add_keys() = safeshare::envelope::PublicKeyEntry(*key, absl::Now());
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(entry, &text);
  inv.out << "# private keys written 0600 to " << out
          << "/keys; public keys for the agency's federation entry:\n"
          << text;
  return kExitDone;
}

int KeysRotate(const Invocation& inv) {
  const std::string purpose = inv.Flag("purpose");
  if (purpose != "both" && purpose != "signing" && purpose != "encryption") {
    return inv.BadUsage("--purpose must be signing, encryption or both");
  }
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  auto keys = (*agent)->RotateKeys(purpose != "encryption", purpose != "signing");
  if (!keys.ok()) return Failed(inv, keys.status());
  for (const auto& k : *keys) {
    inv.out << "published " << safeshare::v1::KeyPurpose_Name(k.purpose()) << " key " << k.key_id()
            << " for " << (*agent)->agency_id() << " (now current)\n";
  }
  return kExitDone;
}

int KeysRevoke(const Invocation& inv) {
  auto agent = OpenAgent(inv);
  if (!agent.ok()) return Failed(inv, agent.status());
  auto k = (*agent)->client().RevokeKey(inv.args[0]);
  if (!k.ok()) return Failed(inv, k.status());
  inv.out << "revoked " << k->key_id() << "\n";
  return kExitDone;
}

}  // namespace

std::vector<Command> KeysCommands() {
  return {
      {"keys gen",
       "generate an agency's signing and encryption keys (offline)",
       {},
       {Required({"out", "DIR", "the agency directory; keys go to DIR/keys, 0600"})},
       KeysGen},
      {"keys rotate",
       "new keys for the agency, published to the gateway as current",
       {},
       Flags({{{"purpose", "PURPOSE", "signing | encryption | both", "both"}}, NetworkFlags()}),
       KeysRotate},
      {"keys revoke", "revoke one of the agency's keys", {"KEY_ID"}, NetworkFlags(), KeysRevoke},
  };
}

}  // namespace safeshare::cli
