#include "gateway/principal.h"

#include "envelope/identity_uri.h"
#include "gateway/federation_directory.h"
#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

constexpr char kFingerprint[] =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"
    "89";

TEST(PrincipalTest, ParsesAgencyAndOfficerUris) {
  auto agency = ParsePrincipalUri("safeshare://hips-dev/agency/portsmouth-mash");
  ASSERT_TRUE(agency.ok()) << agency.status();
  EXPECT_FALSE(agency->is_officer());
  EXPECT_EQ(agency->federation_id, "hips-dev");
  EXPECT_EQ(agency->agency_id, "portsmouth-mash");

  auto officer = ParsePrincipalUri("safeshare://hips-dev/officer/hampshire-crt/dpo");
  ASSERT_TRUE(officer.ok()) << officer.status();
  EXPECT_TRUE(officer->is_officer());
  EXPECT_EQ(officer->federation_id, "hips-dev");
  EXPECT_EQ(officer->agency_id, "hampshire-crt");
  EXPECT_EQ(officer->officer_id, "dpo");
}

TEST(PrincipalTest, RefusesAnythingElse) {
  for (const char* uri :
       {"https://hips-dev/agency/x", "safeshare://hips-dev/agency/",
        "safeshare://hips-dev/agency/UPPER", "safeshare://hips-dev/agency/a/b",
        "safeshare://hips-dev/officer/a", "safeshare://gateway", "safeshare://hips-dev/agency/../x",
        "safeshare://agency/agency/x", "safeshare://HIPS/agency/x",
        "safeshare://hips-dev/agency/x,URI:safeshare://hips-dev/agency/y",
        "safeshare://hips-dev/agency/x\ncritical", ""}) {
    EXPECT_EQ(ParsePrincipalUri(uri).status().code(), absl::StatusCode::kUnauthenticated) << uri;
  }
}

TEST(PrincipalTest, TheOldFormWithoutAFederationSaysToReissue) {
  for (const char* uri :
       {"safeshare://agency/portsmouth-mash", "safeshare://officer/hampshire-crt/dpo"}) {
    auto p = ParsePrincipalUri(uri);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << uri;
    EXPECT_NE(p.status().message().find("reissue"), std::string::npos) << p.status();
  }
}

TEST(PrincipalTest, IdentityUrisRoundTrip) {
  EXPECT_EQ(envelope::AgencyIdentity("hips-dev", "iow-mash").ToString(),
            "safeshare://hips-dev/agency/iow-mash");
  EXPECT_EQ(envelope::OfficerIdentity("hips-dev", "iow-mash", "dpo").ToString(),
            "safeshare://hips-dev/officer/iow-mash/dpo");
  auto parsed = envelope::ParseIdentityUri("safeshare://hips-dev/officer/iow-mash/dpo");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ToString(), "safeshare://hips-dev/officer/iow-mash/dpo");
}

PeerCertificate Cert(std::vector<std::string> uris) {
  PeerCertificate c;
  c.identity_uris = std::move(uris);
  c.serial = "4F2A";
  c.sha256_fingerprint = std::string(64, '0');
  c.issuer_der = "issuer";
  return c;
}

TEST(PrincipalTest, ExactlyOneIdentityUriPerCertificate) {
  EXPECT_TRUE(PrincipalFromCertificate(Cert({"safeshare://hips-dev/agency/iow-mash"})).ok());
  auto none = PrincipalFromCertificate(Cert({}));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  auto two = PrincipalFromCertificate(
      Cert({"safeshare://hips-dev/agency/iow-mash", "safeshare://hips-dev/agency/hiow-police"}));
  EXPECT_EQ(two.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(two.status().message().find("exactly one"), std::string::npos) << two.status();
}

v1::Federation TwoAgencies() {
  v1::Federation f;
  f.set_id("hips-dev");
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
  return f;
}

TEST(PrincipalTest, MembershipFollowsTheDirectory) {
  auto dir = FederationDirectory::FromProto(TwoAgencies());
  ASSERT_TRUE(dir.ok()) << dir.status();

  EXPECT_TRUE(
      CheckMembership(*ParsePrincipalUri("safeshare://hips-dev/agency/portsmouth-mash"), *dir)
          .ok());
  EXPECT_TRUE(CheckMembership(
                  *ParsePrincipalUri("safeshare://hips-dev/officer/portsmouth-mash/ig-lead"), *dir)
                  .ok());
  EXPECT_EQ(CheckMembership(*ParsePrincipalUri("safeshare://hips-dev/agency/unknown"), *dir).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      CheckMembership(*ParsePrincipalUri("safeshare://hips-dev/agency/old-agency"), *dir).code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckMembership(
                *ParsePrincipalUri("safeshare://hips-dev/officer/portsmouth-mash/nobody"), *dir)
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(PrincipalTest, AnIdentityOfAnotherFederationIsUnauthenticated) {
  auto dir = FederationDirectory::FromProto(TwoAgencies());
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(
      AuthenticateCertificate(Cert({"safeshare://hips-dev/agency/portsmouth-mash"}), *dir).ok());
  auto other =
      AuthenticateCertificate(Cert({"safeshare://other-fed/agency/portsmouth-mash"}), *dir);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(other.status().message().find("federation 'other-fed'"), std::string::npos)
      << other.status();
}

TEST(PrincipalTest, DevelopmentCertificatesOnlyWhenTheGatewayAcceptsThem) {
  PeerCertificate dev = Cert({"safeshare://hips-dev/agency/portsmouth-mash"});
  dev.development = true;
  auto production = FederationDirectory::FromProto(TwoAgencies());
  ASSERT_TRUE(production.ok());
  auto refused = AuthenticateCertificate(dev, *production);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("--development"), std::string::npos)
      << refused.status();

  CertificateTrust development;
  development.accept_development = true;
  auto accepting = FederationDirectory::FromProto(TwoAgencies(), development);
  ASSERT_TRUE(accepting.ok());
  EXPECT_TRUE(AuthenticateCertificate(dev, *accepting).ok());
}

TEST(PrincipalTest, RevokedSerialsAndFingerprintsAreUnauthenticated) {
  v1::Federation f = TwoAgencies();
  f.mutable_revoked_certificates()->add_serials("serial=00:4f:2a");
  f.mutable_revoked_certificates()->add_sha256_fingerprints(std::string("sha256 Fingerprint=") +
                                                            kFingerprint);
  auto dir = FederationDirectory::FromProto(f);
  ASSERT_TRUE(dir.ok()) << dir.status();

  PeerCertificate by_serial = Cert({"safeshare://hips-dev/agency/portsmouth-mash"});
  auto serial = AuthenticateCertificate(by_serial, *dir);
  EXPECT_EQ(serial.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(serial.status().message().find("serial 4F2A is revoked"), std::string::npos)
      << serial.status();

  PeerCertificate by_fingerprint = by_serial;
  by_fingerprint.serial = "1234";
  by_fingerprint.sha256_fingerprint =
      "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789";
  auto fingerprint = AuthenticateCertificate(by_fingerprint, *dir);
  EXPECT_EQ(fingerprint.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(fingerprint.status().message().find("sha256_fingerprints"), std::string::npos)
      << fingerprint.status();

  PeerCertificate fresh = by_fingerprint;
  fresh.sha256_fingerprint = std::string(64, 'F');
  EXPECT_TRUE(AuthenticateCertificate(fresh, *dir).ok());
}

TEST(PrincipalTest, SerialsAndFingerprintsAreReadAsOpensslPrintsThem) {
  EXPECT_EQ(*NormalizeSerial("serial=0004F2A"), "4F2A");
  EXPECT_EQ(*NormalizeSerial("4f:2a"), "4F2A");
  EXPECT_EQ(*NormalizeSerial("00"), "0");
  EXPECT_FALSE(NormalizeSerial("").ok());
  EXPECT_FALSE(NormalizeSerial(std::string(41, 'A')).ok());
  EXPECT_EQ(*NormalizeFingerprint(std::string("SHA256 Fingerprint=") + kFingerprint),
            "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789");
  EXPECT_FALSE(NormalizeFingerprint("AB:CD").ok());
  EXPECT_FALSE(NormalizeFingerprint(std::string(64, 'G')).ok());
}

}  // namespace
}  // namespace safeshare::gateway
