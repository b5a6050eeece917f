// The audit log on a real SQLite file (WAL, synchronous=FULL, as the store
// sets it), through the Store interface the gateway uses:
//
//  - BM_DurableAppend[Signed]: N client threads each Commit one realistic
//    decision record and wait for its durable completion (group commit);
//    items_per_second is appends/s across all clients. The signed variant sets
//    an Ed25519 checkpoint signer, as the gateway always does.
//  - BM_InclusionProof: Store::InclusionProof for random leaves of logs of
//    1 k and 1 M records (built once per process, in 10,000-record commits).
//  - BM_Export*: ScanAudit of all 1 M records, each formatted as the Audit
//    service does (JSON line or CSV row) into a discarded buffer.
//  - rss_* counters: resident set size from /proc/self/statm around the 1 M
//    log's build, reopen and export.
//  - BM_SubtreeLookup*: the per-node read under a proof, on a second read-only
//    connection, with the statement prepared per lookup (as the store does)
//    and prepared once; this is where proof time goes.
//
// Files live in a fresh directory under $TMPDIR (or /tmp), removed at exit.
// Set AUDIT_BENCH_DIR to keep them there and reuse the built logs across runs.
// See RESULTS-audit.md.

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/audit/sample_records.h"
#include "envelope/keys.h"
#include "gateway/audit/audit_service.h"
#include "gateway/store/store.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"

namespace safeshare::gateway {
namespace {

namespace v1 = safeshare::v1;
namespace fs = std::filesystem;

constexpr char kOrigin[] = "safeshare.example/audit";
constexpr uint64_t kBuildBatch = 10000;  // records per Commit when building a log
// The large log: 1 M records (AUDIT_BENCH_LARGE overrides, for smoke tests).
const uint64_t kMillion = [] {
  const char* v = std::getenv("AUDIT_BENCH_LARGE");
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : uint64_t{1000000};
}();

// ---- Files and memory ----

bool g_keep_files = false;

const fs::path& BenchDir() {
  static const fs::path* dir = [] {
    if (const char* keep = std::getenv("AUDIT_BENCH_DIR"); keep != nullptr && *keep != '\0') {
      g_keep_files = true;
      fs::create_directories(keep);
      return new fs::path(keep);
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/audit_store_bench.XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    return new fs::path(pattern);
  }();
  return *dir;
}

void RemoveDb(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    fs::remove(db.string() + suffix, ec);
  }
}

// Resident set size in MiB, from /proc/self/statm (second field, in pages).
double RssMiB() {
  std::ifstream statm("/proc/self/statm");
  uint64_t total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

std::unique_ptr<Store> Open(const fs::path& db) {
  auto store = OpenStore(absl::StrCat("sqlite://", db.string()));
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", db.c_str(), store.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(store);
}

CheckpointSigner Signer() {
  static const envelope::PrivateKey* key = new envelope::PrivateKey(
      *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning));
  return [](uint64_t size, const std::string& root) {
    return transparency::SignCheckpoint({kOrigin, size, root}, kOrigin, key->get());
  };
}

// ---- 1. Durable appends through group commit ----

struct AppendRun {
  fs::path db;                   // empty when appending to a shared log
  std::unique_ptr<Store> owned;  // the fresh store, when this run made one
  Store* store = nullptr;
  absl::Mutex mu;
  std::set<uint64_t> tree_sizes;  // one per batch: the number of group commits
  std::atomic<uint64_t> latency_ns_total{0};
};
AppendRun* g_append = nullptr;

// `shared`: append to this already-open store (the 1 M log) instead of a
// fresh file.
void RunDurableAppends(benchmark::State& state, bool sign, Store* shared = nullptr) {
  if (state.thread_index() == 0) {
    g_append = new AppendRun;
    if (shared != nullptr) {
      g_append->store = shared;  // its signer is already set
    } else {
      g_append->db =
          BenchDir() / absl::StrCat("append-", sign ? "signed-" : "", state.threads(), "-",
                                    Mix(absl::ToUnixNanos(absl::Now())) % 100000, ".db");
      RemoveDb(g_append->db);
      g_append->owned = Open(g_append->db);
      if (sign) g_append->owned->SetCheckpointSigner(Signer());
      g_append->store = g_append->owned.get();
    }
  }
  // The benchmark loop starts behind a barrier: the store is open by then.
  uint64_t n = (static_cast<uint64_t>(state.thread_index() + 1) << 40) ^
               (Mix(absl::ToUnixNanos(absl::Now())) >> 24);
  for (auto _ : state) {
    v1::AuditRecord record = MakeRecord(n++);
    absl::Notification done;
    absl::Status status;
    const absl::Time start = absl::Now();
    g_append->store->Commit(
        [&record](StoreTransaction& tx) { return tx.AppendAudit(std::move(record)).status(); },
        [&](const absl::Status& st, const CommitInfo& info) {
          status = st;
          {
            absl::MutexLock lock(&g_append->mu);
            g_append->tree_sizes.insert(info.tree_size);
          }
          done.Notify();
        });
    done.WaitForNotification();
    g_append->latency_ns_total.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start),
                                         std::memory_order_relaxed);
    if (!status.ok()) {
      state.SkipWithError(std::string(status.message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  // The loop also ends behind a barrier: every client's appends are done.
  if (state.thread_index() == 0) {
    const double appends = static_cast<double>(state.iterations()) * state.threads();
    const double batches = static_cast<double>(g_append->tree_sizes.size());
    // Counters are summed over threads; only thread 0 sets these.
    state.counters["appends_per_commit"] = batches > 0 ? appends / batches : 0;
    state.counters["latency_us"] =
        static_cast<double>(g_append->latency_ns_total.load()) / appends / 1000.0;
    g_append->owned.reset();
    if (!g_append->db.empty() && !g_keep_files) RemoveDb(g_append->db);
    delete g_append;
    g_append = nullptr;
  }
}

void BM_DurableAppend(benchmark::State& state) { RunDurableAppends(state, false); }
void BM_DurableAppendSigned(benchmark::State& state) { RunDurableAppends(state, true); }
BENCHMARK(BM_DurableAppend)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DurableAppendSigned)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->MinTime(2.0);

// ---- Logs of 1 k and 1 M records, built once per process ----

struct Log {
  fs::path db;
  std::unique_ptr<Store> store;
  uint64_t size = 0;         // benchmarks use the first `size` records (the log may be longer)
  std::string root;          // of the first `size` records, from their signed checkpoint
  double build_seconds = 0;  // 0 when reused from AUDIT_BENCH_DIR
  double open_seconds = 0;   // reopening the built file (Store::Open)
  double rss_before_build = 0, rss_after_build = 0, rss_after_reopen = 0;
};

std::map<uint64_t, std::unique_ptr<Log>>* g_logs = new std::map<uint64_t, std::unique_ptr<Log>>;

Log& LogOf(uint64_t size) {
  std::unique_ptr<Log>& log = (*g_logs)[size];
  if (log != nullptr) return *log;
  log = std::make_unique<Log>();
  log->size = size;
  log->db = BenchDir() / absl::StrCat("log-", size, ".db");
  log->rss_before_build = RssMiB();
  bool built = false;
  if (fs::exists(log->db)) {
    auto store = Open(log->db);
    auto latest = store->LatestCheckpoint();
    built = latest.ok() && latest->tree_size >= size;
    store.reset();
    if (!built) RemoveDb(log->db);
  }
  if (!built) {
    std::fprintf(stderr, "building a %llu-record audit log in %s ...\n",
                 static_cast<unsigned long long>(size), log->db.c_str());
    const absl::Time start = absl::Now();
    auto store = Open(log->db);
    store->SetCheckpointSigner(Signer());
    for (uint64_t done = 0; done < size;) {
      const uint64_t count = std::min(kBuildBatch, size - done);
      absl::Status st = store->CommitAndWait([done, count](StoreTransaction& tx) {
        for (uint64_t i = done; i < done + count; ++i) {
          auto index = tx.AppendAudit(MakeRecord(i));
          if (!index.ok()) return index.status();
        }
        return absl::OkStatus();
      });
      if (!st.ok()) {
        std::fprintf(stderr, "build: %s\n", st.ToString().c_str());
        std::exit(1);
      }
      done += count;
    }
    log->build_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    log->rss_after_build = RssMiB();  // store still open, as the gateway's
    store.reset();
    std::fprintf(stderr, "built in %.1f s\n", log->build_seconds);
  }
  const absl::Time open_start = absl::Now();
  log->store = Open(log->db);
  log->store->SetCheckpointSigner(Signer());  // the gateway always signs
  log->open_seconds = absl::ToDoubleSeconds(absl::Now() - open_start);
  log->rss_after_reopen = RssMiB();
  if (built) log->rss_after_build = log->rss_after_reopen;  // reused: nothing was built
  auto notes = log->store->Checkpoints();
  if (notes.ok()) {
    for (const std::string& note : *notes) {
      auto checkpoint = transparency::ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
      if (checkpoint.ok() && checkpoint->size == size) log->root = checkpoint->root_hash;
    }
  }
  if (log->root.empty()) {
    std::fprintf(stderr, "log %s has no checkpoint at size %llu\n", log->db.c_str(),
                 static_cast<unsigned long long>(size));
    std::exit(1);
  }
  // One proof checked against the signed root, so the benchmark measures
  // proofs that verify.
  const uint64_t probe = size / 3;
  auto leaf = log->store->GetAuditLeaf(probe);
  auto proof = log->store->InclusionProof(probe, size);
  if (!leaf.ok() || !proof.ok() ||
      !transparency::VerifyInclusion(leaf->leaf_hash, probe, size, *proof, log->root).ok()) {
    std::fprintf(stderr, "log %s: inclusion proof does not verify\n", log->db.c_str());
    std::exit(1);
  }
  return *log;
}

void ReportLog(benchmark::State& state, const Log& log) {
  state.counters["log_build_s"] = log.build_seconds;
  state.counters["store_open_s"] = log.open_seconds;
  state.counters["rss_before_build_MiB"] = log.rss_before_build;
  state.counters["rss_after_build_MiB"] = log.rss_after_build;
  state.counters["rss_after_reopen_MiB"] = log.rss_after_reopen;
  state.counters["rss_now_MiB"] = RssMiB();
  std::error_code ec;
  state.counters["db_MiB"] = static_cast<double>(fs::file_size(log.db, ec)) / (1024.0 * 1024.0);
}

// ---- 2. Inclusion proofs from the store ----

void BM_InclusionProof(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  Log& log = LogOf(size);
  std::mt19937_64 rng(6962);
  uint64_t hashes = 0;
  for (auto _ : state) {
    const uint64_t leaf = rng() % size;
    auto proof = log.store->InclusionProof(leaf, size);
    if (!proof.ok()) {
      state.SkipWithError(std::string(proof.status().message()).c_str());
      break;
    }
    hashes += proof->size();
    benchmark::DoNotOptimize(proof);
  }
  state.counters["proof_hashes"] =
      static_cast<double>(hashes) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  ReportLog(state, log);
}
BENCHMARK(BM_InclusionProof)->Arg(1000)->Arg(kMillion)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

// The receipt's proof: the newest leaf against the newest tree.
void BM_InclusionProofNewest(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  Log& log = LogOf(size);
  for (auto _ : state) {
    auto proof = log.store->InclusionProof(size - 1, size);
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_InclusionProofNewest)->Arg(1000)->Arg(kMillion)->Unit(benchmark::kMicrosecond);

// ---- Where proof time goes: one subtree-hash read ----
//
// The store's Subtrees::CompleteSubtree prepares, steps and finalizes a new
// statement for every node it reads. These read random level-1 nodes from
// the 1 M log over a second, read-only connection, with a fresh statement per
// read and with one prepared statement reset and rebound.

sqlite3* ReadOnlyConnection(const Log& log) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(log.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "open read-only: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  return db;
}

constexpr char kNodeSql[] = "SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?";

void BM_SubtreeLookupPreparedEachTime(benchmark::State& state) {
  Log& log = LogOf(kMillion);
  sqlite3* db = ReadOnlyConnection(log);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, kNodeSql, -1, &s, nullptr);
    sqlite3_bind_int64(s, 1, 1);
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(rng() % (kMillion / 2)));
    if (sqlite3_step(s) != SQLITE_ROW) state.SkipWithError("node missing");
    benchmark::DoNotOptimize(sqlite3_column_blob(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
}
BENCHMARK(BM_SubtreeLookupPreparedEachTime)->Unit(benchmark::kMicrosecond);

void BM_SubtreeLookupPreparedOnce(benchmark::State& state) {
  Log& log = LogOf(kMillion);
  sqlite3* db = ReadOnlyConnection(log);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, kNodeSql, -1, &s, nullptr);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    sqlite3_bind_int64(s, 1, 1);
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(rng() % (kMillion / 2)));
    if (sqlite3_step(s) != SQLITE_ROW) state.SkipWithError("node missing");
    benchmark::DoNotOptimize(sqlite3_column_blob(s, 0));
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
}
BENCHMARK(BM_SubtreeLookupPreparedOnce)->Unit(benchmark::kMicrosecond);

// The same reads with one prepared statement inside one read transaction per
// 20 lookups (a 1 M proof's worth): what is left is the B-tree search itself.
void BM_SubtreeLookup20InOneReadTransaction(benchmark::State& state) {
  Log& log = LogOf(kMillion);
  sqlite3* db = ReadOnlyConnection(log);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, kNodeSql, -1, &s, nullptr);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < 20; ++i) {
      sqlite3_bind_int64(s, 1, 1);
      sqlite3_bind_int64(s, 2, static_cast<int64_t>(rng() % (kMillion / 2)));
      if (sqlite3_step(s) != SQLITE_ROW) state.SkipWithError("node missing");
      benchmark::DoNotOptimize(sqlite3_column_blob(s, 0));
      sqlite3_reset(s);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  state.counters["per_lookup_us"] =
      benchmark::Counter(20.0 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  sqlite3_finalize(s);
  sqlite3_close(db);
}
BENCHMARK(BM_SubtreeLookup20InOneReadTransaction)->Unit(benchmark::kMicrosecond);

// What AuditService::FlowReport does for a federation officer without a date
// range: one unchunked ScanAudit over the whole log, parsing every record in
// the visitor. ScanAudit holds the store's mutex throughout, and the committer
// needs it for every batch, so a Submit's commit issued meanwhile waits.
void BM_FlowReportScanWithConcurrentCommit(benchmark::State& state) {
  Log& log = LogOf(kMillion);
  double scan_s = 0, commit_ms = 0;
  for (auto _ : state) {
    std::atomic<bool> scanning{false};
    const absl::Time start = absl::Now();
    std::thread scan([&] {
      AuditFilter filter;
      filter.before_index = log.size;
      uint64_t decisions = 0;
      absl::Status st = log.store->ScanAudit(filter, 0, 0, [&](const AuditLeaf& leaf) {
        scanning = true;
        v1::AuditRecord r;
        if (r.ParseFromString(leaf.record) && r.event() == v1::AUDIT_EVENT_TYPE_DECISION) {
          ++decisions;
        }
        return true;
      });
      benchmark::DoNotOptimize(decisions);
      scan_s = absl::ToDoubleSeconds(absl::Now() - start);
    });
    while (!scanning) absl::SleepFor(absl::Milliseconds(1));
    absl::SleepFor(absl::Milliseconds(100));
    const absl::Time commit_start = absl::Now();
    absl::Status st = log.store->CommitAndWait(
        [](StoreTransaction& tx) { return tx.AppendAudit(MakeRecord(Mix(42) + 7)).status(); });
    commit_ms = absl::ToDoubleMilliseconds(absl::Now() - commit_start);
    scan.join();
    if (!st.ok()) state.SkipWithError(std::string(st.message()).c_str());
  }
  state.counters["scan_s"] = scan_s;
  state.counters["commit_during_scan_ms"] = commit_ms;
}
BENCHMARK(BM_FlowReportScanWithConcurrentCommit)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

// ---- 3. Export of 1 M records ----

enum class ExportMode { kScanOnly, kJson, kCsv, kJsonChunked };

void RunExport(benchmark::State& state, ExportMode mode) {
  Log& log = LogOf(kMillion);
  constexpr size_t kFlushBytes = 1 << 20;  // "write" and discard every MiB
  constexpr size_t kChunk = 500;           // the Audit service's export chunk
  uint64_t records = 0, bytes = 0;
  double seconds = 0;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    std::string buffer;
    buffer.reserve(kFlushBytes + 64 * 1024);
    absl::Status status;
    AuditFilter filter;  // everything: only the first 1 M records, if the log is longer
    filter.before_index = log.size;
    auto format = [&](const AuditLeaf& leaf) {
      ++records;
      if (mode == ExportMode::kScanOnly) {
        bytes += leaf.record.size();
        return true;
      }
      v1::AuditRecord record;
      if (!record.ParseFromString(leaf.record)) {
        status = absl::DataLossError("record does not parse");
        return false;
      }
      buffer +=
          mode == ExportMode::kCsv ? AuditCsvRow(record) : AuditJsonLine(leaf, record, nullptr);
      if (buffer.size() >= kFlushBytes) {
        bytes += buffer.size();
        benchmark::DoNotOptimize(buffer.data());
        buffer.clear();
      }
      return true;
    };
    if (mode == ExportMode::kJsonChunked) {
      // As ExportReactor does: 500 leaves per ScanAudit, formatted outside
      // the store's lock, under a fixed tree size.
      uint64_t next = 0;
      for (;;) {
        std::vector<AuditLeaf> leaves;
        status = log.store->ScanAudit(filter, next, kChunk, [&](const AuditLeaf& leaf) {
          leaves.push_back(leaf);
          return true;
        });
        if (!status.ok()) break;
        for (const AuditLeaf& leaf : leaves) {
          if (!format(leaf)) break;
          next = leaf.index + 1;
        }
        if (!status.ok() || leaves.size() < kChunk) break;
      }
    } else {
      absl::Status scan = log.store->ScanAudit(filter, 0, 0, format);
      if (status.ok()) status = scan;
    }
    bytes += buffer.size();
    seconds += absl::ToDoubleSeconds(absl::Now() - start);
    if (!status.ok()) {
      state.SkipWithError(std::string(status.message()).c_str());
      break;
    }
  }
  if (records != log.size * static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("export did not visit every record");
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["total_s"] = seconds / static_cast<double>(state.iterations());
  state.counters["output_MiB"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations()) / (1024.0 * 1024.0);
  state.counters["rss_now_MiB"] = RssMiB();
}

void BM_ExportScanOnly(benchmark::State& state) { RunExport(state, ExportMode::kScanOnly); }
void BM_ExportJsonLines(benchmark::State& state) { RunExport(state, ExportMode::kJson); }
void BM_ExportJsonLinesChunked(benchmark::State& state) {
  RunExport(state, ExportMode::kJsonChunked);
}
void BM_ExportCsv(benchmark::State& state) { RunExport(state, ExportMode::kCsv); }
BENCHMARK(BM_ExportScanOnly)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_ExportJsonLines)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_ExportJsonLinesChunked)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_ExportCsv)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

// ---- 4. Memory after everything: the 1 M log open, proofs and exports run ----

void BM_MemoryAfterAll(benchmark::State& state) {
  Log& big = LogOf(kMillion);
  Log& small = LogOf(1000);
  for (auto _ : state) benchmark::DoNotOptimize(big.size + small.size);
  ReportLog(state, big);
}
BENCHMARK(BM_MemoryAfterAll)->Iterations(1);

// ---- 1b. Durable appends at scale: 64 clients appending to the 1 M log ----
// Runs last: it grows that log. Random-keyed indexes (subject reference) no
// longer fit in SQLite's page cache at this size.

void BM_DurableAppendSignedOnLargeLog(benchmark::State& state) {
  Store* store = nullptr;
  if (state.thread_index() == 0) store = LogOf(kMillion).store.get();
  RunDurableAppends(state, true, store);
}
BENCHMARK(BM_DurableAppendSignedOnLargeLog)->Threads(64)->UseRealTime()->MinTime(2.0);

void CloseAll() {
  g_logs->clear();  // closes each store (its committer finishes first)
  if (!g_keep_files) {
    std::error_code ec;
    fs::remove_all(BenchDir(), ec);
  }
}

}  // namespace
}  // namespace safeshare::gateway

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::fprintf(stderr, "audit_store_bench: files in %s\n", safeshare::gateway::BenchDir().c_str());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  safeshare::gateway::CloseAll();
  return 0;
}
