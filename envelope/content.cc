#include "envelope/content.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/error_reason.h"
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
    case safeshare::v1::MESSAGE_KIND_OPERATION_ENCOMPASS:
      return SealedContent::kOperationEncompass;
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
    return WithReason(absl::FailedPreconditionError(
                          absl::StrCat("payload content does not match the envelope kind ",
                                       safeshare::v1::MessageKind_Name(kind))),
                      kContentMalformed);
  }
  std::set<int> declared(declaration.data_categories().begin(),
                         declaration.data_categories().end());
  std::vector<std::string> undeclared;
  for (DataCategory c : CategoriesIn(content)) {
    if (!declared.count(c)) undeclared.push_back(safeshare::v1::DataCategory_Name(c));
  }
  if (!undeclared.empty()) {
    return WithReason(absl::FailedPreconditionError(
                          absl::StrCat("payload carries categories the declaration does not list: ",
                                       absl::StrJoin(undeclared, ", "))),
                      kContentUndeclaredCategory);
  }
  return CheckIdentifiers(content, declaration);
}

namespace {

// Every nhs_number set in `m` (any PersonIdentity), with its field path.
void NhsNumbers(const Message& m, const std::string& path,
                std::vector<std::pair<std::string, std::string>>& out) {
  const auto* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    const std::string here = path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          NhsNumbers(r->GetRepeatedMessage(m, f, i), absl::StrCat(here, "[", i, "]"), out);
        }
      } else {
        NhsNumbers(r->GetMessage(m, f), here, out);
      }
    } else if (f->name() == "nhs_number" &&
               m.GetDescriptor() == safeshare::v1::PersonIdentity::descriptor()) {
      out.push_back({here, r->GetString(m, f)});
    }
  }
}

}  // namespace

bool IsValidNhsNumber(absl::string_view text) {
  std::string digits;
  for (size_t i = 0; i < text.size(); ++i) {
    if (absl::ascii_isdigit(text[i])) {
      digits += text[i];
    } else if (text[i] != ' ' || (digits.size() != 3 && digits.size() != 6) ||
               (i > 0 && text[i - 1] == ' ')) {
      return false;
    }
  }
  if (digits.size() != 10) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  return check != 10 && check == digits[9] - '0';
}

absl::Status CheckIdentifiers(const SealedContent& content,
                              const safeshare::v1::SharingDeclaration& declaration) {
  std::vector<std::pair<std::string, std::string>> numbers;
  NhsNumbers(content, "", numbers);
  bool child_has_one = false;
  for (const auto& [path, number] : numbers) {
    if (!IsValidNhsNumber(number)) {
      // The number itself is personal data: named by its field only.
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            path,
                            " is not a valid NHS number (10 digits with a modulus-11 check "
                            "digit)")),
                        kContentInvalidIdentifier);
    }
    // The child: the content's own child field (referral.record.child, ...).
    if (absl::EndsWith(path, ".child.nhs_number") || absl::StartsWith(path, "child.")) {
      child_has_one = true;
    }
  }
  const auto status = declaration.consistent_identifier();
  if (status == safeshare::v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED && !child_has_one) {
    return WithReason(absl::InvalidArgumentError("the declaration says the child's NHS number is "
                                                 "included, but the content's child has no "
                                                 "nhs_number"),
                      kContentInvalidIdentifier);
  }
  if (status != safeshare::v1::CONSISTENT_IDENTIFIER_STATUS_UNSPECIFIED &&
      status != safeshare::v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED && child_has_one) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "the declaration gives a reason for leaving the child's NHS number out (",
                          safeshare::v1::ConsistentIdentifierStatus_Name(status),
                          ") but the content includes it")),
                      kContentInvalidIdentifier);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SubjectReferenceFor(absl::string_view nhs_number,
                                                absl::string_view subject_key) {
  if (!IsValidNhsNumber(nhs_number)) {
    return absl::InvalidArgumentError("not a valid NHS number (10 digits, modulus-11 check)");
  }
  if (subject_key.size() < 32) {
    return absl::InvalidArgumentError("the federation's subject key must be at least 32 bytes");
  }
  std::string digits;
  for (char c : nhs_number) {
    if (c != ' ') digits += c;
  }
  const std::string message =
      absl::StrCat("safeshare/subject-reference/v1", std::string(1, '\0'), digits);
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                        EVP_MAC_free);
  if (!mac) return absl::InternalError("HMAC is not available");
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()),
                                                                EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  if (!ctx ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(subject_key.data()),
                   subject_key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &out_len, sizeof(out)) != 1) {
    return absl::InternalError("HMAC-SHA256 failed");
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(out), out_len));
}

}  // namespace safeshare::envelope
