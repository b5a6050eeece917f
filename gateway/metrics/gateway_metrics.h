#ifndef SAFESHARE_GATEWAY_METRICS_GATEWAY_METRICS_H_
#define SAFESHARE_GATEWAY_METRICS_GATEWAY_METRICS_H_

// The numbers the services update as things happen (the gauges are sampled
// by GatewayServer when scraped). Every pointer is owned by the registry.

#include "gateway/metrics/registry.h"

namespace safeshare::gateway {

struct GatewayMetrics {
  explicit GatewayMetrics(MetricRegistry& r)
      : submits(r.AddCounter("safeshare_submits_total",
                             "Submits decided, by what became of them and message kind",
                             {"outcome", "kind"})),
        refusals(r.AddCounter("safeshare_submit_refusals_total",
                              "Submits refused, by gRPC status code", {"code"})),
        policy_reloads(r.AddCounter("safeshare_policy_reloads_total",
                                    "Reloads of the federation file and agreements (SIGHUP)",
                                    {"result"})),
        commit_seconds(r.AddHistogram(
            "safeshare_commit_seconds", "Time to commit one batch (transaction and fsync)",
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})),
        commit_jobs(r.AddHistogram("safeshare_commit_batch_jobs", "Jobs per committed batch",
                                   {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
        commit_failures(
            r.AddCounter("safeshare_commit_failures_total", "Batches the store failed to commit")),
        fsync_seconds(r.AddHistogram(
            "safeshare_store_fsync_seconds",
            "Time of each fsync the embedded store makes (commits and WAL checkpoints)",
            {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1})) {}

  MetricRegistry::Counter* submits;
  MetricRegistry::Counter* refusals;
  MetricRegistry::Counter* policy_reloads;
  MetricRegistry::Histogram* commit_seconds;
  MetricRegistry::Histogram* commit_jobs;
  MetricRegistry::Counter* commit_failures;
  MetricRegistry::Histogram* fsync_seconds;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_METRICS_GATEWAY_METRICS_H_
