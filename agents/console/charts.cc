#include "agents/console/charts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agents/web/html.h"

namespace safeshare::console {
namespace {

using web::Escape;

constexpr int kLabelWidth = 340;
constexpr int kRowHeight = 34;

std::string Text(int x, int y, const std::string& text, const std::string& extra = "") {
  return absl::StrCat("<text x=\"", x, "\" y=\"", y, "\" fill=\"#0b0c0c\" font-size=\"15\"", extra,
                      ">", Escape(text), "</text>");
}

// Long names cut to what fits beside the chart; the table has them whole.
std::string Fit(const std::string& label, size_t most) {
  if (label.size() <= most) return label;
  size_t cut = most - 1;
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
  return label.substr(0, cut) + "…";
}

std::string Cell(const std::string& row, const std::string& column) {
  return absl::StrCat(" data-cell=\"", Escape(row), "|", Escape(column), "\"");
}

std::string Open(const std::string& description, int width, int height) {
  return absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"",
                      Escape(description), "\" viewBox=\"0 0 ", width, " ", height, "\" width=\"",
                      width, "\" class=\"safeshare-chart\">");
}

}  // namespace

std::string MatrixSvg(const std::string& description, const std::vector<std::string>& row_ids,
                      const std::vector<std::string>& row_labels,
                      const std::vector<std::string>& column_ids,
                      const std::vector<std::string>& column_labels,
                      const std::vector<std::vector<uint64_t>>& values) {
  constexpr int kCell = 110;
  const int top = 90;
  const int width = kLabelWidth + kCell * static_cast<int>(column_ids.size()) + 10;
  const int height = top + kRowHeight * static_cast<int>(row_ids.size()) + 10;
  uint64_t most = 1;
  for (const auto& row : values) {
    for (uint64_t v : row) most = std::max(most, v);
  }
  std::string out = Open(description, width, height);
  absl::StrAppend(&out, Text(4, 20, "from ↓  to →", " font-weight=\"bold\""));
  for (size_t c = 0; c < column_ids.size(); ++c) {
    // Column heads slanted so that long names fit.
    const int x = kLabelWidth + kCell * static_cast<int>(c) + 8;
    absl::StrAppend(&out, Text(x, top - 8, Fit(column_labels[c], 16),
                               absl::StrCat(" transform=\"rotate(-20 ", x, " ", top - 8, ")\"")));
  }
  for (size_t r = 0; r < row_ids.size(); ++r) {
    const int y = top + kRowHeight * static_cast<int>(r);
    absl::StrAppend(&out, Text(4, y + 22, Fit(row_labels[r], 36)));
    for (size_t c = 0; c < column_ids.size(); ++c) {
      const uint64_t v = values[r][c];
      // White to a light blue: dark text stays readable on every shade.
      const double share = static_cast<double>(v) / static_cast<double>(most);
      const int red = 255 - static_cast<int>(share * (255 - 0x9e));
      const int green = 255 - static_cast<int>(share * (255 - 0xc5));
      const int blue = 255 - static_cast<int>(share * (255 - 0xe6));
      const int x = kLabelWidth + kCell * static_cast<int>(c);
      absl::StrAppend(
          &out, "<rect x=\"", x, "\" y=\"", y, "\" width=\"", kCell - 4, "\" height=\"",
          kRowHeight - 4,
          absl::StrFormat("\" fill=\"#%02x%02x%02x\" stroke=\"#505a5f\"/>", red, green, blue),
          Text(x + 10, y + 21, absl::StrCat(v), Cell(row_ids[r], column_ids[c])));
    }
  }
  return out + "</svg>";
}

std::string BarsSvg(const std::string& description, const std::vector<std::string>& row_ids,
                    const std::vector<std::string>& row_labels,
                    const std::vector<BarSeries>& series,
                    const std::vector<std::vector<uint64_t>>& values) {
  constexpr int kBarSpace = 520;
  const int key_height = 34;
  const int width = kLabelWidth + kBarSpace + 140;
  const int height = key_height + kRowHeight * static_cast<int>(row_ids.size()) + 10;
  uint64_t most = 1;
  for (const auto& row : values) {
    uint64_t sum = 0;
    for (uint64_t v : row) sum += v;
    most = std::max(most, sum);
  }
  std::string out = Open(description, width, height);
  int kx = kLabelWidth;
  for (const auto& s : series) {
    absl::StrAppend(&out, "<rect x=\"", kx, "\" y=\"6\" width=\"16\" height=\"16\" fill=\"", s.fill,
                    "\"/>", Text(kx + 22, 20, s.label));
    kx += 30 + 9 * static_cast<int>(s.label.size());
  }
  for (size_t r = 0; r < row_ids.size(); ++r) {
    const int y = key_height + kRowHeight * static_cast<int>(r);
    absl::StrAppend(&out, Text(4, y + 21, Fit(row_labels[r], 36)));
    int x = kLabelWidth;
    std::string figures;
    for (size_t s = 0; s < series.size(); ++s) {
      const uint64_t v = values[r][s];
      const int w = static_cast<int>(kBarSpace * static_cast<double>(v) / most);
      if (w > 0) {
        absl::StrAppend(&out, "<rect x=\"", x, "\" y=\"", y, "\" width=\"", w, "\" height=\"",
                        kRowHeight - 8, "\" fill=\"", series[s].fill, "\"/>");
      }
      x += w;
      // The figures follow the bar, in the key's order.
      absl::StrAppend(&figures, "<tspan", Cell(row_ids[r], series[s].id), ">", v, "</tspan>",
                      s + 1 < series.size() ? " / " : "");
    }
    absl::StrAppend(&out, "<text x=\"", x + 8, "\" y=\"", y + 19,
                    "\" fill=\"#0b0c0c\" font-size=\"15\">", figures, "</text>");
  }
  return out + "</svg>";
}

}  // namespace safeshare::console
