// The notifier on its own: listeners run on its threads (never the
// notifier's caller's), once per burst of marks, never after Remove; and the
// limits on open subscriptions.
#include "gateway/delivery/mailbox_notifier.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

TEST(MailboxNotifierTest, NotifyOnlyMarksAndTheListenerRunsOnAnotherThread) {
  MailboxNotifier notifier;
  absl::Notification added, release, ran;
  std::atomic<int> runs{0};
  std::thread::id listener_thread;
  auto token = notifier.Add("portsmouth-mash", "safeshare://dev/agency/portsmouth-mash", [&] {
    added.WaitForNotification();
    if (++runs == 2) {
      listener_thread = std::this_thread::get_id();
      release.WaitForNotification();  // a listener stuck in a slow read
      ran.Notify();
    }
  });
  ASSERT_TRUE(token.ok());
  added.Notify();
  while (runs.load() < 1) absl::SleepFor(absl::Milliseconds(1));
  notifier.Notify("portsmouth-mash");  // returns while the listener is stuck
  notifier.Notify("iow-mash");         // another agency's: not this listener
  while (runs.load() < 2) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_NE(listener_thread, std::this_thread::get_id());
  release.Notify();
  ran.WaitForNotification();
  notifier.Remove(*token);
  EXPECT_EQ(runs.load(), 2);
}

TEST(MailboxNotifierTest, MarksWhileRunningCoalesceIntoOneMoreRun) {
  MailboxNotifier notifier(/*threads=*/2);
  absl::Notification started, release;
  std::atomic<int> runs{0};
  auto token = notifier.Add("portsmouth-mash", "p", [&] {
    if (++runs == 1) {
      started.Notify();
      release.WaitForNotification();
    }
  });
  ASSERT_TRUE(token.ok());
  started.WaitForNotification();
  for (int i = 0; i < 50; ++i) notifier.Notify("portsmouth-mash");
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(runs.load(), 1) << "never two runs of one listener at once";
  release.Notify();
  for (int i = 0; i < 200 && runs.load() < 2; ++i) absl::SleepFor(absl::Milliseconds(5));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(runs.load(), 2) << "the marks made while it ran: one more run, not fifty";
  notifier.Remove(*token);
}

TEST(MailboxNotifierTest, RemoveWaitsForARunningListenerAndNoneRunsAfter) {
  MailboxNotifier notifier;
  absl::Notification started, release;
  std::atomic<bool> removed{false}, ran_after_remove{false};
  std::atomic<int> runs{0};
  auto token = notifier.Add("portsmouth-mash", "p", [&] {
    if (removed) ran_after_remove = true;
    if (++runs == 1) {
      started.Notify();
      release.WaitForNotification();
    }
  });
  ASSERT_TRUE(token.ok());
  started.WaitForNotification();
  notifier.Notify("portsmouth-mash");  // marked while running
  std::atomic<bool> remove_returned{false};
  std::thread remover([&] {
    notifier.Remove(*token);
    removed = true;
    remove_returned = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(remove_returned.load()) << "the listener is still running";
  release.Notify();
  remover.join();
  notifier.NotifyAll();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(ran_after_remove.load());
  EXPECT_EQ(notifier.subscribers(), 0u);
}

TEST(MailboxNotifierTest, OpenSubscriptionsAreLimitedPerPrincipalAndInAll) {
  MailboxNotifier notifier;
  notifier.SetLimits(/*per_principal=*/2, /*total=*/3);
  auto a1 = notifier.Add("a", "safeshare://dev/agency/a", [] {});
  auto a2 = notifier.Add("a", "safeshare://dev/agency/a", [] {});
  ASSERT_TRUE(a1.ok() && a2.ok());
  auto a3 = notifier.Add("a", "safeshare://dev/agency/a", [] {});
  EXPECT_EQ(a3.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(a3.status().message().find("limits.max_streams_per_principal"), std::string::npos);
  auto b1 = notifier.Add("b", "safeshare://dev/agency/b", [] {});
  ASSERT_TRUE(b1.ok()) << "another principal has its own allowance";
  auto c1 = notifier.Add("c", "safeshare://dev/agency/c", [] {});
  EXPECT_EQ(c1.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(c1.status().message().find("limits.max_streams_total"), std::string::npos);
  EXPECT_EQ(notifier.subscribers(), 3u);
  // Closing one frees its place.
  notifier.Remove(*a1);
  auto a4 = notifier.Add("a", "safeshare://dev/agency/a", [] {});
  EXPECT_TRUE(a4.ok());
  for (auto t : {*a2, *b1, *a4}) notifier.Remove(t);
  EXPECT_EQ(notifier.subscribers(), 0u);
}

}  // namespace
}  // namespace safeshare::gateway
