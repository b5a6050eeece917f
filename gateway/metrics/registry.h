#ifndef SAFESHARE_GATEWAY_METRICS_REGISTRY_H_
#define SAFESHARE_GATEWAY_METRICS_REGISTRY_H_

// The gateway's numbers in the Prometheus text exposition format (0.0.4):
// counters and histograms updated as things happen, gauges sampled when
// scraped. Label values are ids, codes and kinds only — never content, never
// personal data (docs/operator-guide.md, "Metrics and health").

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace safeshare::gateway {

class MetricRegistry {
 public:
  class Counter {
   public:
    // `values` in the order of the counter's label names.
    void Inc(const std::vector<std::string>& values = {}, double by = 1);

   private:
    friend class MetricRegistry;
    mutable absl::Mutex mu_;
    std::map<std::vector<std::string>, double> values_ ABSL_GUARDED_BY(mu_);
  };

  class Histogram {
   public:
    void Observe(double value);

   private:
    friend class MetricRegistry;
    explicit Histogram(std::vector<double> bounds);
    const std::vector<double> bounds_;  // ascending upper bounds; +Inf implied
    mutable absl::Mutex mu_;
    std::vector<uint64_t> counts_ ABSL_GUARDED_BY(mu_);  // per bound, then +Inf
    double sum_ ABSL_GUARDED_BY(mu_) = 0;
  };

  using Samples = std::vector<std::pair<std::vector<std::string>, double>>;

  // Names must be valid Prometheus metric names; the registry owns what it
  // returns, for as long as it lives.
  Counter* AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names = {});
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds);
  // Sampled at every scrape, outside the registry's lock.
  void AddGauge(const std::string& name, const std::string& help,
                std::vector<std::string> label_names, std::function<Samples()> sample);

  std::string Render() const;

 private:
  struct Family {
    std::string name, help, type;
    std::vector<std::string> label_names;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
    std::function<Samples()> gauge;
  };
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
};

// A label value as the exposition format quotes it (\\, \" and \n escaped).
std::string EscapeLabelValue(const std::string& value);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_METRICS_REGISTRY_H_
