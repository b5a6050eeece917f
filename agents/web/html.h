#ifndef SAFESHARE_AGENTS_WEB_HTML_H_
#define SAFESHARE_AGENTS_WEB_HTML_H_

// Server-rendered pages in the GOV.UK Design System's markup: escaping, the
// page template, and the form parts every page uses. Everything a page shows
// that came from a user or another agency goes through Escape.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace safeshare::web {

// Text for an HTML text node or a double-quoted attribute.
std::string Escape(absl::string_view text);

struct NavItem {
  std::string href;
  std::string label;
};

struct PageParts {
  std::string title;         // the <title>, after the service name
  std::string service_name;  // shown in the header
  std::vector<NavItem> nav;  // the service navigation
  std::string active_href;   // which nav item is current
  std::string signed_in_as;  // shown top right; empty: nobody
  std::string body;          // inside <main>
};

// The whole document: the GOV.UK template's structure (skip link, header,
// service navigation, main), the stylesheet and scripts served from /assets.
std::string Page(const PageParts& parts);

// A value and the label a person reads for it.
using Choice = std::pair<std::string, std::string>;

// Form parts (GOV.UK components); `name` is the field's form name, `error`
// (when set) is shown above the field and marks it.
std::string Select(const std::string& name, const std::string& label, const std::string& hint,
                   const std::vector<Choice>& choices, const std::string& selected,
                   const std::string& error = "");
std::string Radios(const std::string& name, const std::string& label, const std::string& hint,
                   const std::vector<Choice>& choices, const std::string& selected,
                   const std::string& error = "");
std::string Checkboxes(const std::string& name, const std::string& label, const std::string& hint,
                       const std::vector<Choice>& choices, const std::vector<std::string>& checked,
                       const std::string& error = "");
std::string TextInput(const std::string& name, const std::string& label, const std::string& hint,
                      const std::string& value, const std::string& error = "",
                      const std::string& extra_class = "");
std::string Textarea(const std::string& name, const std::string& label, const std::string& hint,
                     const std::string& value, const std::string& error = "");
// A hidden CSRF field.
std::string CsrfField(const std::string& token);
// A list of (field id, message) as the error summary at the top of a page.
std::string ErrorSummary(const std::vector<std::pair<std::string, std::string>>& errors);
// A summary list of (key, value HTML) rows. Values are HTML: escape first.
std::string SummaryList(const std::vector<std::pair<std::string, std::string>>& rows);
// A coloured tag, e.g. Tag("Urgent", "red").
std::string Tag(const std::string& text, const std::string& colour = "");

}  // namespace safeshare::web

#endif  // SAFESHARE_AGENTS_WEB_HTML_H_
