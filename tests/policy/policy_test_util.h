// Shared helpers for the policy tests: the source tree, the development
// federation, the example declarations as envelopes, temporary files.
#ifndef SAFESHARE_TESTS_POLICY_POLICY_TEST_UTIL_H_
#define SAFESHARE_TESTS_POLICY_POLICY_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::policy::testing {

inline std::string SourcePath(const std::string& relative) {
  return std::string(SAFESHARE_SOURCE_DIR) + "/" + relative;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline safeshare::v1::Federation DevFederation() {
  safeshare::v1::Federation federation;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      ReadText(SourcePath("deploy/dev-federation.textproto")), &federation));
  return federation;
}

// A fresh, empty directory under the test temp dir.
inline std::string MakeTempDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/safeshare-policy-" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string WriteFile(const std::string& dir, const std::string& name,
                             const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// The three example declarations in deploy/examples, as the demo sends them.
struct Example {
  const char* file;
  const char* sender;
  const char* recipient;
  safeshare::v1::PractitionerRole role;
};
inline constexpr Example kExamples[] = {
    {"police-to-portsmouth-referral.json", "hiow-police", "portsmouth-mash",
     safeshare::v1::PRACTITIONER_ROLE_POLICE_OFFICER},
    {"school-to-portsmouth-referral.json", "southsea-academy", "portsmouth-mash",
     safeshare::v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD},
    {"portsmouth-to-hampshire-referral.json", "portsmouth-mash", "hampshire-crt",
     safeshare::v1::PRACTITIONER_ROLE_MASH_PRACTITIONER},
};

inline safeshare::v1::Envelope ExampleEnvelope(const Example& example) {
  safeshare::v1::Envelope e;
  e.set_kind(safeshare::v1::MESSAGE_KIND_REFERRAL);
  e.set_sender_agency_id(example.sender);
  e.set_recipient_agency_id(example.recipient);
  e.mutable_sender_practitioner()->set_id("staff-0001");
  e.mutable_sender_practitioner()->set_role(example.role);
  auto st = google::protobuf::util::JsonStringToMessage(
      ReadText(SourcePath(std::string("deploy/examples/") + example.file)),
      e.mutable_declaration());
  EXPECT_TRUE(st.ok()) << example.file << ": " << st.ToString();
  return e;
}

}  // namespace safeshare::policy::testing

#endif  // SAFESHARE_TESTS_POLICY_POLICY_TEST_UTIL_H_
