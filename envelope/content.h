#ifndef SAFESHARE_ENVELOPE_CONTENT_H_
#define SAFESHARE_ENVELOPE_CONTENT_H_

// Typed plaintext: parsing a payload's SealedContent and checking that it
// carries only the data categories its declaration lists.

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "safeshare/v1/content.pb.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::envelope {

// The data categories of every field set in `content`.
std::set<safeshare::v1::DataCategory> CategoriesIn(const safeshare::v1::SealedContent& content);

// Parses plaintext as SealedContent. INVALID_ARGUMENT if it is not one, or
// carries fields unknown to this build (they could hide undeclared data).
absl::StatusOr<safeshare::v1::SealedContent> ParseContent(absl::string_view plaintext);

// Parses the proto3 JSON of `kind`'s content message (ReferralContent for a
// REFERRAL, InformationRequestContent, InformationResponseContent,
// DeclineContent for DECLINE_TO_SHARE, OutcomeContent), as `safeshare send
// --payload` reads it. INVALID_ARGUMENT naming the type when it is not one,
// or when the kind carries no content.
absl::StatusOr<safeshare::v1::SealedContent> ParseContentJson(safeshare::v1::MessageKind kind,
                                                              absl::string_view json);

// Which content check failed, as the status's reason (common/error_reason.h):
// the recipient reports it as the ContentRefusalReason of the same name.
inline constexpr char kContentMalformed[] = "MALFORMED_CONTENT";
inline constexpr char kContentUndeclaredCategory[] = "UNDECLARED_CATEGORY";
inline constexpr char kContentInvalidIdentifier[] = "INVALID_IDENTIFIER";

// OK when `content` is of `kind`, every category it carries is declared, and
// the consistent identifier agrees with the declaration. FAILED_PRECONDITION
// naming the undeclared categories; INVALID_ARGUMENT for an NHS number that
// fails its check digit (any person in the content), a child's NHS number
// absent though the declaration says INCLUDED, or present though it gives a
// reason for leaving it out (CheckIdentifiers). Each refusal carries its
// reason above.
absl::Status CheckContentAgainstDeclaration(const safeshare::v1::SealedContent& content,
                                            safeshare::v1::MessageKind kind,
                                            const safeshare::v1::SharingDeclaration& declaration);

// True for a 10-digit NHS number whose check digit (modulus 11) is right;
// single spaces are allowed between the 3-3-4 groups' digits.
bool IsValidNhsNumber(absl::string_view text);

// The identifier part of CheckContentAgainstDeclaration.
absl::Status CheckIdentifiers(const safeshare::v1::SealedContent& content,
                              const safeshare::v1::SharingDeclaration& declaration);

// The subject reference agencies derive from a child's NHS number, so that
// two agencies reach the same reference for the same child and neither the
// gateway nor an officer can turn it back into the number: lowercase hex
// HMAC-SHA256 under the federation's subject key (32 or more random bytes
// the agencies hold and the gateway does not) over
// "safeshare/subject-reference/v1" 0x00 and the ten digits without spaces.
// INVALID_ARGUMENT for an invalid NHS number or a key under 32 bytes.
absl::StatusOr<std::string> SubjectReferenceFor(absl::string_view nhs_number,
                                                absl::string_view subject_key);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_CONTENT_H_
