#include "transparency/checkpoint.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "transparency/merkle.h"

namespace safeshare::transparency {
namespace {

// "— ": U+2014 EM DASH, then a space.
constexpr absl::string_view kSigPrefix = "\xe2\x80\x94 ";
constexpr unsigned char kAlgEd25519 = 0x01;
constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SigBytes = 64;
constexpr size_t kMaxSignatures = 100;  // as in the Go reference implementation

struct EvpFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
template <typename T>
using Owned = std::unique_ptr<T, EvpFree>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Decodes UTF-8 into code points; false if malformed (truncated, overlong,
// surrogate or beyond U+10FFFF).
bool DecodeUtf8(absl::string_view s, std::vector<char32_t>& out) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    int extra;
    char32_t cp;
    if (c < 0x80) {
      extra = 0;
      cp = c;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    out.push_back(cp);
    i += extra + 1;
  }
  return true;
}

// Go's unicode.IsSpace, which the reference implementation uses for names.
bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

// UTF-8 without ASCII control characters other than newline.
bool IsNoteText(absl::string_view s) {
  std::vector<char32_t> runes;
  if (!DecodeUtf8(s, runes)) return false;
  for (char32_t r : runes) {
    if (r < 0x20 && r != '\n') return false;
  }
  return true;
}

// Standard padded base64, refusing every non-canonical spelling (missing
// padding, stray bits, whitespace) so one value has exactly one encoding.
bool StrictBase64(absl::string_view in, std::string& out) {
  return absl::Base64Unescape(in, &out) && absl::Base64Escape(out) == in;
}

uint32_t ReadBigEndian32(absl::string_view b) {
  return (uint32_t{static_cast<unsigned char>(b[0])} << 24) |
         (uint32_t{static_cast<unsigned char>(b[1])} << 16) |
         (uint32_t{static_cast<unsigned char>(b[2])} << 8) |
         uint32_t{static_cast<unsigned char>(b[3])};
}

std::string BigEndian32(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  return std::string(b, 4);
}

std::string KeyHashHex(uint32_t hash) { return absl::BytesToHexString(BigEndian32(hash)); }

// A decimal with no sign, no leading zeros and no other characters.
bool ParseCanonicalDecimal(absl::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(s, &out);  // fails on overflow
}

absl::StatusOr<Owned<EVP_PKEY>> Ed25519PublicKey(absl::string_view raw) {
  if (raw.size() != kEd25519KeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 public key is ", raw.size(), " bytes, expected ", kEd25519KeyBytes));
  }
  Owned<EVP_PKEY> key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, U(raw), raw.size()));
  if (!key) return absl::InvalidArgumentError("not an Ed25519 public key");
  return key;
}

bool VerifyEd25519(EVP_PKEY* key, absl::string_view message, absl::string_view sig) {
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  return md && EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(md.get(), U(sig), sig.size(), U(message), message.size()) == 1;
}

}  // namespace

bool IsValidKeyName(absl::string_view key_name) {
  std::vector<char32_t> runes;
  if (key_name.empty() || !DecodeUtf8(key_name, runes)) return false;
  for (char32_t r : runes) {
    if (r < 0x20 || r == 0x7f || r == '+' || IsUnicodeSpace(r)) return false;
  }
  return true;
}

uint32_t NoteKeyHash(absl::string_view key_name, absl::string_view raw_ed25519_public_key,
                     unsigned char algorithm) {
  const std::string input =
      absl::StrCat(key_name, "\n", absl::string_view(reinterpret_cast<const char*>(&algorithm), 1),
                   raw_ed25519_public_key);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure; there is no sane recovery.
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return ReadBigEndian32(absl::string_view(reinterpret_cast<char*>(digest), 4));
}

absl::StatusOr<std::string> SignNote(absl::string_view text, absl::string_view key_name,
                                     EVP_PKEY* ed25519_private_key) {
  if (text.empty() || text.back() != '\n' || !IsNoteText(text)) {
    return absl::InvalidArgumentError(
        "note text must be non-empty UTF-8 ending in a newline, without control characters");
  }
  if (!IsValidKeyName(key_name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid key name \"", key_name, "\""));
  }
  if (ed25519_private_key == nullptr || EVP_PKEY_get_id(ed25519_private_key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the checkpoint signing key must be Ed25519");
  }
  std::string pub(kEd25519KeyBytes, '\0');
  size_t pub_len = pub.size();
  if (EVP_PKEY_get_raw_public_key(ed25519_private_key, reinterpret_cast<unsigned char*>(pub.data()),
                                  &pub_len) != 1 ||
      pub_len != kEd25519KeyBytes) {
    return absl::InternalError("cannot read the Ed25519 public key");
  }
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  std::string sig(kEd25519SigBytes, '\0');
  size_t sig_len = sig.size();
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, ed25519_private_key) != 1 ||
      EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, U(text),
                     text.size()) != 1 ||
      sig_len != kEd25519SigBytes) {
    return absl::InternalError("Ed25519 signing failed");
  }
  const std::string blob = absl::StrCat(BigEndian32(NoteKeyHash(key_name, pub)), sig);
  return absl::StrCat(text, "\n", kSigPrefix, key_name, " ", absl::Base64Escape(blob), "\n");
}

absl::StatusOr<ParsedNote> ParseNote(absl::string_view note) {
  if (!IsNoteText(note)) {
    return absl::InvalidArgumentError(
        "malformed note: not UTF-8, or contains control characters other than newline");
  }
  // Signature lines never contain a blank line, so the last one ends the text.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError("malformed note: no blank line before the signatures");
  }
  ParsedNote parsed;
  parsed.text = std::string(note.substr(0, split + 1));
  absl::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return absl::InvalidArgumentError("malformed note: no signature lines");
  if (sigs.back() != '\n') {
    return absl::InvalidArgumentError("malformed note: does not end with a newline");
  }
  sigs.remove_suffix(1);
  const std::vector<absl::string_view> lines = absl::StrSplit(sigs, '\n');
  if (lines.size() > kMaxSignatures) {
    return absl::InvalidArgumentError(absl::StrCat("malformed note: ", lines.size(),
                                                   " signature lines, at most ", kMaxSignatures));
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = absl::StrCat("malformed note: signature line ", i + 1);
    absl::string_view line = lines[i];
    if (!absl::ConsumePrefix(&line, kSigPrefix)) {
      return absl::InvalidArgumentError(absl::StrCat(where, " does not start with \"— \""));
    }
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has no signature after the name"));
    }
    const absl::string_view name = line.substr(0, space);
    if (!IsValidKeyName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has an invalid key name"));
    }
    std::string blob;
    if (!StrictBase64(line.substr(space + 1), blob)) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is not canonical base64"));
    }
    if (blob.size() < 5) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is too short for a key hash"));
    }
    parsed.signatures.push_back({std::string(name), ReadBigEndian32(blob), blob.substr(4)});
  }
  return parsed;
}

absl::StatusOr<std::string> OpenNote(absl::string_view note, absl::string_view key_name,
                                     absl::string_view raw_ed25519_public_key) {
  if (!IsValidKeyName(key_name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid key name \"", key_name, "\""));
  }
  absl::StatusOr<Owned<EVP_PKEY>> key = Ed25519PublicKey(raw_ed25519_public_key);
  if (!key.ok()) return key.status();
  const uint32_t want_hash = NoteKeyHash(key_name, raw_ed25519_public_key);
  const std::string key_id = absl::StrCat(key_name, "+", KeyHashHex(want_hash));
  absl::StatusOr<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  int verified = 0;
  std::vector<std::string> others;
  for (size_t i = 0; i < parsed->signatures.size(); ++i) {
    const NoteSignature& line = parsed->signatures[i];
    if (line.name != key_name || line.key_hash != want_hash) {
      // Some other key (a witness, say): the spec says to ignore it.
      others.push_back(absl::StrCat(line.name, "+", KeyHashHex(line.key_hash)));
      continue;
    }
    if (line.signature.size() != kEd25519SigBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed note: signature line ", i + 1, ": signature by ", key_id, " is ",
                       line.signature.size(), " bytes, expected ", kEd25519SigBytes));
    }
    if (!VerifyEd25519(key->get(), parsed->text, line.signature)) {
      return absl::UnauthenticatedError(
          absl::StrCat("the signature by ", key_id,
                       " does not verify: the note was altered or signed by another key"));
    }
    ++verified;
  }
  if (verified == 0) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the note has no signature by ", key_id, others.empty() ? "" : " (signed only by ",
        absl::StrJoin(others, ", "), others.empty() ? "" : ")"));
  }
  return parsed->text;
}

std::string CheckpointBody(const Checkpoint& checkpoint) {
  return absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                      absl::Base64Escape(checkpoint.root_hash), "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body) {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError("checkpoint body does not end with a newline");
  }
  body.remove_suffix(1);
  const std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  if (lines.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint has ", lines.size(), " lines, expected 3 (origin, size, root hash)",
        lines.size() > 3 ? "; extension lines are not accepted" : ""));
  }
  Checkpoint c;
  if (lines[0].empty()) return absl::InvalidArgumentError("checkpoint origin line is empty");
  c.origin = std::string(lines[0]);
  if (!ParseCanonicalDecimal(lines[1], c.size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint size \"", lines[1], "\" is not a canonical decimal number"));
  }
  if (!StrictBase64(lines[2], c.root_hash)) {
    return absl::InvalidArgumentError("checkpoint root hash is not canonical base64");
  }
  if (c.root_hash.size() != kHashBytes) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint root hash is ", c.root_hash.size(),
                                                   " bytes, expected ", kHashBytes));
  }
  return c;
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint, absl::string_view key_name,
                                           EVP_PKEY* ed25519_private_key) {
  if (checkpoint.origin.empty() || !IsNoteText(checkpoint.origin) ||
      absl::StrContains(checkpoint.origin, '\n')) {
    return absl::InvalidArgumentError(
        "checkpoint origin must be a non-empty line of UTF-8 without control characters");
  }
  if (checkpoint.root_hash.size() != kHashBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint root hash is ", checkpoint.root_hash.size(), " bytes, expected ", kHashBytes));
  }
  return SignNote(CheckpointBody(checkpoint), key_name, ed25519_private_key);
}

absl::StatusOr<Checkpoint> VerifyCheckpoint(absl::string_view note, absl::string_view key_name,
                                            absl::string_view raw_ed25519_public_key,
                                            absl::string_view expected_origin) {
  absl::StatusOr<std::string> body = OpenNote(note, key_name, raw_ed25519_public_key);
  if (!body.ok()) return body.status();
  absl::StatusOr<Checkpoint> c = ParseCheckpointBody(*body);
  if (!c.ok()) return c.status();
  if (c->origin != expected_origin) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint origin is \"", c->origin,
                                                   "\", expected \"", expected_origin, "\""));
  }
  return c;
}

absl::StatusOr<std::string> VerifierKey(absl::string_view key_name,
                                        absl::string_view raw_ed25519_public_key) {
  if (!IsValidKeyName(key_name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid key name \"", key_name, "\""));
  }
  if (auto key = Ed25519PublicKey(raw_ed25519_public_key); !key.ok()) return key.status();
  return absl::StrCat(
      key_name, "+", KeyHashHex(NoteKeyHash(key_name, raw_ed25519_public_key)), "+",
      absl::Base64Escape(absl::StrCat(absl::string_view("\x01", 1), raw_ed25519_public_key)));
}

absl::StatusOr<NoteVerifierKey> ParseVerifierKey(absl::string_view verifier_key) {
  // The name has no "+"; the base64 key may.
  const std::vector<absl::string_view> parts =
      absl::StrSplit(verifier_key, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError("verifier key is not <name>+<key hash>+<key>");
  }
  NoteVerifierKey out;
  if (!IsValidKeyName(parts[0])) {
    return absl::InvalidArgumentError("verifier key has an invalid key name");
  }
  out.name = std::string(parts[0]);
  if (parts[1].size() != 8 || !absl::c_all_of(parts[1], [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
      })) {
    return absl::InvalidArgumentError("verifier key hash is not 8 lowercase hex digits");
  }
  const uint32_t hash = ReadBigEndian32(absl::HexStringToBytes(parts[1]));
  std::string key;
  if (!StrictBase64(parts[2], key)) {
    return absl::InvalidArgumentError("verifier key is not canonical base64");
  }
  if (key.size() != 1 + kEd25519KeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key is ", key.size(), " bytes, expected 33 (0x01 || Ed25519 key)"));
  }
  if (static_cast<unsigned char>(key[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key algorithm ",
                     static_cast<int>(static_cast<unsigned char>(key[0])), " is not Ed25519 (1)"));
  }
  out.public_key = key.substr(1);
  if (hash != NoteKeyHash(out.name, out.public_key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key hash ", parts[1], " does not match the name and key (expected ",
                     KeyHashHex(NoteKeyHash(out.name, out.public_key)), ")"));
  }
  if (auto k = Ed25519PublicKey(out.public_key); !k.ok()) return k.status();
  out.key_hash = hash;
  return out;
}

}  // namespace safeshare::transparency
