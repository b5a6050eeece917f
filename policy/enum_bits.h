// Enum lists as bit masks (bit n set for enum value n), so that a decision
// compares words instead of lists.
#ifndef SAFESHARE_POLICY_ENUM_BITS_H_
#define SAFESHARE_POLICY_ENUM_BITS_H_

#include <cstdint>

#include "safeshare/v1/enums.pb.h"

namespace safeshare::policy {

// 0 for values outside 1..63: unspecified and unknown values set no bit.
constexpr uint64_t Bit(int value) { return value > 0 && value < 64 ? uint64_t{1} << value : 0; }

template <typename List>
uint64_t Mask(const List& values) {
  uint64_t mask = 0;
  for (int v : values) mask |= Bit(v);
  return mask;
}

// UK GDPR Art 9 special categories.
inline constexpr uint64_t kSpecialCategories =
    Bit(safeshare::v1::DATA_CATEGORY_HEALTH) | Bit(safeshare::v1::DATA_CATEGORY_SEXUAL_HEALTH) |
    Bit(safeshare::v1::DATA_CATEGORY_ETHNICITY) | Bit(safeshare::v1::DATA_CATEGORY_RELIGION) |
    Bit(safeshare::v1::DATA_CATEGORY_SEN_DISABILITY);
inline constexpr uint64_t kFullCaseRecord = Bit(safeshare::v1::DATA_CATEGORY_FULL_CASE_RECORD);
inline constexpr uint64_t kCriminalOffence = Bit(safeshare::v1::DATA_CATEGORY_CRIMINAL_OFFENCE);

}  // namespace safeshare::policy

#endif  // SAFESHARE_POLICY_ENUM_BITS_H_
