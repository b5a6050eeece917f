#include "gateway/store/store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/store/sqlite_store.h"

namespace safeshare::gateway {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& uri) {
  constexpr absl::string_view kSqlite = "sqlite://";
  if (absl::StartsWith(uri, kSqlite)) {
    std::string path = uri.substr(kSqlite.size());
    if (path.empty()) {
      return absl::InvalidArgumentError("store: sqlite:// URI names no file");
    }
    auto store = SqliteStore::Open(path);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "store: unsupported store URI '", uri, "'; use sqlite:///path/to/file.db"));
}

}  // namespace safeshare::gateway
