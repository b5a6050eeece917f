#ifndef SAFESHARE_AGENTS_CONSOLE_CHARTS_H_
#define SAFESHARE_AGENTS_CONSOLE_CHARTS_H_

// Charts drawn on the server as inline SVG: nothing to fetch at run time and
// nothing for the Content-Security-Policy to allow. Every chart is an image
// with a text alternative, and the page shows the same figures as a table
// (and as CSV). Each figure drawn carries data-cell="<row>|<column>" so a
// test can compare it with the table's cell of the same name.

#include <cstdint>
#include <string>
#include <vector>

namespace safeshare::console {

// A matrix: rows × columns, each cell shaded by its value and labelled with
// it. `values[r][c]`.
std::string MatrixSvg(const std::string& description, const std::vector<std::string>& row_ids,
                      const std::vector<std::string>& row_labels,
                      const std::vector<std::string>& column_ids,
                      const std::vector<std::string>& column_labels,
                      const std::vector<std::vector<uint64_t>>& values);

struct BarSeries {
  std::string id;     // data-cell column
  std::string label;  // in the key
  std::string fill;   // a colour with 3:1 contrast against white
};

// Horizontal stacked bars, one per row: `values[r][s]` for series s.
std::string BarsSvg(const std::string& description, const std::vector<std::string>& row_ids,
                    const std::vector<std::string>& row_labels,
                    const std::vector<BarSeries>& series,
                    const std::vector<std::vector<uint64_t>>& values);

}  // namespace safeshare::console

#endif  // SAFESHARE_AGENTS_CONSOLE_CHARTS_H_
