#include "agents/connector/openapi_schemas.h"

#include <string>

#include "safeshare/v1/connector.pb.h"

namespace safeshare::connector {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;

Value Str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

Value Ref(const std::string& full_name) {
  Value v;
  (*v.mutable_struct_value()->mutable_fields())["$ref"] = Str("#/components/schemas/" + full_name);
  return v;
}

Value Typed(const std::string& type, const std::string& format = "") {
  Value v;
  auto& f = *v.mutable_struct_value()->mutable_fields();
  f["type"] = Str(type);
  if (!format.empty()) f["format"] = Str(format);
  return v;
}

class Builder {
 public:
  void AddMessage(const Descriptor* d) {
    if (schemas_.fields().count(d->full_name())) return;
    (*schemas_.mutable_fields())[d->full_name()];  // visited: a cycle stops here
    Value schema;
    auto& f = *schema.mutable_struct_value()->mutable_fields();
    f["type"] = Str("object");
    f["additionalProperties"].set_bool_value(false);
    Value props;
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* field = d->field(i);
      (*props.mutable_struct_value()->mutable_fields())[field->name()] = FieldSchema(field);
    }
    f["properties"] = std::move(props);
    (*schemas_.mutable_fields())[d->full_name()] = std::move(schema);
  }

  Struct Take() { return std::move(schemas_); }

 private:
  void AddEnum(const EnumDescriptor* e) {
    if (schemas_.fields().count(e->full_name())) return;
    Value schema;
    auto& f = *schema.mutable_struct_value()->mutable_fields();
    f["type"] = Str("string");
    auto* values = f["enum"].mutable_list_value();
    for (int i = 0; i < e->value_count(); ++i) *values->add_values() = Str(e->value(i)->name());
    (*schemas_.mutable_fields())[e->full_name()] = std::move(schema);
  }

  Value Scalar(const FieldDescriptor* field) {
    switch (field->type()) {
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP: {
        const Descriptor* m = field->message_type();
        if (m->full_name() == "google.protobuf.Timestamp") return Typed("string", "date-time");
        if (m->full_name() == "google.protobuf.Duration") return Typed("string");
        AddMessage(m);
        return Ref(m->full_name());
      }
      case FieldDescriptor::TYPE_ENUM:
        AddEnum(field->enum_type());
        return Ref(field->enum_type()->full_name());
      case FieldDescriptor::TYPE_BOOL:
        return Typed("boolean");
      case FieldDescriptor::TYPE_STRING:
        return Typed("string");
      case FieldDescriptor::TYPE_BYTES:
        return Typed("string", "byte");
      case FieldDescriptor::TYPE_DOUBLE:
      case FieldDescriptor::TYPE_FLOAT:
        return Typed("number");
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_FIXED64:
      case FieldDescriptor::TYPE_SFIXED64:
        return Typed("string", "int64");  // proto3 JSON writes 64-bit numbers as strings
      default:
        return Typed("integer");
    }
  }

  Value FieldSchema(const FieldDescriptor* field) {
    if (field->is_map()) {
      Value v = Typed("object");
      (*v.mutable_struct_value()->mutable_fields())["additionalProperties"] =
          Scalar(field->message_type()->map_value());
      return v;
    }
    if (field->is_repeated()) {
      Value v = Typed("array");
      (*v.mutable_struct_value()->mutable_fields())["items"] = Scalar(field);
      return v;
    }
    return Scalar(field);
  }

  Struct schemas_;
};

}  // namespace

std::vector<const Descriptor*> ApiMessages() {
  namespace v1 = safeshare::v1;
  return {v1::Session::descriptor(),         v1::AgencyList::descriptor(),
          v1::Draft::descriptor(),           v1::DraftCheck::descriptor(),
          v1::SentMessage::descriptor(),     v1::SentPage::descriptor(),
          v1::InboxMessage::descriptor(),    v1::InboxPage::descriptor(),
          v1::EscalationPage::descriptor(),  v1::MessageStatus::descriptor(),
          v1::MessageThread::descriptor(),   v1::DecisionNotToShare::descriptor(),
          v1::RecordedDecision::descriptor()};
}

Struct SchemasFor(const std::vector<const Descriptor*>& roots) {
  Builder b;
  for (const Descriptor* d : roots) b.AddMessage(d);
  return b.Take();
}

}  // namespace safeshare::connector
