#ifndef SAFESHARE_GATEWAY_STORE_EMBEDDED_MIGRATION_H_
#define SAFESHARE_GATEWAY_STORE_EMBEDDED_MIGRATION_H_

#include <cstddef>

namespace safeshare::gateway {

// One schema migration file (NNNN_name.sql), compiled in by
// embed_migrations.cmake.
struct EmbeddedMigration {
  int version;
  const char* name;
  const char* sql;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_EMBEDDED_MIGRATION_H_
