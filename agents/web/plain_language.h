#ifndef SAFESHARE_AGENTS_WEB_PLAIN_LANGUAGE_H_
#define SAFESHARE_AGENTS_WEB_PLAIN_LANGUAGE_H_

// What people read instead of enum names (practitioners and officers): each value's label, the
// choices a form offers, and each golden-rules check's title and wording.

#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace safeshare::web {

// "Public task: your organisation's statutory functions (UK GDPR Art 6(1)(e))"
// for LAWFUL_BASIS_PUBLIC_TASK; values without their own label read as
// their name does ("Not practicable").
std::string Label(const google::protobuf::EnumDescriptor* type, int value);
template <typename E>
std::string Label(E value) {
  return Label(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}

// Every value but UNSPECIFIED as (full value name, label).
std::vector<std::pair<std::string, std::string>> Choices(
    const google::protobuf::EnumDescriptor* type);
template <typename E>
std::vector<std::pair<std::string, std::string>> Choices() {
  return Choices(google::protobuf::GetEnumDescriptor<E>());
}

// "Lawful basis" for "lawful_basis", and the rule as the 2024 advice puts it.
std::string CheckTitle(const std::string& check);
std::string CheckWording(const std::string& check);

}  // namespace safeshare::web

#endif  // SAFESHARE_AGENTS_WEB_PLAIN_LANGUAGE_H_
