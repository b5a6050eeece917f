#include "gateway/text_format_loader.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gateway/config.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace safeshare::gateway {
namespace {

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::Status LoadTextProtoFile(const std::string& path, google::protobuf::Message* message) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseTextProto(*text, path, message);
}

absl::Status ParseTextProto(absl::string_view text, absl::string_view name,
                            google::protobuf::Message* message) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), message)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", errors.error()));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
