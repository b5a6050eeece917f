#ifndef SAFESHARE_AGENTS_KEYRING_H_
#define SAFESHARE_AGENTS_KEYRING_H_

// An agency's private keys on disk: <identity>/keys/signing-<key_id>.pem and
// encryption-<key_id>.pem, PKCS#8 PEM, 0600. Old keys stay so that messages
// sealed to them still open.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "envelope/keys.h"

namespace safeshare::agents {

class Keyring {
 public:
  // Loads every key under `dir`/keys (an empty keyring if there is none).
  static absl::StatusOr<Keyring> Load(const std::string& identity_dir);

  // Writes `key` into `identity_dir`/keys (0600) and adds it here.
  absl::Status Add(const std::string& identity_dir, const envelope::PrivateKey& key);

  // The private key with this directory key id, or NOT_FOUND.
  absl::StatusOr<envelope::PrivateKey> Find(const std::string& key_id) const;
  // The most recently written key of a type, or NOT_FOUND.
  absl::StatusOr<envelope::PrivateKey> Newest(envelope::PrivateKey::Type type) const;
  size_t size() const { return keys_.size(); }

 private:
  struct Entry {
    envelope::PrivateKey key;
    int64_t written;  // file mtime, to pick the newest
  };
  std::map<std::string, Entry> keys_;
};

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_KEYRING_H_
