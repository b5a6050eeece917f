#include "agents/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace safeshare::agents {

namespace fs = std::filesystem;

absl::StatusOr<Keyring> Keyring::Load(const std::string& identity_dir) {
  Keyring ring;
  const fs::path dir = fs::path(identity_dir) / "keys";
  std::error_code ec;
  if (!fs::exists(dir, ec)) return ring;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!absl::EndsWith(name, ".pem")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream pem;
    pem << in.rdbuf();
    auto key = envelope::PrivateKey::FromPem(pem.str());
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(entry.path().string(), ": ", key.status().message()));
    }
    struct stat st {};
    stat(entry.path().c_str(), &st);
    const int64_t written =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    ring.keys_.emplace(key->KeyId(), Entry{*key, written});
  }
  if (ec) return absl::UnavailableError(absl::StrCat(dir.string(), ": ", ec.message()));
  return ring;
}

absl::Status Keyring::Add(const std::string& identity_dir, const envelope::PrivateKey& key) {
  const fs::path dir = fs::path(identity_dir) / "keys";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(dir.string(), ": ", ec.message()));
  chmod(dir.c_str(), 0700);
  const char* prefix =
      key.type() == envelope::PrivateKey::Type::kSigning ? "signing-" : "encryption-";
  const std::string path = (dir / absl::StrCat(prefix, key.KeyId(), ".pem")).string();
  if (auto st = WriteFileAtomically(path, key.Pem(), 0600); !st.ok()) return st;
  int64_t newest = 0;
  for (const auto& [id, e] : keys_) newest = std::max(newest, e.written);
  keys_.insert_or_assign(key.KeyId(), Entry{key, newest + 1});
  return absl::OkStatus();
}

absl::StatusOr<envelope::PrivateKey> Keyring::Find(const std::string& key_id) const {
  auto it = keys_.find(key_id);
  if (it == keys_.end()) {
    return absl::NotFoundError(absl::StrCat("no private key ", key_id, " in this keyring"));
  }
  return it->second.key;
}

absl::StatusOr<envelope::PrivateKey> Keyring::Newest(envelope::PrivateKey::Type type) const {
  const Entry* best = nullptr;
  for (const auto& [id, e] : keys_) {
    if (e.key.type() == type && (best == nullptr || e.written > best->written)) best = &e;
  }
  if (best == nullptr) return absl::NotFoundError("the keyring holds no key of that type");
  return best->key;
}

}  // namespace safeshare::agents
