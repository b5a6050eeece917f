#include "envelope/content.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::envelope {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using safeshare::v1::DataCategory;
using safeshare::v1::SealedContent;

bool HasUnknownFields(const Message& m) {
  const auto* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) return true;
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (HasUnknownFields(r->GetRepeatedMessage(m, f, i))) return true;
      }
    } else if (HasUnknownFields(r->GetMessage(m, f))) {
      return true;
    }
  }
  return false;
}

// A set field with a category counts as that category (whatever is inside
// it); an uncategorised message field is a container and is searched.
void Collect(const Message& m, std::set<DataCategory>& out) {
  const auto* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    const auto& options = f->options();
    if (options.HasExtension(safeshare::v1::category)) {
      out.insert(options.GetExtension(safeshare::v1::category));
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      Collect(r->GetMessage(m, f), out);
    }
  }
}

SealedContent::ContentCase CaseFor(safeshare::v1::MessageKind kind) {
  switch (kind) {
    case safeshare::v1::MESSAGE_KIND_REFERRAL:
      return SealedContent::kReferral;
    case safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST:
      return SealedContent::kInformationRequest;
    case safeshare::v1::MESSAGE_KIND_INFORMATION_RESPONSE:
      return SealedContent::kInformationResponse;
    case safeshare::v1::MESSAGE_KIND_DECLINE_TO_SHARE:
      return SealedContent::kDecline;
    case safeshare::v1::MESSAGE_KIND_OUTCOME:
      return SealedContent::kOutcome;
    default:
      return SealedContent::CONTENT_NOT_SET;
  }
}

}  // namespace

std::set<DataCategory> CategoriesIn(const SealedContent& content) {
  std::set<DataCategory> out;
  Collect(content, out);
  return out;
}

absl::StatusOr<SealedContent> ParseContent(absl::string_view plaintext) {
  SealedContent content;
  if (!content.ParseFromArray(plaintext.data(), static_cast<int>(plaintext.size()))) {
    return absl::InvalidArgumentError("payload plaintext is not a safeshare.v1.SealedContent");
  }
  if (HasUnknownFields(content)) {
    return absl::InvalidArgumentError(
        "payload content carries fields unknown to safeshare.v1; refused because they could "
        "hold undeclared categories");
  }
  return content;
}

absl::StatusOr<SealedContent> ParseContentJson(safeshare::v1::MessageKind kind,
                                               absl::string_view json) {
  SealedContent out;
  const SealedContent::ContentCase content_case = CaseFor(kind);
  if (content_case == SealedContent::CONTENT_NOT_SET) {
    return absl::InvalidArgumentError("no content type for this kind");
  }
  // The oneof's field numbers are its cases.
  google::protobuf::Message* target = out.GetReflection()->MutableMessage(
      &out, SealedContent::descriptor()->FindFieldByNumber(content_case));
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), target);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", target->GetTypeName(), ": ", st.message().as_string()));
  }
  return out;
}

absl::Status CheckContentAgainstDeclaration(const SealedContent& content,
                                            safeshare::v1::MessageKind kind,
                                            const safeshare::v1::SharingDeclaration& declaration) {
  if (content.content_case() == SealedContent::CONTENT_NOT_SET ||
      content.content_case() != CaseFor(kind)) {
    return absl::FailedPreconditionError(
        absl::StrCat("payload content does not match the envelope kind ",
                     safeshare::v1::MessageKind_Name(kind)));
  }
  std::set<int> declared(declaration.data_categories().begin(),
                         declaration.data_categories().end());
  std::vector<std::string> undeclared;
  for (DataCategory c : CategoriesIn(content)) {
    if (!declared.count(c)) undeclared.push_back(safeshare::v1::DataCategory_Name(c));
  }
  if (!undeclared.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("payload carries categories the declaration does not list: ",
                     absl::StrJoin(undeclared, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::envelope
