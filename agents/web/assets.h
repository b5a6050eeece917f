#ifndef SAFESHARE_AGENTS_WEB_ASSETS_H_
#define SAFESHARE_AGENTS_WEB_ASSETS_H_

// The files every page loads, served from this process so that a page needs
// no network at run time: the GOV.UK Design System (npm, pinned by
// package-lock.json, installed by deploy/install-deps.sh) and static/.

#include <string>

#include "agents/web/web_server.h"

namespace safeshare::web {

// agents/web of the checkout this was built from: where `npm ci` put
// govuk-frontend.
std::string DefaultWebAssetsDir();

// Registers /assets/... for the files under `assets_dir` (read once, at
// start; a missing file is logged and answers 404).
void AddAssetRoutes(WebServer* server, const std::string& assets_dir);

}  // namespace safeshare::web

#endif  // SAFESHARE_AGENTS_WEB_ASSETS_H_
