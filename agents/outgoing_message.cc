#include "agents/outgoing_message.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "envelope/identity_uri.h"

namespace safeshare::agents {

std::string NewMessageId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();  // no entropy: nothing safe to do
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                         b[12], b[13], b[14], b[15]);
}

safeshare::v1::Envelope BuildEnvelopeHeader(const OutgoingMessage& m) {
  safeshare::v1::Envelope e;
  e.set_message_id(m.message_id.empty() ? NewMessageId() : m.message_id);
  e.set_kind(m.kind);
  e.set_sender_agency_id(m.sender_agency_id);
  *e.mutable_sender_practitioner() = m.practitioner;
  e.set_recipient_agency_id(m.recipient_agency_id);
  const int64_t us = absl::ToUnixMicros(absl::Now());
  e.mutable_created_time()->set_seconds(us / 1000000);
  e.mutable_created_time()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  e.set_in_reply_to(m.in_reply_to);
  *e.mutable_declaration() = m.declaration;
  e.set_team_id(m.team_id);
  e.set_team_message_id(m.team_message_id);
  return e;
}

absl::StatusOr<std::string> PrincipalUriOfCertificate(const std::string& cert_pem) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  std::vector<std::string> uris;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    if (absl::StartsWithIgnoreCase(v, envelope::kIdentityScheme)) uris.push_back(v);
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  // The gateway refuses a certificate with two identities; so does the agent.
  if (uris.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate has ", uris.size(), " safeshare:// URI SANs; it must have exactly one"));
  }
  return uris.front();
}

}  // namespace safeshare::agents
