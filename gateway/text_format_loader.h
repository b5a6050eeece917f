#ifndef SAFESHARE_GATEWAY_TEXT_FORMAT_LOADER_H_
#define SAFESHARE_GATEWAY_TEXT_FORMAT_LOADER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace safeshare::gateway {

// Parses a proto text format file into `message`. INVALID_ARGUMENT with
// "file:line:column: reason" on the first error.
absl::Status LoadTextProtoFile(const std::string& path, google::protobuf::Message* message);

// The same for text already read; `name` begins the error ("name:line:column:
// reason").
absl::Status ParseTextProto(absl::string_view text, absl::string_view name,
                            google::protobuf::Message* message);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_TEXT_FORMAT_LOADER_H_
