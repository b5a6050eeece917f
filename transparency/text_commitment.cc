#include "transparency/text_commitment.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace safeshare::transparency {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

absl::StatusOr<std::string> TextCommitment(absl::string_view field, absl::string_view salt,
                                           absl::string_view text) {
  if (salt.size() != kTextSaltBytes) {
    return absl::InvalidArgumentError("a text commitment's salt is 32 bytes");
  }
  if (field.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("a committed field path cannot contain 0x00");
  }
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const unsigned char zero = 0;
  std::string out(32, '\0');
  unsigned int len = 0;
  if (md == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), kTextCommitmentDomain, sizeof(kTextCommitmentDomain) - 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), &zero, 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), field.data(), field.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), &zero, 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != out.size()) {
    return absl::InternalError("SHA-256 failed");
  }
  return out;
}

absl::StatusOr<std::string> NewTextSalt() {
  std::string salt(kTextSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return absl::InternalError("the random number generator failed");
  }
  return salt;
}

}  // namespace safeshare::transparency
