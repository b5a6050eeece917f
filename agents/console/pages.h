#ifndef SAFESHARE_AGENTS_CONSOLE_PAGES_H_
#define SAFESHARE_AGENTS_CONSOLE_PAGES_H_

// The IG console's pages: the advice queue, flows (charts, tables, CSV),
// search (subject access requests included), integrity and export, and the
// monthly partnership report. Server-rendered in the GOV.UK Design System;
// every page reads through the officer's own certificate, so the gateway's
// scope is the console's scope, and shows whether the log verified.

#include <string>

#include "agents/console/console.h"
#include "agents/web/web_server.h"

namespace safeshare::console {

void AddConsoleRoutes(Console* console, web::WebServer* server, const std::string& assets_dir);

}  // namespace safeshare::console

#endif  // SAFESHARE_AGENTS_CONSOLE_PAGES_H_
