#ifndef SAFESHARE_COMMON_FILES_H_
#define SAFESHARE_COMMON_FILES_H_

// Reading whole files and writing them so that a crash leaves either the old
// file or the new one, never half of either.

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace safeshare {

// The whole file. NOT_FOUND, PERMISSION_DENIED or UNAVAILABLE name the path
// and the reason.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// `path` as written in a file in `base_dir`: absolute as it is, relative to
// `base_dir` otherwise (as it is when `base_dir` is empty).
std::string PathRelativeTo(const std::string& base_dir, const std::string& path);

// Writes `data` to `path` through a temporary file in the same directory:
// created with `mode` (0600 for private keys), fsynced, then renamed over
// `path`. UNAVAILABLE names the path and the reason.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data, mode_t mode);

// Fsyncs a directory, so that a rename into it survives a crash.
absl::Status SyncDirectory(const std::string& dir);
// Fsyncs a file written by someone else (e.g. SQLite).
absl::Status SyncFile(const std::string& path);

// The directory `path` is in: "." when it names none.
std::string DirectoryOf(const std::string& path);

}  // namespace safeshare

#endif  // SAFESHARE_COMMON_FILES_H_
