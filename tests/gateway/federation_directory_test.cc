#include "gateway/federation_directory.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

std::string Write(const safeshare::testing::TempDir& dir, const std::string& text) {
  std::string path = dir.path() + "/federation.textproto";
  std::ofstream(path) << text;
  return path;
}

TEST(FederationDirectoryTest, LoadsTheDevelopmentFederation) {
  auto dir = FederationDirectory::Load(safeshare::testing::SourceDir() +
                                       "/deploy/dev-federation.textproto");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const auto* crt = dir->FindAgency("hampshire-crt");
  ASSERT_NE(crt, nullptr);
  EXPECT_EQ(crt->area_id(), "hampshire");
  EXPECT_EQ(dir->FindAgency("nobody"), nullptr);
  EXPECT_NE(dir->FindOfficer("hampshire-crt", "dpo"), nullptr);
  const auto* team = dir->FindTeam("portsmouth-strategy-discussion");
  ASSERT_NE(team, nullptr);
  EXPECT_EQ(team->member_agency_ids_size(), 3);
  EXPECT_EQ(dir->FindTeam("portsmouth-mash"), nullptr);  // an agency, not a team
}

TEST(FederationDirectoryTest, RefusesTeamsThatCannotBeAddressed) {
  safeshare::testing::TempDir tmp;
  const std::string base =
      "id: \"f\" areas { id: \"a\" } agencies { id: \"x\" area_id: \"a\" } "
      "agencies { id: \"y\" area_id: \"a\" } ";
  const std::pair<std::string, std::string> cases[] = {
      {"teams { id: \"x\" area_id: \"a\" member_agency_ids: \"x\" member_agency_ids: \"y\" }",
       "not an agency id"},
      {"teams { id: \"t\" area_id: \"b\" member_agency_ids: \"x\" member_agency_ids: \"y\" }",
       "unknown area"},
      {"teams { id: \"t\" area_id: \"a\" member_agency_ids: \"x\" member_agency_ids: \"z\" }",
       "member 'z' is not an agency"},
      {"teams { id: \"t\" area_id: \"a\" member_agency_ids: \"x\" member_agency_ids: \"x\" }",
       "listed twice"},
      {"teams { id: \"t\" area_id: \"a\" member_agency_ids: \"x\" }", "at least two"},
      {"teams { id: \"t\" area_id: \"a\" member_agency_ids: \"x\" member_agency_ids: \"y\" } "
       "teams { id: \"t\" area_id: \"a\" member_agency_ids: \"x\" member_agency_ids: \"y\" }",
       "team t is listed twice"},
  };
  for (const auto& [text, expect] : cases) {
    auto dir = FederationDirectory::Load(Write(tmp, base + text));
    ASSERT_FALSE(dir.ok()) << text;
    EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(dir.status().message().find(expect), std::string::npos) << dir.status();
  }
  auto good = FederationDirectory::Load(
      Write(tmp, base + "teams { id: \"t\" area_id: \"a\" member_agency_ids: \"x\" "
                        "member_agency_ids: \"y\" }"));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_NE(good->FindTeam("t"), nullptr);
}

TEST(FederationDirectoryTest, RefusesBadFilesNamingFileAndProblem) {
  safeshare::testing::TempDir tmp;
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"id: \"f\" agencies { id: \"x\" area_id: \"nowhere\" }", "unknown area"},
      {"id: \"f\" areas { id: \"a\" } agencies { id: \"x\" area_id: \"a\" } agencies { id: \"x\" "
       "area_id: "
       "\"a\" }",
       "listed twice"},
      {"id: \"f\" areas { id: \"a\" } agencies { id: \"Bad Id\" area_id: \"a\" }", "Bad Id"},
      {"id: \"f\" areas { id: \"a\" } areas { id: \"a\" }", "repeated"},
      {"id: \"f\" areas { id: \"a\" } agencies { id: \"x\" area_id: \"a\" } officers { id: \"o\" "
       "agency_id: \"y\" scope: SCOPE_AGENCY }",
       "unknown agency"},
      {"id: \"f\" areas { id: \"a\" } agencies { id: \"x\" area_id: \"a\" } officers { id: \"o\" "
       "agency_id: \"x\" }",
       "scope"},
      {"areas { id: \"a\" }", "federation id ''"},
      {"id: \"agency\"", "federation id 'agency'"},
      {"id: \"f\" revoked_certificates { serials: \"12:zz\" }", "hexadecimal"},
      {"id: \"f\" revoked_certificates { sha256_fingerprints: \"AB:CD\" }", "64 hex digits"},
      {"agencies { id: ", "federation.textproto:1"},
      {"no_such_field: 1", "no_such_field"},
  };
  for (const Case& c : cases) {
    auto dir = FederationDirectory::Load(Write(tmp, c.text));
    ASSERT_FALSE(dir.ok()) << c.text;
    EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(dir.status().message().find(c.expect), std::string::npos) << dir.status();
    EXPECT_NE(dir.status().message().find("federation.textproto"), std::string::npos);
  }
  EXPECT_EQ(FederationDirectory::Load(tmp.path() + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace safeshare::gateway
