#ifndef SAFESHARE_AGENTS_CONNECTOR_OPENAPI_SCHEMAS_H_
#define SAFESHARE_AGENTS_CONNECTOR_OPENAPI_SCHEMAS_H_

// The JSON Schemas of the API's bodies, derived from the protos they are
// printed from (proto3 JSON, proto field names), so that openapi.json cannot
// drift from what the server sends: the OpenAPI test compares them.

#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"

namespace safeshare::connector {

// The messages the API takes or returns.
std::vector<const google::protobuf::Descriptor*> ApiMessages();

// components.schemas for `roots` and every message and enum they use, keyed
// by full name ("safeshare.v1.Draft"), as the proto3 JSON printer writes
// them: every field optional (defaults are left out), 64-bit integers as
// strings, enums by name, Timestamps as RFC 3339 strings, bytes as base64.
google::protobuf::Struct SchemasFor(const std::vector<const google::protobuf::Descriptor*>& roots);

}  // namespace safeshare::connector

#endif  // SAFESHARE_AGENTS_CONNECTOR_OPENAPI_SCHEMAS_H_
