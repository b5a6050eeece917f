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

// OK when `content` is of `kind` and every category it carries is declared.
// FAILED_PRECONDITION naming the undeclared categories otherwise.
absl::Status CheckContentAgainstDeclaration(const safeshare::v1::SealedContent& content,
                                            safeshare::v1::MessageKind kind,
                                            const safeshare::v1::SharingDeclaration& declaration);

}  // namespace safeshare::envelope

#endif  // SAFESHARE_ENVELOPE_CONTENT_H_
