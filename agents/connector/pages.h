#ifndef SAFESHARE_AGENTS_CONNECTOR_PAGES_H_
#define SAFESHARE_AGENTS_CONNECTOR_PAGES_H_

// The practitioners' pages of the connector: inbox, a message, compose (with
// the golden-rules findings live as the form changes), sent and a sent
// message's timeline. Server-rendered in the GOV.UK Design System; the few
// scripts only update what the server already renders.

#include <string>

#include "agents/connector/connector.h"
#include "agents/web/web_server.h"

namespace safeshare::connector {

// Registers the pages and the static assets under `assets_dir`
// (web::AddAssetRoutes).
void AddPageRoutes(Connector* connector, web::WebServer* server, const std::string& assets_dir);

}  // namespace safeshare::connector

#endif  // SAFESHARE_AGENTS_CONNECTOR_PAGES_H_
