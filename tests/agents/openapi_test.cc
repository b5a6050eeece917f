// agents/connector/openapi.json against the connector: the routes the
// server registers are the document's paths, its schemas are the ones the
// protos print, and every reference in it resolves. (The end-to-end suite
// checks every answer the running connector gives against it.)

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/connector/connector_api.h"
#include "agents/connector/openapi_schemas.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/support/json_schema_check.h"

namespace safeshare::connector {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

Struct Doc() {
  auto doc = testing::LoadOpenApi(SAFESHARE_SOURCE_DIR "/agents/connector/openapi.json");
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *doc : Struct();
}

void CollectRefs(const Value& v, std::set<std::string>* refs) {
  if (v.has_struct_value()) {
    for (const auto& [k, f] : v.struct_value().fields()) {
      if (k == "$ref") refs->insert(f.string_value());
      CollectRefs(f, refs);
    }
  } else if (v.has_list_value()) {
    for (const auto& e : v.list_value().values()) CollectRefs(e, refs);
  }
}

TEST(OpenApiTest, TheServersRoutesAreTheDocumentsPaths) {
  web::WebServer server({});
  AddApiRoutes(nullptr, &server);  // registration only; nothing is served
  std::set<std::string> served(server.routes().begin(), server.routes().end());
  std::set<std::string> documented;
  const Struct doc = Doc();
  for (const auto& [path, item] : doc.fields().at("paths").struct_value().fields()) {
    for (const auto& [method, op] : item.struct_value().fields()) {
      documented.insert(absl::StrCat(absl::AsciiStrToUpper(method), " ", path));
    }
  }
  EXPECT_EQ(served, documented);
  EXPECT_EQ(served.size(), server.routes().size()) << "a route registered twice";
}

TEST(OpenApiTest, TheSchemasAreTheOnesTheProtosPrint) {
  Struct doc = Doc();
  Struct schemas =
      doc.fields().at("components").struct_value().fields().at("schemas").struct_value();
  schemas.mutable_fields()->erase("Problem");  // written by hand: RFC 9457
  const Struct generated = SchemasFor(ApiMessages());
  std::string why;
  google::protobuf::util::MessageDifferencer diff;
  diff.ReportDifferencesToString(&why);
  if (!diff.Compare(generated, schemas)) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(generated, &json);
    const std::string out = ::testing::TempDir() + "/openapi-schemas.json";
    std::ofstream(out) << json;
    ADD_FAILURE() << "openapi.json's schemas differ from the protos':\n"
                  << why.substr(0, 4000) << "\nThe protos' are in " << out
                  << "; python3 tests/agents/update_openapi.py " << out << " puts them in.";
  }
}

TEST(OpenApiTest, EveryReferenceResolvesAndEveryErrorIsAProblem) {
  Struct doc = Doc();
  std::set<std::string> refs;
  Value whole;
  *whole.mutable_struct_value() = doc;
  CollectRefs(whole, &refs);
  const auto& schemas =
      doc.fields().at("components").struct_value().fields().at("schemas").struct_value().fields();
  for (const auto& r : refs) {
    const std::string name = r.substr(std::string("#/components/schemas/").size());
    EXPECT_TRUE(schemas.count(name)) << r;
  }
  for (const auto& [path, item] : doc.fields().at("paths").struct_value().fields()) {
    for (const auto& [method, op] : item.struct_value().fields()) {
      bool has_401 = false;
      for (const auto& [status, response] :
           op.struct_value().fields().at("responses").struct_value().fields()) {
        if (status[0] != '4' && status[0] != '5') continue;
        has_401 = has_401 || status == "401";
        auto schema = testing::ResponseSchema(doc, method, path, std::stoi(status),
                                              "application/problem+json");
        EXPECT_TRUE(schema.ok()) << method << " " << path << " " << status;
      }
      EXPECT_TRUE(has_401) << method << " " << path << ": every route needs a signed-in user";
    }
  }
}

TEST(OpenApiTest, TheCheckerRefusesWhatTheSchemaDoesNot) {
  Struct doc = Doc();
  auto schema = testing::ResponseSchema(doc, "get", "/api/v1/session", 200, "application/json");
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_TRUE(
      testing::CheckJsonAgainst(
          R"({"agency_id": "southsea-academy", "role": "PRACTITIONER_ROLE_TEACHER"})", *schema, doc)
          .ok());
  EXPECT_FALSE(testing::CheckJsonAgainst(R"({"agency": "x"})", *schema, doc).ok());
  EXPECT_FALSE(testing::CheckJsonAgainst(R"({"role": "TEACHER"})", *schema, doc).ok());
  EXPECT_FALSE(testing::CheckJsonAgainst(R"({"agency_id": 7})", *schema, doc).ok());
  EXPECT_FALSE(
      testing::ResponseSchema(doc, "get", "/api/v1/session", 418, "application/json").ok());
}

}  // namespace
}  // namespace safeshare::connector
