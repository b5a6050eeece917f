// ThreadSanitizer builds only. Debian's Abseil is not built with TSan, so
// TSan cannot see absl::Mutex, CondVar or Notification synchronise, and
// reports every access they guard as a race. This library sits in front of
// Abseil's (it is linked first into every executable), forwards each call to
// the real function, and tells TSan the happens-before edge the call makes.
// No locking of its own. A writer's unlock publishes to every later holder; a
// reader's unlock only to later writers (two sync addresses per mutex), so
// readers are not ordered with one another and a write made under a reader
// lock is still a race.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

#define SAFESHARE_STR2(x) #x
#define SAFESHARE_STR(x) SAFESHARE_STR2(x)

// Abseil's own definition of `symbol` (its mangled name after the inline
// namespace, e.g. "5Mutex4LockEv"); `constant` marks a const member.
template <typename Fn>
Fn Real(const char* symbol, bool constant = false) {
  const std::string ns = SAFESHARE_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name =
      std::string(constant ? "_ZNK" : "_ZN") + "4absl" + std::to_string(ns.size()) + ns + symbol;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

// Writers release to Writes(mu); readers to Reads(mu). Every holder
// acquires Writes(mu); writers also acquire Reads(mu).
void* Writes(const void* mu) { return const_cast<void*>(mu); }
void* Reads(const void* mu) { return const_cast<char*>(static_cast<const char*>(mu)) + 1; }
void AcquireAsWriter(const void* mu) {
  __tsan_acquire(Writes(mu));
  __tsan_acquire(Reads(mu));
}
void AcquireAsReader(const void* mu) { __tsan_acquire(Writes(mu)); }
void ReleaseAsWriter(const void* mu) { __tsan_release(Writes(mu)); }
void ReleaseAsReader(const void* mu) { __tsan_release(Reads(mu)); }

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN
namespace {

// Abseil evaluates a Condition with the mutex held, but on whichever thread
// is at hand (the waiter, or another thread unlocking), inside its own code:
// each evaluation reads under the mutex as far as TSan can tell.
struct GuardedCondition {
  const Condition* condition;
  Mutex* mu;
  static bool Eval(GuardedCondition* g) {
    AcquireAsReader(g->mu);
    const bool holds = g->condition->Eval();
    ReleaseAsReader(g->mu);
    return holds;
  }
  Condition Wrapped() { return Condition(&GuardedCondition::Eval, this); }
};

}  // namespace
ABSL_NAMESPACE_END
}  // namespace absl

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  AcquireAsWriter(this);
}

void Mutex::ReaderLock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  AcquireAsReader(this);
}

bool Mutex::TryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) AcquireAsWriter(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) AcquireAsReader(this);
  return locked;
}

void Mutex::Unlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  ReleaseAsWriter(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  ReleaseAsReader(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>("5Mutex8LockWhenERKNS0_9ConditionE");
  GuardedCondition g{&cond, this};
  real(this, g.Wrapped());
  AcquireAsWriter(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  GuardedCondition g{&cond, this};
  real(this, g.Wrapped());
  AcquireAsReader(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  GuardedCondition g{&cond, this};
  const bool met = real(this, g.Wrapped(), timeout);
  AcquireAsWriter(this);  // held either way
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  GuardedCondition g{&cond, this};
  const bool met = real(this, g.Wrapped(), deadline);
  AcquireAsWriter(this);
  return met;
}

// Await and CondVar::Wait release the mutex while they wait and take it
// again; safeshare calls them with the mutex held as a writer.
void Mutex::Await(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>("5Mutex5AwaitERKNS0_9ConditionE");
  ReleaseAsWriter(this);
  GuardedCondition g{&cond, this};
  real(this, g.Wrapped());
  AcquireAsWriter(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  ReleaseAsWriter(this);
  GuardedCondition g{&cond, this};
  const bool met = real(this, g.Wrapped(), timeout);
  AcquireAsWriter(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  ReleaseAsWriter(this);
  GuardedCondition g{&cond, this};
  const bool met = real(this, g.Wrapped(), deadline);
  AcquireAsWriter(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  static auto real = Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  ReleaseAsWriter(mu);
  real(this, mu);
  AcquireAsWriter(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  ReleaseAsWriter(mu);
  const bool timed_out = real(this, mu, timeout);
  AcquireAsWriter(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static auto real =
      Real<bool (*)(CondVar*, Mutex*, Time)>("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  ReleaseAsWriter(mu);
  const bool timed_out = real(this, mu, deadline);
  AcquireAsWriter(mu);
  return timed_out;
}

void Notification::Notify() {
  static auto real = Real<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static auto real =
      Real<void (*)(const Notification*)>("12Notification19WaitForNotificationEv", true);
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static auto real = Real<bool (*)(const Notification*, Duration)>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", true);
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static auto real = Real<bool (*)(const Notification*, Time)>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", true);
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
