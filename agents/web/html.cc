#include "agents/web/html.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace safeshare::web {
namespace {

std::string Id(const std::string& name) {
  std::string id = name;
  std::replace(id.begin(), id.end(), '.', '-');
  return id;
}

std::string HintHtml(const std::string& id, const std::string& hint) {
  if (hint.empty()) return "";
  return absl::StrCat("<div id=\"", id, "-hint\" class=\"govuk-hint\">", Escape(hint), "</div>");
}

std::string ErrorHtml(const std::string& id, const std::string& error) {
  if (error.empty()) return "";
  return absl::StrCat("<p id=\"", id, "-error\" class=\"govuk-error-message\">",
                      "<span class=\"govuk-visually-hidden\">Error:</span> ", Escape(error),
                      "</p>");
}

std::string Described(const std::string& id, const std::string& hint, const std::string& error) {
  std::string ids;
  if (!hint.empty()) ids = id + "-hint";
  if (!error.empty()) ids += (ids.empty() ? "" : " ") + id + "-error";
  return ids.empty() ? "" : absl::StrCat(" aria-describedby=\"", ids, "\"");
}

std::string Group(const std::string& error) {
  return error.empty() ? "govuk-form-group" : "govuk-form-group govuk-form-group--error";
}

// A fieldset of radios or checkboxes.
std::string ChoiceGroup(const std::string& kind, const std::string& name, const std::string& label,
                        const std::string& hint, const std::vector<Choice>& choices,
                        const std::vector<std::string>& chosen, const std::string& error) {
  const std::string id = Id(name);
  std::string out = absl::StrCat(
      "<div class=\"", Group(error), "\"><fieldset class=\"govuk-fieldset\"",
      Described(id, hint, error),
      "><legend class=\"govuk-fieldset__legend govuk-fieldset__legend--s\">", Escape(label),
      "</legend>", HintHtml(id, hint), ErrorHtml(id, error), "<div class=\"govuk-", kind,
      kind == "radios" ? " govuk-radios--small" : " govuk-checkboxes--small",
      "\" data-module=\"govuk-", kind, "\">");
  int i = 0;
  for (const auto& [value, text] : choices) {
    const std::string item = i++ == 0 ? id : absl::StrCat(id, "-", i);
    const bool on = std::find(chosen.begin(), chosen.end(), value) != chosen.end();
    const std::string type = kind == "radios" ? "radio" : "checkbox";
    const std::string base = kind == "radios" ? "govuk-radios" : "govuk-checkboxes";
    absl::StrAppend(&out, "<div class=\"", base, "__item\"><input class=\"", base,
                    "__input\" id=\"", item, "\" name=\"", Escape(name), "\" type=\"", type,
                    "\" value=\"", Escape(value), "\"", on ? " checked" : "",
                    "><label class=\"govuk-label ", base, "__label\" for=\"", item, "\">",
                    Escape(text), "</label></div>");
  }
  return out + "</div></fieldset></div>";
}

}  // namespace

std::string Escape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Page(const PageParts& p) {
  std::string nav;
  for (const auto& item : p.nav) {
    const bool active = item.href == p.active_href;
    absl::StrAppend(&nav, "<li class=\"govuk-service-navigation__item",
                    active ? " govuk-service-navigation__item--active" : "",
                    "\"><a class=\"govuk-service-navigation__link\" href=\"", Escape(item.href),
                    "\"", active ? " aria-current=\"page\"" : "", ">", Escape(item.label),
                    "</a></li>");
  }
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\" class=\"govuk-template\"><head><meta charset=\"utf-8\">",
      "<title>", Escape(p.title), " – ", Escape(p.service_name), "</title>",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
      "<link rel=\"icon\" href=\"/assets/images/favicon.ico\">",
      "<link rel=\"stylesheet\" href=\"/assets/govuk-frontend.min.css\">",
      "<link rel=\"stylesheet\" href=\"/assets/safeshare.css\"></head>",
      "<body class=\"govuk-template__body\"><script src=\"/assets/safeshare-init.js\"></script>",
      "<a href=\"#main-content\" class=\"govuk-skip-link\" data-module=\"govuk-skip-link\">"
      "Skip to main content</a>",
      "<header class=\"govuk-template__header\"><section class=\"govuk-service-navigation\" "
      "aria-label=\"Service menu\" data-module=\"govuk-service-navigation\">"
      "<div class=\"govuk-width-container\"><div class=\"govuk-service-navigation__container\">"
      "<span class=\"govuk-service-navigation__service-name\"><a href=\"/\" "
      "class=\"govuk-service-navigation__link\">",
      Escape(p.service_name),
      "</a></span><nav aria-label=\"Menu\" class=\"govuk-service-navigation__wrapper\">"
      "<ul class=\"govuk-service-navigation__list\">",
      nav, "</ul></nav></div></div></section>",
      p.signed_in_as.empty()
          ? ""
          : absl::StrCat("<div class=\"govuk-width-container\"><p class=\"govuk-body-s "
                         "safeshare-user\">Signed in as ",
                         Escape(p.signed_in_as), "</p></div>"),
      "</header><div class=\"govuk-width-container\"><main class=\"govuk-main-wrapper\" "
      "id=\"main-content\">",
      p.body,
      "</main></div><footer class=\"govuk-footer\"><div class=\"govuk-width-container\">"
      "<p class=\"govuk-body-s\">safeshare: the gateway sees the declaration, never the content. "
      "Every decision, to share or not, is in the partnership's audit log.</p></div></footer>"
      "<script type=\"module\" src=\"/assets/safeshare.js\"></script></body></html>\n");
}

std::string Select(const std::string& name, const std::string& label, const std::string& hint,
                   const std::vector<Choice>& choices, const std::string& selected,
                   const std::string& error) {
  const std::string id = Id(name);
  std::string out = absl::StrCat("<div class=\"", Group(error),
                                 "\"><label class=\"govuk-label "
                                 "govuk-label--s\" for=\"",
                                 id, "\">", Escape(label), "</label>", HintHtml(id, hint),
                                 ErrorHtml(id, error), "<select class=\"govuk-select",
                                 error.empty() ? "" : " govuk-select--error", "\" id=\"", id,
                                 "\" name=\"", Escape(name), "\"", Described(id, hint, error), ">");
  for (const auto& [value, text] : choices) {
    absl::StrAppend(&out, "<option value=\"", Escape(value), "\"",
                    value == selected ? " selected" : "", ">", Escape(text), "</option>");
  }
  return out + "</select></div>";
}

std::string Radios(const std::string& name, const std::string& label, const std::string& hint,
                   const std::vector<Choice>& choices, const std::string& selected,
                   const std::string& error) {
  return ChoiceGroup("radios", name, label, hint, choices, {selected}, error);
}

std::string Checkboxes(const std::string& name, const std::string& label, const std::string& hint,
                       const std::vector<Choice>& choices, const std::vector<std::string>& checked,
                       const std::string& error) {
  return ChoiceGroup("checkboxes", name, label, hint, choices, checked, error);
}

std::string TextInput(const std::string& name, const std::string& label, const std::string& hint,
                      const std::string& value, const std::string& error,
                      const std::string& extra_class) {
  const std::string id = Id(name);
  return absl::StrCat("<div class=\"", Group(error), "\"><label class=\"govuk-label\" for=\"", id,
                      "\">", Escape(label), "</label>", HintHtml(id, hint), ErrorHtml(id, error),
                      "<input class=\"govuk-input", extra_class.empty() ? "" : " " + extra_class,
                      error.empty() ? "" : " govuk-input--error", "\" id=\"", id, "\" name=\"",
                      Escape(name), "\" type=\"text\" value=\"", Escape(value), "\"",
                      Described(id, hint, error), "></div>");
}

std::string Textarea(const std::string& name, const std::string& label, const std::string& hint,
                     const std::string& value, const std::string& error) {
  const std::string id = Id(name);
  return absl::StrCat("<div class=\"", Group(error), "\"><label class=\"govuk-label\" for=\"", id,
                      "\">", Escape(label), "</label>", HintHtml(id, hint), ErrorHtml(id, error),
                      "<textarea class=\"govuk-textarea",
                      error.empty() ? "" : " govuk-textarea--error", "\" id=\"", id, "\" name=\"",
                      Escape(name), "\" rows=\"4\"", Described(id, hint, error), ">", Escape(value),
                      "</textarea></div>");
}

std::string CsrfField(const std::string& token) {
  return absl::StrCat("<input type=\"hidden\" name=\"csrf_token\" value=\"", Escape(token), "\">");
}

std::string ErrorSummary(const std::vector<std::pair<std::string, std::string>>& errors) {
  if (errors.empty()) return "";
  std::string out =
      "<div class=\"govuk-error-summary\" data-module=\"govuk-error-summary\"><div role=\"alert\">"
      "<h2 class=\"govuk-error-summary__title\">There is a problem</h2>"
      "<div class=\"govuk-error-summary__body\"><ul class=\"govuk-list "
      "govuk-error-summary__list\">";
  for (const auto& [field, message] : errors) {
    absl::StrAppend(&out, "<li><a href=\"#", Id(field), "\">", Escape(message), "</a></li>");
  }
  return out + "</ul></div></div></div>";
}

std::string SummaryList(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string out = "<dl class=\"govuk-summary-list\">";
  for (const auto& [key, value] : rows) {
    absl::StrAppend(
        &out, "<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">",
        Escape(key), "</dt><dd class=\"govuk-summary-list__value\">", value, "</dd></div>");
  }
  return out + "</dl>";
}

std::string Tag(const std::string& text, const std::string& colour) {
  return absl::StrCat("<strong class=\"govuk-tag", colour.empty() ? "" : " govuk-tag--" + colour,
                      "\">", Escape(text), "</strong>");
}

}  // namespace safeshare::web
