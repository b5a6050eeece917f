#ifndef SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_API_H_
#define SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_API_H_

// The connector's local HTTP/JSON API under /api/v1 (agents/connector/
// openapi.json describes it): bodies are proto3 JSON of the messages in
// safeshare/v1/connector.proto, errors RFC 9457 problem details. The
// practitioner is the signed-in user, never the request body.

#include "absl/status/statusor.h"
#include "agents/connector/connector.h"
#include "agents/web/web_server.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::connector {

// Registers every API route on `server`; `connector` must outlive it.
void AddApiRoutes(Connector* connector, web::WebServer* server);

// The practitioner a signed-in user acts as: their id, and their role from
// its short name (e.g. "designated_safeguarding_lead"). PERMISSION_DENIED
// when the role is missing or not one safeshare knows.
absl::StatusOr<safeshare::v1::Practitioner> PractitionerOf(const web::WebUser& user);

}  // namespace safeshare::connector

#endif  // SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_API_H_
