#ifndef SAFESHARE_TESTS_FUZZ_FUZZ_KEYS_H_
#define SAFESHARE_TESTS_FUZZ_FUZZ_KEYS_H_
// Fixed keys for the fuzz targets and their seed corpus (make_seeds): the
// seeds are signed and sealed with these, so the targets reach past signature
// and decryption checks. Test keys, used nowhere else.

namespace safeshare::fuzz {
inline constexpr char kSenderSigningPem[] = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIGmIebYBkBzNuVXkfYtp0GdjBIwM1qpkndXvFmUsxa7N
-----END PRIVATE KEY-----
)";
inline constexpr char kSenderEncryptionPem[] = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIKChCFR0bBMEBB5rfuATyEMxUyXlaXR/UCPrPKWJAXJc
-----END PRIVATE KEY-----
)";
inline constexpr char kRecipientSigningPem[] = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIMFVEhHyNqAnLN1wOgz3v1rIC2totH7BZmVGwVtjlB1M
-----END PRIVATE KEY-----
)";
inline constexpr char kRecipientEncryptionPem[] = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIJAzsiiAdYhD2/KP4R+66ZQFRIDbSnn+1PLiuPkaFrtp
-----END PRIVATE KEY-----
)";
inline constexpr char kAuditLogPem[] = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPWRMOwIW+urfUicCKLQ2lyVh51rZlGqojfr+Pw0X2nA
-----END PRIVATE KEY-----
)";

// The audit log the receipt and export seeds are signed by.
inline constexpr char kAuditOrigin[] = "safeshare.fuzz/audit";
inline constexpr char kFederation[] = "fuzz-federation";
inline constexpr char kSenderAgency[] = "portsmouth-mash";
inline constexpr char kRecipientAgency[] = "hiow-police";

}  // namespace safeshare::fuzz

#endif  // SAFESHARE_TESTS_FUZZ_FUZZ_KEYS_H_
