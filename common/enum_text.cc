#include "common/enum_text.h"

namespace safeshare {
namespace {

// ASCII only, whatever the locale: enum names are ASCII.
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string EnumPrefix(const google::protobuf::EnumDescriptor* type) {
  std::string prefix;
  for (char c : type->name()) {
    if (IsUpper(c) && !prefix.empty()) prefix += '_';
    prefix += ToUpper(c);
  }
  return prefix + "_";
}

std::string EnumShortName(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* v = type->FindValueByNumber(value);
  if (v == nullptr) return "";
  const std::string prefix = EnumPrefix(type);
  // A name without the prefix (none in safeshare.v1) is kept whole.
  return v->name().compare(0, prefix.size(), prefix) == 0 ? v->name().substr(prefix.size())
                                                          : v->name();
}

std::string EnumText(const google::protobuf::EnumDescriptor* type, int value) {
  std::string text = EnumShortName(type, value);
  if (text.empty()) return "unrecognised value";
  for (char& c : text) {
    c = c == '_' ? ' ' : ToLower(c);
  }
  return text;
}

}  // namespace safeshare
