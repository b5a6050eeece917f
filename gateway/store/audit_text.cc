#include "gateway/store/audit_text.h"

#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transparency/text_commitment.h"

namespace safeshare::gateway::audit_text {
namespace {

using safeshare::v1::AuditRecord;

struct FieldAccess {
  const char* path;
  std::string* (*mutable_text)(AuditRecord&);
  const std::string& (*text)(const AuditRecord&);
};

const FieldAccess kFields[] = {
    {"declaration.necessity_justification",
     [](AuditRecord& r) { return r.mutable_declaration()->mutable_necessity_justification(); },
     [](const AuditRecord& r) -> const std::string& {
       return r.declaration().necessity_justification();
     }},
    {"declaration.consent_rationale",
     [](AuditRecord& r) { return r.mutable_declaration()->mutable_consent_rationale(); },
     [](const AuditRecord& r) -> const std::string& {
       return r.declaration().consent_rationale();
     }},
    {"declaration.advice_reference",
     [](AuditRecord& r) { return r.mutable_declaration()->mutable_advice_reference(); },
     [](const AuditRecord& r) -> const std::string& { return r.declaration().advice_reference(); }},
    {"declaration.subject_reference",
     [](AuditRecord& r) { return r.mutable_declaration()->mutable_subject_reference(); },
     [](const AuditRecord& r) -> const std::string& {
       return r.declaration().subject_reference();
     }},
    {"declaration.public_body_statement",
     [](AuditRecord& r) { return r.mutable_declaration()->mutable_public_body_statement(); },
     [](const AuditRecord& r) -> const std::string& {
       return r.declaration().public_body_statement();
     }},
    {"reason", [](AuditRecord& r) { return r.mutable_reason(); },
     [](const AuditRecord& r) -> const std::string& { return r.reason(); }},
    {"read_query.subject_reference",
     [](AuditRecord& r) { return r.mutable_read_query()->mutable_subject_reference(); },
     [](const AuditRecord& r) -> const std::string& { return r.read_query().subject_reference(); }},
};

const FieldAccess* Find(absl::string_view field) {
  for (const auto& f : kFields) {
    if (field == f.path) return &f;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& CommittedFields() {
  static const auto* fields = [] {
    auto* out = new std::vector<std::string>;
    for (const auto& f : kFields) out->push_back(f.path);
    return out;
  }();
  return *fields;
}

bool IsCommittedField(absl::string_view field) { return Find(field) != nullptr; }

std::string Get(const AuditRecord& record, absl::string_view field) {
  const FieldAccess* f = Find(field);
  return f == nullptr ? std::string() : f->text(record);
}

void Set(AuditRecord& record, absl::string_view field, std::string text) {
  if (const FieldAccess* f = Find(field); f != nullptr) *f->mutable_text(record) = std::move(text);
}

absl::StatusOr<safeshare::v1::TextCommitment> NewText(uint64_t leaf_index, std::string field,
                                                      std::string text, AuditText& row) {
  auto salt = transparency::NewTextSalt();
  if (!salt.ok()) return salt.status();
  auto digest = transparency::TextCommitment(field, *salt, text);
  if (!digest.ok()) return digest.status();
  safeshare::v1::TextCommitment c;
  c.set_field(field);
  c.set_sha256(*std::move(digest));
  row = AuditText{};
  row.leaf_index = leaf_index;
  row.field = std::move(field);
  row.salt = *std::move(salt);
  row.text = std::move(text);
  return c;
}

// Reasons the gateway writes itself (an escalation's reason code, the status
// message of a refused Submit) name no one and stay readable in the record.
bool GatewayWroteTheReason(const AuditRecord& record) {
  return record.event() == safeshare::v1::AUDIT_EVENT_TYPE_ESCALATED ||
         record.event() == safeshare::v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED;
}

absl::Status CommitTexts(uint64_t leaf_index, AuditRecord& record, std::vector<AuditText>& texts) {
  for (const auto& f : kFields) {
    if (f.path == std::string_view("reason") && GatewayWroteTheReason(record)) continue;
    // Only a field that is present: reading declaration.x must not create
    // an empty declaration in a record that had none.
    if (f.text(record).empty()) continue;
    AuditText row;
    auto c = NewText(leaf_index, f.path, f.text(record), row);
    if (!c.ok()) return c.status();
    f.mutable_text(record)->clear();  // the text leaves the record as hashed
    *record.add_text_commitments() = *std::move(c);
    texts.push_back(std::move(row));
  }
  return absl::OkStatus();
}

std::string ErasedNotice(const AuditText& row) {
  return absl::StrCat("erased on ",
                      absl::FormatTime("%Y-%m-%d", row.erased_time, absl::UTCTimeZone()), " by ",
                      row.erased_by);
}

}  // namespace safeshare::gateway::audit_text
