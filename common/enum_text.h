// Enum values as text, in one place for the policy engine, the gateway and
// the CLI, so that the same value never reads differently in two places.
#ifndef SAFESHARE_COMMON_ENUM_TEXT_H_
#define SAFESHARE_COMMON_ENUM_TEXT_H_

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace safeshare {

// The prefix of the enum's value names, from its type name:
// DataCategory -> "DATA_CATEGORY_".
std::string EnumPrefix(const google::protobuf::EnumDescriptor* type);

// The value's name without that prefix: CONSENT_STATUS_NOT_SOUGHT ->
// "NOT_SOUGHT". Empty for a number the enum does not name.
std::string EnumShortName(const google::protobuf::EnumDescriptor* type, int value);

// The value as a sentence reads it: CONSENT_STATUS_NOT_SOUGHT -> "not sought".
// "unrecognised value" for a number the enum does not name.
std::string EnumText(const google::protobuf::EnumDescriptor* type, int value);

// Typed forms, e.g. EnumText(v1::CONSENT_STATUS_NOT_SOUGHT). They take the
// number, so that values outside the enum (proto3 keeps them) are accepted.
template <typename E>
std::string EnumShortName(E value) {
  return EnumShortName(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}
template <typename E>
std::string EnumText(E value) {
  return EnumText(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}

}  // namespace safeshare

#endif  // SAFESHARE_COMMON_ENUM_TEXT_H_
