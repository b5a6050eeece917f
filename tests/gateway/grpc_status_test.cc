// The edge mapping to gRPC status: a client gets what it can act on, never
// the store's own error text.
#include "gateway/grpc_status.h"

#include "gtest/gtest.h"

namespace safeshare::gateway {
namespace {

TEST(GrpcStatusTest, StoreErrorsReachClientsAsAGenericMessage) {
  const absl::Status store = absl::UnavailableError(
      "store: insert message failed: duplicate key value violates unique constraint "
      "\"messages_pkey\" Key (message_id)=(ref-42) already exists (SQLSTATE 23505)");
  const grpc::Status out = ToGrpcStatus(store);
  EXPECT_EQ(out.error_code(), grpc::StatusCode::UNAVAILABLE) << "the code stays: retry";
  EXPECT_EQ(out.error_message().find("ref-42"), std::string::npos) << out.error_message();
  EXPECT_EQ(out.error_message().find("SQLSTATE"), std::string::npos) << out.error_message();
  EXPECT_NE(out.error_message().find("retry"), std::string::npos) << out.error_message();
}

TEST(GrpcStatusTest, InternalAndDataLossAreGeneric) {
  for (const absl::Status& st : {absl::InternalError("audit tree node (3, 4) is missing"),
                                 absl::DataLossError("stored receipt for ref-42 is corrupt")}) {
    const grpc::Status out = ToGrpcStatus(st);
    EXPECT_EQ(static_cast<int>(out.error_code()), static_cast<int>(st.code()));
    EXPECT_EQ(out.error_message().find("ref-42"), std::string::npos) << out.error_message();
    EXPECT_EQ(out.error_message().find("tree node"), std::string::npos) << out.error_message();
  }
}

TEST(GrpcStatusTest, WhatTheCallerCanFixPassesThrough) {
  for (const absl::Status& st :
       {absl::InvalidArgumentError("envelope.declaration: is 20000 bytes serialized; the limit "
                                   "(max_declaration_bytes) is 16384"),
        absl::ResourceExhaustedError("message root already has 200 replies"),
        absl::UnavailableError("no sharing policy is loaded")}) {
    const grpc::Status out = ToGrpcStatus(st);
    EXPECT_EQ(static_cast<int>(out.error_code()), static_cast<int>(st.code()));
    EXPECT_EQ(out.error_message(), st.message());
  }
}

}  // namespace
}  // namespace safeshare::gateway
