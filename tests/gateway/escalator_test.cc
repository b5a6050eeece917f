// The escalator's scan on a real SQLite store: what it writes to the audit
// log and to mailboxes when acknowledged content expires and a deadline
// passes, and that it does each once.

#include "gateway/delivery/escalator.h"

#include <map>

#include "gateway/federation_directory.h"
#include "gateway/store/store.h"
#include "gtest/gtest.h"
#include "tests/gateway/store_test_rows.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764000000);

using store_test::Message;  // accepted at kT0

class EscalatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite://" + dir_.path() + "/store.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto directory = FederationDirectory::Load(safeshare::testing::SourceDir() +
                                               "/deploy/dev-federation.textproto");
    ASSERT_TRUE(directory.ok()) << directory.status();
    directory_.emplace(std::move(*directory));
  }

  std::vector<v1::AuditRecord> Log() {
    std::vector<v1::AuditRecord> out;
    EXPECT_TRUE(store_
                    ->ScanAudit({}, 0, 0,
                                [&](const AuditLeaf& leaf) {
                                  out.emplace_back().ParseFromString(leaf.record);
                                  return true;
                                })
                    .ok());
    return out;
  }

  safeshare::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::optional<FederationHolder> directory_;
  MailboxNotifier notifier_;
};

TEST_F(EscalatorTest, ExpiredContentIsPurgedAndOverdueMailEscalatedEachOnceOnTheRecord) {
  StoredMessage kept = Message("kept", "portsmouth-mash");
  kept.retention = absl::Hours(24);
  ASSERT_TRUE(store_->InsertMessage(kept).ok());
  ASSERT_TRUE(store_->FetchForRecipient("portsmouth-mash", 0, 10, kT0).ok());
  ASSERT_TRUE(store_->Acknowledge("portsmouth-mash", "kept", kT0 + absl::Hours(1)).ok());
  StoredMessage late = Message("late", "iow-mash");
  late.acknowledge_deadline = kT0 + absl::Hours(1);
  ASSERT_TRUE(store_->InsertMessage(late).ok());
  const size_t before = Log().size();

  Escalator escalator(store_.get(), &*directory_, &notifier_, absl::Hours(24));
  ASSERT_TRUE(escalator.ScanOnce(kT0 + absl::Hours(24)).ok());
  auto first = Log();
  ASSERT_EQ(first.size(), before + 1) << "the deadline passed; the retention has not";
  EXPECT_EQ(first.back().event(), v1::AUDIT_EVENT_TYPE_ESCALATED);
  EXPECT_EQ(first.back().message_id(), "late");
  EXPECT_EQ(first.back().reason(), "ESCALATION_REASON_NOT_ACKNOWLEDGED");

  ASSERT_TRUE(escalator.ScanOnce(kT0 + absl::Hours(26)).ok());
  auto second = Log();
  ASSERT_EQ(second.size(), first.size() + 1) << "escalated once; purged once";
  const v1::AuditRecord& purged = second.back();
  EXPECT_EQ(purged.event(), v1::AUDIT_EVENT_TYPE_CONTENT_PURGED);
  EXPECT_EQ(purged.message_id(), "kept");
  EXPECT_EQ(purged.actor(), "safeshare://gateway");
  EXPECT_EQ(purged.state(), v1::MESSAGE_STATE_EXPIRED);
  EXPECT_EQ(purged.recipient_agency_id(), "portsmouth-mash");
  auto gone = store_->GetMessage("kept");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->signed_envelope.empty()) << "the content is gone, the record stays";

  ASSERT_TRUE(escalator.ScanOnce(kT0 + absl::Hours(48)).ok());
  EXPECT_EQ(Log().size(), second.size()) << "nothing happens twice";

  // The Isle of Wight's escalation contact (its own MASH) has the alert.
  auto mail = store_->FetchForRecipient("iow-mash", 0, 10, kT0 + absl::Hours(48));
  ASSERT_TRUE(mail.ok());
  std::map<v1::MessageKind, int> kinds;
  for (const auto& m : *mail) ++kinds[m.kind];
  EXPECT_EQ(kinds[v1::MESSAGE_KIND_ESCALATION], 1);
  EXPECT_EQ(kinds[v1::MESSAGE_KIND_REFERRAL], 1) << "the late referral is still there";
}

}  // namespace
}  // namespace safeshare::gateway
