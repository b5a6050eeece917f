// A shim over the default VFS in the manner of SQLite's own test_vfstrace.c:
// each file is the real file followed by our header, every method forwards.

#include "gateway/store/sqlite/timed_vfs.h"

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace safeshare::gateway::sqlite_db {
namespace {

constexpr char kName[] = "safeshare-timed";

struct TimedFile {
  sqlite3_file base;  // pMethods: &methods, or null when the real open failed
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs timed_vfs;
sqlite3_io_methods methods;

absl::Mutex observer_mu;
std::function<void(absl::Duration)>& Observer() {
  static auto* observer = new std::function<void(absl::Duration)>();
  return *observer;
}

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<TimedFile*>(f)->real(); }

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  const auto start = std::chrono::steady_clock::now();
  const int rc = Real(f)->pMethods->xSync(Real(f), flags);
  const absl::Duration took = absl::FromChrono(std::chrono::steady_clock::now() - start);
  absl::MutexLock lock(&observer_mu);
  if (Observer()) Observer()(took);
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int remove) { return Real(f)->pMethods->xShmUnmap(Real(f), remove); }
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

int Open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<TimedFile*>(f);
  const int rc = real_vfs->xOpen(real_vfs, name, file->real(), flags, out_flags);
  // Only the methods the real file has (its version) are offered.
  file->base.pMethods =
      rc == SQLITE_OK && file->real()->pMethods != nullptr && file->real()->pMethods->iVersion >= 3
          ? &methods
          : nullptr;
  if (rc == SQLITE_OK && file->base.pMethods == nullptr && file->real()->pMethods != nullptr) {
    file->real()->pMethods->xClose(file->real());
    return SQLITE_CANTOPEN;
  }
  return rc;
}
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return real_vfs->xDlOpen(real_vfs, name); }
void DlError(sqlite3_vfs*, int n, char* out) { real_vfs->xDlError(real_vfs, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return real_vfs->xDlSym(real_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { real_vfs->xDlClose(real_vfs, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return real_vfs->xRandomness(real_vfs, n, out); }
int Sleep(sqlite3_vfs*, int micros) { return real_vfs->xSleep(real_vfs, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return real_vfs->xCurrentTime(real_vfs, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return real_vfs->xGetLastError(real_vfs, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

void Register() {
  real_vfs = sqlite3_vfs_find(nullptr);
  methods = sqlite3_io_methods{3,
                               Close,
                               Read,
                               Write,
                               Truncate,
                               Sync,
                               FileSize,
                               Lock,
                               Unlock,
                               CheckReservedLock,
                               FileControl,
                               SectorSize,
                               DeviceCharacteristics,
                               ShmMap,
                               ShmLock,
                               ShmBarrier,
                               ShmUnmap,
                               Fetch,
                               Unfetch};
  timed_vfs = sqlite3_vfs{};
  timed_vfs.iVersion = 2;
  timed_vfs.szOsFile = static_cast<int>(sizeof(TimedFile)) + real_vfs->szOsFile;
  timed_vfs.mxPathname = real_vfs->mxPathname;
  timed_vfs.zName = kName;
  timed_vfs.xOpen = Open;
  timed_vfs.xDelete = Delete;
  timed_vfs.xAccess = Access;
  timed_vfs.xFullPathname = FullPathname;
  timed_vfs.xDlOpen = DlOpen;
  timed_vfs.xDlError = DlError;
  timed_vfs.xDlSym = DlSym;
  timed_vfs.xDlClose = DlClose;
  timed_vfs.xRandomness = Randomness;
  timed_vfs.xSleep = Sleep;
  timed_vfs.xCurrentTime = CurrentTime;
  timed_vfs.xGetLastError = GetLastError;
  timed_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&timed_vfs, /*makeDflt=*/0);
}

}  // namespace

const char* TimedVfs() {
  static std::once_flag once;
  std::call_once(once, Register);
  return kName;
}

void SetSyncObserver(std::function<void(absl::Duration)> observer) {
  absl::MutexLock lock(&observer_mu);
  Observer() = std::move(observer);
}

}  // namespace safeshare::gateway::sqlite_db
