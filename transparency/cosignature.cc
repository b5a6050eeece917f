#include "transparency/cosignature.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace safeshare::transparency {
namespace {

constexpr unsigned char kAlgCosignatureV1 = 0x04;
constexpr size_t kKeyBytes = 32, kSigBytes = 64;
constexpr absl::string_view kSigPrefix = "\xe2\x80\x94 ";  // "— "

struct EvpFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string BigEndian(uint64_t v, int bytes) {
  std::string out(bytes, '\0');
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

uint64_t ReadBigEndian(absl::string_view b) {
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

std::string SignedMessage(uint64_t time, absl::string_view checkpoint_body) {
  return absl::StrCat("cosignature/v1\ntime ", time, "\n", checkpoint_body);
}

// Canonical padded base64 only: one encoding per value.
bool StrictBase64(absl::string_view in, std::string& out) {
  return absl::Base64Unescape(in, &out) && absl::Base64Escape(out) == in;
}

absl::StatusOr<Witness> ParseWitnessKey(absl::string_view vkey) {
  // The name has no "+"; the base64 may.
  const std::vector<absl::string_view> parts = absl::StrSplit(vkey, absl::MaxSplits('+', 2));
  std::string hash, blob;
  if (parts.size() != 3 || !IsValidKeyName(parts[0]) || parts[1].size() != 8 ||
      !absl::c_all_of(parts[1],
                      [](char c) { return absl::ascii_isxdigit(c) && !absl::ascii_isupper(c); }) ||
      !StrictBase64(parts[2], blob)) {
    return absl::InvalidArgumentError(
        "a witness key is <name>+<8 lowercase hex>+<base64(0x04 || Ed25519 key)>");
  }
  if (blob.size() != 1 + kKeyBytes || static_cast<unsigned char>(blob[0]) != kAlgCosignatureV1) {
    return absl::InvalidArgumentError(
        "a witness key must be a cosignature/v1 key (type 0x04, 32-byte Ed25519)");
  }
  Witness w{std::string(parts[0]), blob.substr(1)};
  if (absl::StrCat(parts[1]) !=
      absl::BytesToHexString(BigEndian(CosignatureKeyHash(w.name, w.public_key), 4))) {
    return absl::InvalidArgumentError("the witness key's hash does not match its name and key");
  }
  return w;
}

}  // namespace

uint32_t CosignatureKeyHash(absl::string_view name, absl::string_view raw_ed25519_public_key) {
  return NoteKeyHash(name, raw_ed25519_public_key, kAlgCosignatureV1);
}

absl::StatusOr<std::string> Cosign(absl::string_view checkpoint_note, absl::string_view name,
                                   EVP_PKEY* ed25519_private_key, absl::Time time) {
  auto note = ParseNote(checkpoint_note);
  if (!note.ok()) return note.status();
  if (auto body = ParseCheckpointBody(note->text); !body.ok()) return body.status();
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid witness name \"", name, "\""));
  }
  if (ed25519_private_key == nullptr || EVP_PKEY_get_id(ed25519_private_key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the cosigning key must be Ed25519");
  }
  const int64_t seconds = absl::ToUnixSeconds(time);
  if (seconds < 0) return absl::InvalidArgumentError("a cosignature time is after 1970");
  std::string pub(kKeyBytes, '\0');
  size_t pub_len = pub.size();
  if (EVP_PKEY_get_raw_public_key(ed25519_private_key, reinterpret_cast<unsigned char*>(pub.data()),
                                  &pub_len) != 1) {
    return absl::InternalError("cannot read the Ed25519 public key");
  }
  const std::string message = SignedMessage(static_cast<uint64_t>(seconds), note->text);
  std::unique_ptr<EVP_MD_CTX, EvpFree> md(EVP_MD_CTX_new());
  std::string sig(kSigBytes, '\0');
  size_t sig_len = sig.size();
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, ed25519_private_key) != 1 ||
      EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, U(message),
                     message.size()) != 1) {
    return absl::InternalError("Ed25519 signing failed");
  }
  const std::string blob = absl::StrCat(BigEndian(CosignatureKeyHash(name, pub), 4),
                                        BigEndian(static_cast<uint64_t>(seconds), 8), sig);
  return absl::StrCat(kSigPrefix, name, " ", absl::Base64Escape(blob), "\n");
}

absl::StatusOr<std::string> AddCosignature(absl::string_view checkpoint_note,
                                           absl::string_view cosignature_line) {
  const std::string note = absl::StrCat(checkpoint_note, cosignature_line);
  if (auto parsed = ParseNote(note); !parsed.ok()) return parsed.status();
  return note;
}

absl::StatusOr<std::set<std::string>> VerifiedCosigners(absl::string_view checkpoint_note,
                                                        const std::vector<Witness>& witnesses) {
  auto note = ParseNote(checkpoint_note);
  if (!note.ok()) return note.status();
  std::set<std::string> out;
  for (const Witness& w : witnesses) {
    const uint32_t hash = CosignatureKeyHash(w.name, w.public_key);
    std::unique_ptr<EVP_PKEY, EvpFree> key(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, U(w.public_key), w.public_key.size()));
    if (!key)
      return absl::InvalidArgumentError(absl::StrCat("witness ", w.name, ": not an Ed25519 key"));
    for (const NoteSignature& line : note->signatures) {
      if (line.name != w.name || line.key_hash != hash) continue;
      if (line.signature.size() != 8 + kSigBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("the cosignature by ", w.name, " is not a timestamped Ed25519 signature"));
      }
      const uint64_t time = ReadBigEndian(absl::string_view(line.signature).substr(0, 8));
      if (time > static_cast<uint64_t>(INT64_MAX)) {
        return absl::InvalidArgumentError(
            absl::StrCat("the cosignature by ", w.name, " has a time beyond 2^63 - 1"));
      }
      const std::string message = SignedMessage(time, note->text);
      const absl::string_view sig = absl::string_view(line.signature).substr(8);
      std::unique_ptr<EVP_MD_CTX, EvpFree> md(EVP_MD_CTX_new());
      if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
          EVP_DigestVerify(md.get(), U(sig), sig.size(), U(message), message.size()) != 1) {
        return absl::UnauthenticatedError(
            absl::StrCat("the cosignature by witness ", w.name, " does not verify"));
      }
      out.insert(w.name);
    }
  }
  return out;
}

absl::StatusOr<std::string> WitnessVerifierKey(absl::string_view name,
                                               absl::string_view raw_ed25519_public_key) {
  if (!IsValidKeyName(name) || raw_ed25519_public_key.size() != kKeyBytes) {
    return absl::InvalidArgumentError("a witness key needs a valid name and a 32-byte key");
  }
  return absl::StrCat(
      name, "+",
      absl::BytesToHexString(BigEndian(CosignatureKeyHash(name, raw_ed25519_public_key), 4)), "+",
      absl::Base64Escape(absl::StrCat(absl::string_view("\x04", 1), raw_ed25519_public_key)));
}

absl::StatusOr<WitnessPolicy> WitnessPolicy::Parse(absl::string_view text) {
  WitnessPolicy p;
  std::set<std::string> keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("policy line ", line_number, ": ", why));
    };
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u != '\t' && (u < 0x20 || u == 0x7f)) return bad("control characters are not allowed");
    }
    const std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.empty() || absl::StartsWith(f[0], "#")) continue;
    if (!p.quorum_.empty()) return bad("nothing may follow the quorum line");
    auto defined = [&](const std::string& name) {
      return p.witnesses_.count(name) || p.groups_.count(name);
    };
    if (f[0] == "log") {
      if (f.size() < 2 || f.size() > 3) return bad("log <vkey> [<url>]");
      auto key = ParseVerifierKey(f[1]);
      if (!key.ok()) return bad(key.status().message());
      if (!keys.insert(key->public_key).second) return bad("a duplicate key");
      p.logs_.push_back(*key);
    } else if (f[0] == "witness") {
      if (f.size() < 3 || f.size() > 4) return bad("witness <name> <vkey> [<url>]");
      const std::string name(f[1]);
      if (name == "none" || defined(name)) return bad(absl::StrCat("\"", name, "\" is taken"));
      auto key = ParseWitnessKey(f[2]);
      if (!key.ok()) return bad(key.status().message());
      if (!keys.insert(key->public_key).second) return bad("a duplicate key");
      for (const auto& [_, w] : p.witnesses_) {
        if (w.name == key->name) return bad("two witnesses with one key name");
      }
      if (f.size() == 4) key->url = std::string(f[3]);
      p.witnesses_[name] = *key;
    } else if (f[0] == "group") {
      if (f.size() < 4) return bad("group <name> all|any|<k> <member>...");
      const std::string name(f[1]);
      if (name == "none" || defined(name)) return bad(absl::StrCat("\"", name, "\" is taken"));
      Group g;
      std::set<std::string> seen;
      for (size_t i = 3; i < f.size(); ++i) {
        const std::string member(f[i]);
        if (!defined(member)) return bad(absl::StrCat("\"", member, "\" is not defined above"));
        if (!seen.insert(member).second) return bad(absl::StrCat("\"", member, "\" listed twice"));
        g.members.push_back(member);
      }
      const int n = static_cast<int>(g.members.size());
      if (f[2] == "all") {
        g.threshold = n;
      } else if (f[2] == "any") {
        g.threshold = 1;
      } else if (!absl::SimpleAtoi(f[2], &g.threshold) || g.threshold < 1 || g.threshold > n ||
                 !absl::c_all_of(f[2], absl::ascii_isdigit)) {
        return bad("the threshold is all, any or a number from 1 to the members");
      }
      p.groups_[name] = std::move(g);
    } else if (f[0] == "quorum") {
      if (f.size() != 2) return bad("quorum <name>");
      const std::string name(f[1]);
      if (name != "none" && !defined(name)) {
        return bad(absl::StrCat("\"", name, "\" is not defined above"));
      }
      p.quorum_ = name;
    } else {
      return bad(absl::StrCat("unknown keyword \"", f[0], "\""));
    }
  }
  if (p.quorum_.empty()) return absl::InvalidArgumentError("the policy has no quorum line");
  return p;
}

std::vector<Witness> WitnessPolicy::witnesses() const {
  std::vector<Witness> out;
  for (const auto& [_, w] : witnesses_) out.push_back(w);
  return out;
}

bool WitnessPolicy::Witnessed(const std::string& name,
                              const std::set<std::string>& cosigners) const {
  if (auto w = witnesses_.find(name); w != witnesses_.end()) {
    return cosigners.count(w->second.name) > 0;
  }
  const Group& g = groups_.at(name);
  int count = 0;
  for (const auto& member : g.members) count += Witnessed(member, cosigners) ? 1 : 0;
  return count >= g.threshold;
}

bool WitnessPolicy::QuorumMet(const std::set<std::string>& cosigners) const {
  return quorum_ == "none" || Witnessed(quorum_, cosigners);
}

absl::Status WitnessPolicy::Check(absl::string_view checkpoint_note) const {
  auto cosigners = VerifiedCosigners(checkpoint_note, witnesses());
  if (!cosigners.ok()) return cosigners.status();
  if (QuorumMet(*cosigners)) return absl::OkStatus();
  return absl::UnauthenticatedError(absl::StrCat(
      "the checkpoint has ", cosigners->size(), " valid cosignature(s) of ", witnesses_.size(),
      " known witnesses, which does not meet the quorum \"", quorum_, "\""));
}

}  // namespace safeshare::transparency
