#include "gateway/principal.h"

#include "gateway/federation_directory.h"
#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

TEST(PrincipalTest, ParsesAgencyAndOfficerUris) {
  auto agency = ParsePrincipalUri("safeshare://agency/portsmouth-mash");
  ASSERT_TRUE(agency.ok()) << agency.status();
  EXPECT_FALSE(agency->is_officer());
  EXPECT_EQ(agency->agency_id, "portsmouth-mash");

  auto officer = ParsePrincipalUri("safeshare://officer/hampshire-crt/dpo");
  ASSERT_TRUE(officer.ok()) << officer.status();
  EXPECT_TRUE(officer->is_officer());
  EXPECT_EQ(officer->agency_id, "hampshire-crt");
  EXPECT_EQ(officer->officer_id, "dpo");
}

TEST(PrincipalTest, RefusesAnythingElse) {
  for (const char* uri : {"https://agency/x", "safeshare://agency/", "safeshare://agency/UPPER",
                          "safeshare://agency/a/b", "safeshare://officer/a", "safeshare://gateway",
                          "safeshare://agency/../x", ""}) {
    EXPECT_EQ(ParsePrincipalUri(uri).status().code(), absl::StatusCode::kUnauthenticated) << uri;
  }
}

TEST(PrincipalTest, MembershipFollowsTheDirectory) {
  v1::Federation f;
  f.add_areas()->set_id("portsmouth");
  auto* a = f.add_agencies();
  a->set_id("portsmouth-mash");
  a->set_area_id("portsmouth");
  auto* gone = f.add_agencies();
  gone->set_id("old-agency");
  gone->set_area_id("portsmouth");
  gone->set_revoked(true);
  auto* o = f.add_officers();
  o->set_id("ig-lead");
  o->set_agency_id("portsmouth-mash");
  o->set_scope(v1::Officer::SCOPE_AGENCY);
  auto dir = FederationDirectory::FromProto(f);
  ASSERT_TRUE(dir.ok()) << dir.status();

  EXPECT_TRUE(CheckMembership(*ParsePrincipalUri("safeshare://agency/portsmouth-mash"), *dir).ok());
  EXPECT_TRUE(
      CheckMembership(*ParsePrincipalUri("safeshare://officer/portsmouth-mash/ig-lead"), *dir)
          .ok());
  EXPECT_EQ(CheckMembership(*ParsePrincipalUri("safeshare://agency/unknown"), *dir).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckMembership(*ParsePrincipalUri("safeshare://agency/old-agency"), *dir).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckMembership(*ParsePrincipalUri("safeshare://officer/portsmouth-mash/nobody"), *dir)
                .code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace safeshare::gateway
