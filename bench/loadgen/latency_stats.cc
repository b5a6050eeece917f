#include "bench/loadgen/latency_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace safeshare::bench {

LatencySummary Summarize(std::vector<int64_t>& nanos) {
  LatencySummary s;
  if (nanos.empty()) return s;
  std::sort(nanos.begin(), nanos.end());
  auto rank = [&](double p) {
    // Nearest rank: the smallest sample with at least p of them at or below.
    size_t r = static_cast<size_t>(std::ceil(p * static_cast<double>(nanos.size())));
    return nanos[std::min(nanos.size(), std::max<size_t>(r, 1)) - 1] / 1e6;
  };
  double sum = 0;
  for (int64_t n : nanos) sum += static_cast<double>(n);
  s.count = nanos.size();
  s.mean_ms = sum / static_cast<double>(nanos.size()) / 1e6;
  s.p50_ms = rank(0.50);
  s.p90_ms = rank(0.90);
  s.p99_ms = rank(0.99);
  s.p999_ms = rank(0.999);
  s.max_ms = nanos.back() / 1e6;
  return s;
}

std::string JsonFields(const std::string& prefix, const LatencySummary& s) {
  return absl::StrFormat(
      "\"%smean_ms\":%.3f,\"%sp50_ms\":%.3f,\"%sp90_ms\":%.3f,\"%sp99_ms\":%.3f,"
      "\"%sp999_ms\":%.3f,\"%smax_ms\":%.3f",
      prefix, s.mean_ms, prefix, s.p50_ms, prefix, s.p90_ms, prefix, s.p99_ms, prefix, s.p999_ms,
      prefix, s.max_ms);
}

}  // namespace safeshare::bench
