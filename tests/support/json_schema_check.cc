#include "tests/support/json_schema_check.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

const Value* Field(const Value& v, const std::string& name) {
  if (!v.has_struct_value()) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

absl::Status Check(const Value& instance, const Value& schema, const Struct& doc,
                   const std::string& where, int depth) {
  if (depth > 64) return absl::InternalError("schema nesting too deep");
  if (const Value* ref = Field(schema, "$ref")) {
    const std::string prefix = "#/components/schemas/";
    const std::string& r = ref->string_value();
    if (!absl::StartsWith(r, prefix)) return absl::InvalidArgumentError("unsupported $ref " + r);
    const Value* components = &doc.fields().at("components");
    const Value* schemas = Field(*components, "schemas");
    const Value* target = schemas ? Field(*schemas, r.substr(prefix.size())) : nullptr;
    if (target == nullptr) return absl::NotFoundError("no schema " + r);
    return Check(instance, *target, doc, where, depth + 1);
  }
  if (const Value* type = Field(schema, "type")) {
    const std::string& t = type->string_value();
    bool ok = (t == "object" && instance.has_struct_value()) ||
              (t == "array" && instance.has_list_value()) ||
              (t == "string" && instance.kind_case() == Value::kStringValue) ||
              (t == "boolean" && instance.kind_case() == Value::kBoolValue) ||
              (t == "number" && instance.kind_case() == Value::kNumberValue) ||
              (t == "integer" && instance.kind_case() == Value::kNumberValue &&
               std::floor(instance.number_value()) == instance.number_value());
    if (!ok) return absl::InvalidArgumentError(absl::StrCat(where, ": not of type ", t));
  }
  if (const Value* values = Field(schema, "enum")) {
    bool found = false;
    for (const auto& v : values->list_value().values()) {
      found = found || v.string_value() == instance.string_value();
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", instance.string_value(), "' is not one of the enum"));
    }
  }
  if (instance.has_struct_value()) {
    const Value* props = Field(schema, "properties");
    const Value* additional = Field(schema, "additionalProperties");
    for (const auto& [name, value] : instance.struct_value().fields()) {
      const Value* prop = props ? Field(*props, name) : nullptr;
      if (prop != nullptr) {
        if (auto st = Check(value, *prop, doc, where + "." + name, depth + 1); !st.ok()) return st;
      } else if (additional != nullptr && additional->kind_case() == Value::kBoolValue) {
        if (!additional->bool_value()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": unexpected member ", name));
        }
      } else if (additional != nullptr) {
        if (auto st = Check(value, *additional, doc, where + "." + name, depth + 1); !st.ok()) {
          return st;
        }
      }
    }
    if (const Value* required = Field(schema, "required")) {
      for (const auto& r : required->list_value().values()) {
        if (!instance.struct_value().fields().count(r.string_value())) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": missing required ", r.string_value()));
        }
      }
    }
  }
  if (instance.has_list_value()) {
    if (const Value* items = Field(schema, "items")) {
      int i = 0;
      for (const auto& v : instance.list_value().values()) {
        if (auto st = Check(v, *items, doc, absl::StrCat(where, "[", i++, "]"), depth + 1);
            !st.ok()) {
          return st;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Struct> LoadOpenApi(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  Struct doc;
  auto st = google::protobuf::util::JsonStringToMessage(text.str(), &doc);
  if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.ToString()));
  return doc;
}

absl::Status CheckJsonAgainst(const std::string& json, const Value& schema, const Struct& doc) {
  Value instance;
  auto st = google::protobuf::util::JsonStringToMessage(json, &instance);
  if (!st.ok()) return absl::InvalidArgumentError("not JSON: " + st.ToString());
  return Check(instance, schema, doc, "$", 0);
}

absl::StatusOr<Value> ResponseSchema(const Struct& doc, const std::string& method,
                                     const std::string& path, int status,
                                     const std::string& media_type) {
  const Value& paths = doc.fields().at("paths");
  const Value* item = Field(paths, path);
  const Value* op = item ? Field(*item, method) : nullptr;
  const Value* responses = op ? Field(*op, "responses") : nullptr;
  const Value* response = responses ? Field(*responses, absl::StrCat(status)) : nullptr;
  const Value* content = response ? Field(*response, "content") : nullptr;
  const Value* media = content ? Field(*content, media_type) : nullptr;
  const Value* schema = media ? Field(*media, "schema") : nullptr;
  if (schema == nullptr) {
    return absl::NotFoundError(absl::StrCat("openapi.json lists no ", status, " ", media_type,
                                            " for ", method, " ", path));
  }
  return *schema;
}

}  // namespace safeshare::testing
