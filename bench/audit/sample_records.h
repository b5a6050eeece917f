#ifndef SAFESHARE_BENCH_AUDIT_SAMPLE_RECORDS_H_
#define SAFESHARE_BENCH_AUDIT_SAMPLE_RECORDS_H_

#include <cstdint>

#include "safeshare/v1/audit.pb.h"

namespace safeshare::gateway {

// splitmix64: a well-mixed 64-bit value from a counter.
uint64_t Mix(uint64_t x);

// The n-th of a deterministic stream of realistic decision records: what
// DecisionRecord() builds for a Submit, about 1.3 KB serialized.
v1::AuditRecord MakeRecord(uint64_t n);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_BENCH_AUDIT_SAMPLE_RECORDS_H_
