// The edge mapping to gRPC status: a client gets what it can act on, never
// the store's own error text.
#include "gateway/grpc_status.h"

#include "common/error_reason.h"
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

// A refusal's reason reaches the client in the standard details trailer; a
// fault's never does (it would say what the generic message hides).
TEST(GrpcStatusTest, ARefusalsReasonTravelsInTheDetails) {
  const grpc::Status out = ToGrpcStatus(WithReason(
      absl::InvalidArgumentError("envelope.created_time: is 2h ahead"), "CREATED_TIME_IN_FUTURE"));
  EXPECT_EQ(out.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const absl::Status back =
      FromRichStatus(absl::StatusCode::kInvalidArgument, out.error_message(), out.error_details());
  ASSERT_TRUE(ReasonOf(back).has_value()) << "details: " << out.error_details().size() << " bytes";
  EXPECT_EQ(ReasonOf(back)->reason(), "CREATED_TIME_IN_FUTURE");

  const grpc::Status fault =
      ToGrpcStatus(WithReason(absl::InternalError("tree node (3, 4) is missing"), "SECRET"));
  EXPECT_TRUE(fault.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::NotFoundError("no such agency")).error_details().empty());
}

}  // namespace
}  // namespace safeshare::gateway
