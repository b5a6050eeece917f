#include "gateway/metrics/registry.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace safeshare::gateway {
namespace {

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", EscapeLabelValue(values[i]),
                    "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, out.empty() ? "" : ",", extra);
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void MetricRegistry::Counter::Inc(const std::vector<std::string>& values, double by) {
  absl::MutexLock lock(&mu_);
  values_[values] += by;
}

MetricRegistry::Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void MetricRegistry::Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  absl::MutexLock lock(&mu_);
  ++counts_[i];
  sum_ += value;
}

MetricRegistry::Counter* MetricRegistry::AddCounter(const std::string& name,
                                                    const std::string& help,
                                                    std::vector<std::string> label_names) {
  auto f = std::make_unique<Family>();
  f->name = name;
  f->help = help;
  f->type = "counter";
  f->label_names = std::move(label_names);
  f->counter = std::make_unique<Counter>();
  Counter* out = f->counter.get();
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(f));
  return out;
}

MetricRegistry::Histogram* MetricRegistry::AddHistogram(const std::string& name,
                                                        const std::string& help,
                                                        std::vector<double> bounds) {
  auto f = std::make_unique<Family>();
  f->name = name;
  f->help = help;
  f->type = "histogram";
  f->histogram.reset(new Histogram(std::move(bounds)));
  Histogram* out = f->histogram.get();
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(f));
  return out;
}

void MetricRegistry::AddGauge(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names,
                              std::function<Samples()> sample) {
  auto f = std::make_unique<Family>();
  f->name = name;
  f->help = help;
  f->type = "gauge";
  f->label_names = std::move(label_names);
  f->gauge = std::move(sample);
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(f));
}

std::string MetricRegistry::Render() const {
  std::vector<const Family*> families;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& f : families_) families.push_back(f.get());
  }  // families are never removed, so they outlive the lock
  std::string out;
  for (const Family* f : families) {
    absl::StrAppend(&out, "# HELP ", f->name, " ", f->help, "\n# TYPE ", f->name, " ", f->type,
                    "\n");
    if (f->counter) {
      absl::MutexLock lock(&f->counter->mu_);
      if (f->counter->values_.empty() && f->label_names.empty()) {
        absl::StrAppend(&out, f->name, " 0\n");
      }
      for (const auto& [values, v] : f->counter->values_) {
        absl::StrAppend(&out, f->name, Labels(f->label_names, values), " ", Number(v), "\n");
      }
    } else if (f->histogram) {
      const Histogram& h = *f->histogram;
      absl::MutexLock lock(&h.mu_);
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= h.bounds_.size(); ++i) {
        cumulative += h.counts_[i];
        const std::string le = i < h.bounds_.size() ? Number(h.bounds_[i]) : std::string("+Inf");
        absl::StrAppend(&out, f->name, "_bucket{le=\"", le, "\"} ", cumulative, "\n");
      }
      absl::StrAppend(&out, f->name, "_sum ", Number(h.sum_), "\n", f->name, "_count ", cumulative,
                      "\n");
    } else if (f->gauge) {
      for (const auto& [values, v] : f->gauge()) {
        absl::StrAppend(&out, f->name, Labels(f->label_names, values), " ", Number(v), "\n");
      }
    }
  }
  return out;
}

}  // namespace safeshare::gateway
