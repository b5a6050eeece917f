#include "gateway/delivery/school_calendars.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "policy/isa.h"

namespace safeshare::gateway {
namespace {

// "08:40" or "08:40:00", as a duration since midnight.
absl::StatusOr<absl::Duration> ParseSessionStart(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  int h = -1, m = -1, s = 0;
  auto number = [](const std::string& p, int* out) {
    if (p.size() != 2 || !absl::ascii_isdigit(p[0]) || !absl::ascii_isdigit(p[1])) return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
  };
  if ((parts.size() == 2 || parts.size() == 3) && number(parts[0], &h) && number(parts[1], &m) &&
      (parts.size() == 2 || number(parts[2], &s)) && h < 24 && m < 60 && s < 60) {
    return absl::Hours(h) + absl::Minutes(m) + absl::Seconds(s);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("session_start: '", text, "' is not HH:MM or HH:MM:SS (24-hour)"));
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text, const std::string& field) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", text, "' is not YYYY-MM-DD"));
  }
  return day;
}

absl::StatusOr<SchoolCalendar> SchoolCalendar::FromProto(
    const safeshare::v1::SchoolCalendar& proto, const std::set<absl::CivilDay>& bank_holidays) {
  SchoolCalendar c;
  if (proto.agency_id().empty()) {
    return absl::InvalidArgumentError("agency_id: the school's agency id is required");
  }
  c.agency_id_ = proto.agency_id();
  const std::string zone = proto.time_zone().empty() ? "Europe/London" : proto.time_zone();
  if (!absl::LoadTimeZone(zone, &c.zone_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time_zone: '", zone, "' is not a known time zone"));
  }
  auto start = ParseSessionStart(proto.session_start());
  if (!start.ok()) return start.status();
  c.session_start_ = *start;
  if (proto.terms().empty()) {
    return absl::InvalidArgumentError("terms: at least one term (first_day, last_day) is required");
  }
  for (int i = 0; i < proto.terms_size(); ++i) {
    const std::string field = absl::StrCat("terms[", i, "]");
    auto first = ParseDay(proto.terms(i).first_day(), field + ".first_day");
    if (!first.ok()) return first.status();
    auto last = ParseDay(proto.terms(i).last_day(), field + ".last_day");
    if (!last.ok()) return last.status();
    if (*last < *first) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": last_day is before first_day"));
    }
    c.terms_.push_back({*first, *last});
  }
  std::sort(c.terms_.begin(), c.terms_.end());
  for (size_t i = 1; i < c.terms_.size(); ++i) {
    if (c.terms_[i].first <= c.terms_[i - 1].second) {
      return absl::InvalidArgumentError("terms: two terms overlap");
    }
  }
  for (const auto& [list, name] :
       {std::pair{&proto.inset_days(), "inset_days"}, std::pair{&proto.closures(), "closures"}}) {
    for (int i = 0; i < list->size(); ++i) {
      auto day = ParseDay(list->Get(i), absl::StrCat(name, "[", i, "]"));
      if (!day.ok()) return day.status();
      c.not_school_days_.insert(*day);
    }
  }
  c.not_school_days_.insert(bank_holidays.begin(), bank_holidays.end());
  return c;
}

bool SchoolCalendar::IsSchoolDay(absl::CivilDay day) const {
  const absl::Weekday w = absl::GetWeekday(day);
  if (w == absl::Weekday::saturday || w == absl::Weekday::sunday) return false;
  if (not_school_days_.count(day)) return false;
  return std::any_of(terms_.begin(), terms_.end(),
                     [&](const auto& term) { return term.first <= day && day <= term.second; });
}

std::optional<absl::Time> SchoolCalendar::NextSessionStart(absl::Time t) const {
  absl::CivilDay day(absl::ToCivilSecond(t, zone_));
  const absl::CivilDay last_day = terms_.back().second;
  for (; day <= last_day; ++day) {
    if (!IsSchoolDay(day)) continue;
    const absl::Time start = absl::FromCivil(day, zone_) + session_start_;
    if (start > t) return start;
  }
  return std::nullopt;
}

absl::Status SchoolCalendars::Load(const std::string& dir) {
  auto next = std::make_shared<Map>();
  if (!dir.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".json") files.push_back(it->path());
    }
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("cannot list school calendar folder ", dir, ": ", ec.message()));
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> errors;
    for (const auto& path : files) {
      auto text = ReadFile(path.string());
      safeshare::v1::SchoolCalendar proto;
      absl::Status st = text.status();
      if (st.ok()) st = policy::ParseProtoJson(*text, &proto);
      if (st.ok()) {
        auto calendar = SchoolCalendar::FromProto(proto, bank_holidays_);
        st = calendar.status();
        if (st.ok() && !next->emplace(calendar->agency_id(), *std::move(calendar)).second) {
          st = absl::InvalidArgumentError(
              absl::StrCat("agency_id: a second calendar for ", proto.agency_id()));
        }
      }
      if (!st.ok()) errors.push_back(absl::StrCat(path.string(), ": ", st.message()));
    }
    if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  absl::MutexLock lock(&mu_);
  current_ = std::move(next);
  return absl::OkStatus();
}

std::shared_ptr<const SchoolCalendars::Map> SchoolCalendars::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace safeshare::gateway
