#include "agents/web/assets.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "common/log.h"

namespace safeshare::web {
namespace {

void AddAsset(WebServer* server, const std::string& route, const std::string& file,
              const std::string& type) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream data;
  data << in.rdbuf();
  if (!in) LogEvent("warn", "web.asset_missing", {{"file", file}});
  auto content = std::make_shared<std::string>(data.str());
  server->PublicGet(route, [content, type](const WebRequest&, httplib::Response& res) {
    if (content->empty()) {
      res.status = 404;
      return;
    }
    res.set_content(*content, type.c_str());
  });
}

}  // namespace

std::string DefaultWebAssetsDir() { return SAFESHARE_WEB_ASSETS_DIR; }

void AddAssetRoutes(WebServer* server, const std::string& assets_dir) {
  const std::string govuk = assets_dir + "/node_modules/govuk-frontend/dist/govuk";
  AddAsset(server, "/assets/govuk-frontend.min.css", govuk + "/govuk-frontend.min.css", "text/css");
  AddAsset(server, "/assets/govuk-frontend.min.js", govuk + "/govuk-frontend.min.js",
           "text/javascript");
  AddAsset(server, "/assets/images/favicon.ico", govuk + "/assets/images/favicon.ico",
           "image/x-icon");
  AddAsset(server, "/assets/safeshare.css", assets_dir + "/static/safeshare.css", "text/css");
  AddAsset(server, "/assets/safeshare-init.js", assets_dir + "/static/safeshare-init.js",
           "text/javascript");
  AddAsset(server, "/assets/safeshare.js", assets_dir + "/static/safeshare.js", "text/javascript");
}

}  // namespace safeshare::web
