// The connector's own database (agents/connector/connector_store.h): the
// inbox keeps the first copy of a message, records the first
// acknowledgement, pages newest first and purges content when its time
// comes; the outbox refuses a reused id and lists what waits for a retry.

#include "agents/connector/connector_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "google/protobuf/util/time_util.h"
#include "tests/support/test_support.h"

namespace safeshare::connector {
namespace {

namespace v1 = safeshare::v1;
using google::protobuf::util::TimeUtil;

v1::InboxMessage Received(const std::string& id, int64_t received_s, int64_t purge_s,
                          const std::string& concern = "concern") {
  v1::InboxMessage m;
  m.set_message_id(id);
  m.mutable_header()->set_sender_agency_id("southsea-academy");
  m.mutable_content()->mutable_referral()->mutable_record()->set_concern_details(concern);
  *m.mutable_received_time() = TimeUtil::SecondsToTimestamp(received_s);
  *m.mutable_purge_time() = TimeUtil::SecondsToTimestamp(purge_s);
  return m;
}

OutboxEntry Queued(const std::string& id, int64_t created_s) {
  OutboxEntry e;
  e.sent.set_message_id(id);
  e.sent.set_send_state(v1::SEND_STATE_QUEUED);
  *e.sent.mutable_created_time() = TimeUtil::SecondsToTimestamp(created_s);
  e.draft.set_message_id(id);
  e.practitioner.set_id("dsl-17");
  return e;
}

class ConnectorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ConnectorStore::Open(dir_.path() + "/data");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }
  testing::TempDir dir_;
  std::unique_ptr<ConnectorStore> store_;
};

TEST_F(ConnectorStoreTest, TheDataDirectoryAndDatabaseAreOwnerOnly) {
  struct stat st;
  ASSERT_EQ(::stat((dir_.path() + "/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_.path() + "/data/connector.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST_F(ConnectorStoreTest, ARedeliveryKeepsTheFirstCopy) {
  auto first = store_->PutInbox(Received("m-1", 100, 1000, "first"));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  auto again = store_->PutInbox(Received("m-1", 200, 2000, "second"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto m = store_->GetInbox("m-1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content().referral().record().concern_details(), "first");
  EXPECT_TRUE(store_->HasInbox("m-1"));
  EXPECT_EQ(store_->GetInbox("m-2").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ConnectorStoreTest, TheFirstAcknowledgementStands) {
  ASSERT_TRUE(store_->PutInbox(Received("m-1", 100, 1000)).ok());
  ASSERT_TRUE(store_->MarkAcknowledged("m-1", "mash-pc-4", absl::FromUnixSeconds(150)).ok());
  ASSERT_TRUE(store_->MarkAcknowledged("m-1", "mash-pc-9", absl::FromUnixSeconds(160)).ok());
  auto m = store_->GetInbox("m-1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->acknowledged_by(), "mash-pc-4");
  EXPECT_EQ(TimeUtil::TimestampToSeconds(m->acknowledged_time()), 150);
  EXPECT_EQ(store_->MarkAcknowledged("m-9", "x", absl::Now()).code(), absl::StatusCode::kNotFound);
}

TEST_F(ConnectorStoreTest, TheInboxPagesNewestFirstWithoutContent) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_->PutInbox(Received("m-" + std::to_string(i), 100 + i, 1000)).ok());
  }
  auto p1 = store_->ListInbox(0, 2);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->messages_size(), 2);
  EXPECT_EQ(p1->messages(0).message_id(), "m-5");
  EXPECT_EQ(p1->messages(1).message_id(), "m-4");
  EXPECT_FALSE(p1->messages(0).has_content());
  EXPECT_EQ(p1->next_page_token(), "2");
  auto p3 = store_->ListInbox(4, 2);
  ASSERT_TRUE(p3.ok());
  ASSERT_EQ(p3->messages_size(), 1);
  EXPECT_EQ(p3->messages(0).message_id(), "m-1");
  EXPECT_TRUE(p3->next_page_token().empty());
}

TEST_F(ConnectorStoreTest, ContentIsPurgedWhenItsTimeComesAndTheRecordStays) {
  ASSERT_TRUE(store_->PutInbox(Received("old", 100, 500)).ok());
  ASSERT_TRUE(store_->PutInbox(Received("new", 100, 5000)).ok());
  auto purged = store_->PurgeExpired(absl::FromUnixSeconds(1000));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE(store_->GetInbox("old")->has_content());
  EXPECT_TRUE(store_->GetInbox("new")->has_content());
  EXPECT_EQ(*store_->PurgeExpired(absl::FromUnixSeconds(1000)), 0);
}

TEST_F(ConnectorStoreTest, AReusedOutboxIdIsRefusedAndQueuedOnesWaitInOrder) {
  ASSERT_TRUE(store_->InsertOutbox(Queued("s-2", 200)).ok());
  ASSERT_TRUE(store_->InsertOutbox(Queued("s-1", 100)).ok());
  EXPECT_EQ(store_->InsertOutbox(Queued("s-1", 300)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Queued(), (std::vector<std::string>{"s-1", "s-2"}));

  auto e = store_->GetOutbox("s-1");
  ASSERT_TRUE(e.ok());
  e->sent.set_send_state(v1::SEND_STATE_DECIDED);
  e->sealed_envelope = std::string("\0sealed", 7);
  ASSERT_TRUE(store_->UpdateOutbox(*e).ok());
  EXPECT_EQ(*store_->Queued(), (std::vector<std::string>{"s-2"}));
  EXPECT_EQ(store_->GetOutbox("s-1")->sealed_envelope, std::string("\0sealed", 7));
  auto sent = store_->ListSent(0, 10);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->messages_size(), 2);
  EXPECT_EQ(sent->messages(0).message_id(), "s-2");
  EXPECT_EQ(store_->GetOutbox("s-9").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ConnectorStoreTest, WhatIsStoredSurvivesReopening) {
  ASSERT_TRUE(store_->PutInbox(Received("m-1", 100, 1000)).ok());
  ASSERT_TRUE(store_->InsertOutbox(Queued("s-1", 100)).ok());
  store_.reset();
  auto reopened = ConnectorStore::Open(dir_.path() + "/data");
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->HasInbox("m-1"));
  EXPECT_EQ(*(*reopened)->Queued(), (std::vector<std::string>{"s-1"}));
}

}  // namespace
}  // namespace safeshare::connector
