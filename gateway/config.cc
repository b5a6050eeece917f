#include "gateway/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "envelope/envelope_shape.h"
#include "gateway/text_format_loader.h"
#include "policy/policy_engine.h"

namespace safeshare::gateway {

envelope::DeclarationLimits DeclarationLimitsOf(const safeshare::v1::LimitsConfig& l) {
  envelope::DeclarationLimits out;
  out.max_declaration_bytes = l.max_declaration_bytes();
  out.max_text_field_bytes = l.max_text_field_bytes();
  out.max_repeated_entries = l.max_repeated_entries();
  return out;
}

absl::StatusOr<safeshare::v1::GatewayConfig> LoadGatewayConfig(const std::string& path) {
  safeshare::v1::GatewayConfig config;
  if (absl::Status st = LoadTextProtoFile(path, &config); !st.ok()) return st;
  return config;
}

void FinalizeLimits(safeshare::v1::LimitsConfig& l) {
  // The declaration's defaults are the envelope library's, so that agents and
  // `safeshare policy check` refuse what a default gateway refuses.
  const envelope::DeclarationLimits declaration;
  if (l.max_declaration_bytes() == 0) {
    l.set_max_declaration_bytes(static_cast<uint32_t>(declaration.max_declaration_bytes));
  }
  if (l.max_text_field_bytes() == 0) {
    l.set_max_text_field_bytes(static_cast<uint32_t>(declaration.max_text_field_bytes));
  }
  if (l.max_repeated_entries() == 0) {
    l.set_max_repeated_entries(static_cast<uint32_t>(declaration.max_repeated_entries));
  }
  if (l.max_replies_per_thread() == 0) l.set_max_replies_per_thread(200);
  if (l.max_keys_per_agency() == 0) l.set_max_keys_per_agency(64);
  if (l.max_streams_per_principal() == 0) l.set_max_streams_per_principal(4);
  if (l.max_streams_total() == 0) l.set_max_streams_total(1024);
  if (l.mailbox_quota_bytes() == 0) l.set_mailbox_quota_bytes(uint64_t{2} << 30);
  if (l.max_reply_bytes() == 0) l.set_max_reply_bytes(8 << 20);
  if (l.max_commit_queue() == 0) l.set_max_commit_queue(10000);
  if (l.transport_memory_bytes() == 0) l.set_transport_memory_bytes(uint64_t{1} << 30);
  if (l.max_concurrent_streams_per_connection() == 0)
    l.set_max_concurrent_streams_per_connection(64);
  if (l.handshake_timeout_ms() == 0) l.set_handshake_timeout_ms(10000);
  const envelope::CreatedTimeWindow created;
  if (l.max_created_ahead_seconds() == 0) {
    l.set_max_created_ahead_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(created.max_ahead)));
  }
  if (l.max_created_age_seconds() == 0) {
    l.set_max_created_age_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(created.max_age)));
  }
}

absl::Status FinalizeGatewayConfig(safeshare::v1::GatewayConfig& config) {
  if (config.max_message_bytes() == 0) config.set_max_message_bytes(kDefaultMaxMessageBytes);
  FinalizeLimits(*config.mutable_limits());
  // Recipients' agents hold delivered envelopes to the default window (they
  // cannot see this file): a wider one here would accept what they refuse.
  const envelope::CreatedTimeWindow agents_window;
  if (config.limits().max_created_ahead_seconds() > absl::ToInt64Seconds(agents_window.max_ahead) ||
      config.limits().max_created_age_seconds() > absl::ToInt64Seconds(agents_window.max_age)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: limits.max_created_ahead_seconds and limits.max_created_age_seconds may be at "
        "most ",
        absl::ToInt64Seconds(agents_window.max_ahead), " and ",
        absl::ToInt64Seconds(agents_window.max_age),
        ": recipients' agents refuse envelopes dated outside that window"));
  }
  if (config.listen_address().empty()) config.set_listen_address("127.0.0.1:7443");
  auto require = [](const std::string& value, const char* name) {
    return value.empty()
               ? absl::InvalidArgumentError(absl::StrCat("config: ", name, " must be set"))
               : absl::OkStatus();
  };
  for (auto st :
       {require(config.tls().ca_cert_file(), "tls.ca_cert_file (or --ca)"),
        require(config.tls().cert_file(), "tls.cert_file (or --cert)"),
        require(config.tls().key_file(), "tls.key_file (or --key)"),
        require(config.store(), "store (or --store)"),
        require(config.federation_file(), "federation_file (or --federation)"),
        require(config.isa_dir(), "isa_dir (or --isa_dir)"),
        require(config.audit_signing_key_file(), "audit_signing_key_file (or --audit_key)")}) {
    if (!st.ok()) return st;
  }
  auto& witnessing = *config.mutable_witnessing();
  if (!witnessing.witness_policy_file().empty() && witnessing.witness_ca_file().empty()) {
    return absl::InvalidArgumentError(
        "config: witnessing.witness_ca_file must be set to reach the witnesses of "
        "witnessing.witness_policy_file");
  }
  if (!witnessing.listen_address().empty()) {
    for (auto st : {require(witnessing.witness_key_file(), "witnessing.witness_key_file"),
                    require(witnessing.witness_name(), "witnessing.witness_name")}) {
      if (!st.ok()) return st;
    }
  }
  if (witnessing.cosign_interval_ms() == 0) witnessing.set_cosign_interval_ms(10000);
  if (config.rule_pack().empty()) config.set_rule_pack("2026");
  policy::RulePack pack;
  if (!policy::ParseRulePack(config.rule_pack(), &pack)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: rule_pack '", config.rule_pack(),
                     "' is not a known edition (2018, 2024 or 2026)"));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<envelope::PrivateKey> LoadSigningKey(const std::string& file) {
  auto pem = ReadFile(file);
  if (!pem.ok()) return pem.status();
  auto key = envelope::PrivateKey::FromPem(*pem);
  if (!key.ok() || key->type() != envelope::PrivateKey::Type::kSigning) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": not an Ed25519 private key"));
  }
  return key;
}

}  // namespace

absl::StatusOr<envelope::PrivateKey> LoadAuditSigningKey(
    const std::string& file, const safeshare::v1::AuditLogIdentity& log) {
  auto key = LoadSigningKey(file);
  if (key.ok() && key->RawPublicKey() != log.public_key()) {
    return absl::FailedPreconditionError(
        absl::StrCat(file, " does not match the audit_log public key in the federation file"));
  }
  return key;
}

absl::StatusOr<transparency::WitnessPolicy> LoadWitnessPolicy(const std::string& file) {
  auto text = ReadFile(file);
  if (!text.ok()) return text.status();
  auto policy = transparency::WitnessPolicy::Parse(*text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", policy.status().message()));
  }
  return policy;
}

absl::StatusOr<envelope::PrivateKey> LoadWitnessKey(const std::string& file,
                                                    const safeshare::v1::AuditLogIdentity& log) {
  auto key = LoadSigningKey(file);
  if (key.ok() && key->RawPublicKey() == log.public_key()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": the witness key must not be the audit log's own key"));
  }
  return key;
}

}  // namespace safeshare::gateway
