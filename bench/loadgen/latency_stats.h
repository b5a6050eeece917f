#ifndef SAFESHARE_BENCH_LOADGEN_LATENCY_STATS_H_
#define SAFESHARE_BENCH_LOADGEN_LATENCY_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace safeshare::bench {

// Exact percentiles of a run's samples (nearest rank), in milliseconds.
struct LatencySummary {
  uint64_t count = 0;
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

// Sorts `nanos` in place.
LatencySummary Summarize(std::vector<int64_t>& nanos);

// `"<prefix>p50_ms":1.234,...` for the one-line JSON report.
std::string JsonFields(const std::string& prefix, const LatencySummary& s);

}  // namespace safeshare::bench

#endif  // SAFESHARE_BENCH_LOADGEN_LATENCY_STATS_H_
