#ifndef SAFESHARE_TESTS_TRANSPARENCY_TEST_KEYS_H_
#define SAFESHARE_TESTS_TRANSPARENCY_TEST_KEYS_H_

// Fixed Ed25519 keys for the transparency tests: a seed of 32 equal bytes.
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace safeshare::transparency::testing {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

inline Key FromSeed(char fill) {
  const std::string seed(32, fill);
  return Key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(seed.data()), 32));
}

// The raw 32-byte public key.
inline std::string Pub(EVP_PKEY* key) {
  std::string pub(32, '\0');
  size_t len = pub.size();
  EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(pub.data()), &len);
  return pub;
}

}  // namespace safeshare::transparency::testing

#endif  // SAFESHARE_TESTS_TRANSPARENCY_TEST_KEYS_H_
