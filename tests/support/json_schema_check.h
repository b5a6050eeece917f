#ifndef SAFESHARE_TESTS_SUPPORT_JSON_SCHEMA_CHECK_H_
#define SAFESHARE_TESTS_SUPPORT_JSON_SCHEMA_CHECK_H_

// Checks JSON against the schemas of an OpenAPI document: the parts of JSON
// Schema that agents/connector/openapi.json uses ($ref, type, enum,
// properties, additionalProperties, items, required).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace safeshare::testing {

// The OpenAPI document (JSON) at `path`.
absl::StatusOr<google::protobuf::Struct> LoadOpenApi(const std::string& path);

// OK when `json` is valid against `schema`, whose $refs point into `doc`;
// else says where and why.
absl::Status CheckJsonAgainst(const std::string& json, const google::protobuf::Value& schema,
                              const google::protobuf::Struct& doc);

// The schema of `method path` answering `status` with `media_type`, e.g.
// ("post", "/api/v1/messages", 201, "application/json"); NOT_FOUND when the
// document does not list that answer.
absl::StatusOr<google::protobuf::Value> ResponseSchema(const google::protobuf::Struct& doc,
                                                       const std::string& method,
                                                       const std::string& path, int status,
                                                       const std::string& media_type);

}  // namespace safeshare::testing

#endif  // SAFESHARE_TESTS_SUPPORT_JSON_SCHEMA_CHECK_H_
