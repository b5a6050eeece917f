#include "bench/loadgen/workload.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agents/keyring.h"
#include "agents/outgoing_message.h"
#include "common/files.h"
#include "envelope/content.h"
#include "envelope/envelope_shape.h"
#include "envelope/sealing.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::bench {
namespace {

namespace v1 = safeshare::v1;

const v1::PublicKey* CurrentKey(const v1::Agency& agency, v1::KeyPurpose purpose) {
  for (const auto& k : agency.keys()) {
    if (k.purpose() == purpose && k.current() && !k.revoked()) return &k;
  }
  return nullptr;
}

}  // namespace

const std::vector<Route>& DevFederationRoutes() {
  static const auto* routes = [] {
    const std::vector<std::string> front_doors = {"portsmouth-mash", "hampshire-crt",
                                                  "southampton-mash", "iow-mash"};
    const std::vector<std::string> police = {"hiow-police"};
    constexpr char kPolice[] = "police-to-portsmouth-referral.json";
    constexpr char kSchool[] = "school-to-portsmouth-referral.json";
    constexpr auto kNurse = v1::PRACTITIONER_ROLE_SAFEGUARDING_NURSE;
    constexpr auto kMash = v1::PRACTITIONER_ROLE_MASH_PRACTITIONER;
    constexpr auto kDsl = v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD;
    // hips-police-front-doors, hips-health-front-doors and
    // portsmouth-schools-mash in deploy/isa; the health and front-door rules do
    // not cover criminal-offence data, so it is dropped from their declaration.
    return new std::vector<Route>{
        {"hiow-police", front_doors, kPolice, false, v1::PRACTITIONER_ROLE_POLICE_OFFICER},
        {"hiow-icb", front_doors, kPolice, true, kNurse},
        {"portsmouth-hospitals", front_doors, kPolice, true, kNurse},
        {"southsea-academy", {"portsmouth-mash"}, kSchool, false, kDsl},
        {"portsmouth-mash", police, kPolice, true, kMash},
        {"hampshire-crt", police, kPolice, true, kMash},
        {"southampton-mash", police, kPolice, true, kMash},
        {"iow-mash", police, kPolice, true, kMash},
    };
  }();
  return *routes;
}

absl::StatusOr<AgencyDirectory> LoadDirectoryFile(const std::string& federation_file) {
  auto text = ReadFile(federation_file);
  if (!text.ok()) return text.status();
  v1::Federation federation;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &federation)) {
    return absl::InvalidArgumentError(
        absl::StrCat(federation_file, " is not a safeshare.v1.Federation"));
  }
  AgencyDirectory directory;
  for (const auto& a : federation.agencies()) directory[a.id()] = a;
  return directory;
}

absl::StatusOr<std::unique_ptr<EnvelopeFactory>> EnvelopeFactory::Create(
    const WorkloadOptions& options, const AgencyDirectory& directory) {
  const auto& routes = DevFederationRoutes();
  if (options.agencies < 1 || options.agencies > static_cast<int>(routes.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--agencies must be 1 to ", routes.size(), " (the development senders)"));
  }
  std::unique_ptr<EnvelopeFactory> f(new EnvelopeFactory());
  for (int i = 0; i < options.agencies; ++i) {
    const Route& route = routes[i];
    const std::string identity_dir =
        absl::StrCat(options.federation_dir, "/agencies/", route.sender);
    auto self = directory.find(route.sender);
    if (self == directory.end()) {
      return absl::NotFoundError(absl::StrCat(route.sender, " is not in the directory"));
    }
    const v1::PublicKey* own = CurrentKey(self->second, v1::KEY_PURPOSE_SIGNING);
    if (own == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(route.sender, " has no current signing key in the directory"));
    }
    auto ring = agents::Keyring::Load(identity_dir);
    if (!ring.ok()) return ring.status();
    auto key = ring->Find(own->key_id());
    if (!key.ok()) return key.status();
    Sender s{&route, identity_dir, *key, {}, {}, {}};

    auto json = ReadFile(absl::StrCat(options.examples_dir, "/", route.declaration_file));
    if (!json.ok()) return json.status();
    if (auto st = google::protobuf::util::JsonStringToMessage(*json, &s.declaration); !st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(route.declaration_file, ": ", st.message().as_string()));
    }
    if (route.without_criminal_offence_data) {
      auto* categories = s.declaration.mutable_data_categories();
      categories->erase(
          std::remove(categories->begin(), categories->end(), v1::DATA_CATEGORY_CRIMINAL_OFFENCE),
          categories->end());
      s.declaration.clear_criminal_offence_condition();
    }
    for (const std::string& to : route.recipients) {
      auto r = directory.find(to);
      const v1::PublicKey* enc =
          r == directory.end() ? nullptr : CurrentKey(r->second, v1::KEY_PURPOSE_ENCRYPTION);
      if (enc == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat(to, " has no current encryption key in the directory"));
      }
      s.recipient_key_ids.push_back(enc->key_id());
      s.recipient_keys.push_back(enc->public_key());
    }
    f->senders_.push_back(std::move(s));
  }

  // A referral whose serialized content is payload_bytes long (the concern
  // text pads it; never shorter than the fixed fields).
  auto* record = f->content_.mutable_referral()->mutable_record();
  record->mutable_child()->set_given_names("Bench");
  record->set_concern_details("x");
  const size_t base = f->content_.ByteSizeLong();
  size_t text = options.payload_bytes > base ? options.payload_bytes - base + 1 : 1;
  record->set_concern_details(std::string(text, 'c'));
  // The length prefix grows with the text; trim what it added.
  while (text > 1 && f->content_.ByteSizeLong() > options.payload_bytes) {
    record->set_concern_details(std::string(--text, 'c'));
  }
  f->id_prefix_ = absl::StrCat("lg-", options.run_id, "-");
  f->federation_dir_ = options.federation_dir;
  return f;
}

std::string EnvelopeFactory::AgencyDir(const std::string& agency_id) const {
  return absl::StrCat(federation_dir_, "/agencies/", agency_id);
}

const std::string& EnvelopeFactory::recipient_of(uint64_t index) const {
  const Sender& s = senders_[agency_of(index)];
  return s.route->recipients[(index / senders_.size()) % s.route->recipients.size()];
}

std::vector<std::string> EnvelopeFactory::Recipients() const {
  std::map<std::string, double> share;
  for (const Sender& s : senders_) {
    for (const auto& r : s.route->recipients) share[r] += 1.0 / s.route->recipients.size();
  }
  std::vector<std::string> out;
  for (const auto& [id, unused] : share) out.push_back(id);
  std::stable_sort(out.begin(), out.end(),
                   [&](const std::string& a, const std::string& b) { return share[a] > share[b]; });
  return out;
}

std::string EnvelopeFactory::MessageId(uint64_t index) const {
  return absl::StrCat(id_prefix_, index);
}

int64_t EnvelopeFactory::IndexOf(const std::string& message_id) const {
  uint64_t index;
  if (!absl::StartsWith(message_id, id_prefix_) ||
      !absl::SimpleAtoi(absl::string_view(message_id).substr(id_prefix_.size()), &index)) {
    return -1;
  }
  return static_cast<int64_t>(index);
}

absl::StatusOr<v1::SubmitRequest> EnvelopeFactory::Build(uint64_t index) const {
  const int agency = agency_of(index);
  const Sender& s = senders_[agency];
  const size_t r = (index / senders_.size()) % s.route->recipients.size();
  agents::OutgoingMessage m;
  m.message_id = MessageId(index);
  m.sender_agency_id = s.route->sender;
  m.recipient_agency_id = s.route->recipients[r];
  m.practitioner.set_id(absl::StrCat("bench-", agency));
  m.practitioner.set_role(s.route->role);
  m.declaration = s.declaration;
  // The checks AgencyAgent::Seal makes, without its two directory calls per
  // message: the keys were looked up once in Create.
  if (auto st = envelope::CheckContentAgainstDeclaration(content_, m.kind, m.declaration);
      !st.ok()) {
    return st;
  }
  auto sealed = envelope::SealAndSign(agents::BuildEnvelopeHeader(m), content_.SerializeAsString(),
                                      {s.recipient_key_ids[r], s.recipient_keys[r]}, s.signing_key);
  if (!sealed.ok()) return sealed.status();
  v1::SubmitRequest request;
  *request.mutable_signed_envelope() = std::move(*sealed);
  return request;
}

absl::Status BuildRange(const EnvelopeFactory& factory, uint64_t first, uint64_t count, int threads,
                        std::vector<std::unique_ptr<v1::SubmitRequest>>* out) {
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, threads); ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = first + t; i < first + count; i += std::max(1, threads)) {
        auto request = factory.Build(i);
        if (!request.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = request.status();
          return;
        }
        (*out)[i] = std::make_unique<v1::SubmitRequest>(std::move(*request));
      }
    });
  }
  for (auto& w : workers) w.join();
  if (!first_error.ok() || count == 0) return first_error;
  // The first is checked in full, as AgencyAgent::Seal does: the rest differ
  // only in ids and keys.
  auto e = envelope::ParseEnvelope((*out)[first]->signed_envelope().envelope_bytes());
  if (!e.ok()) return e.status();
  return envelope::ValidateEnvelopeShape(*e);
}

}  // namespace safeshare::bench
