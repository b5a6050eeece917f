#ifndef SAFESHARE_GATEWAY_STORE_POSTGRES_MIGRATIONS_H_
#define SAFESHARE_GATEWAY_STORE_POSTGRES_MIGRATIONS_H_

#include "gateway/store/embedded_migration.h"

namespace safeshare::gateway {

// One file of deploy/postgres/migrations, compiled in (NNNN_name.sql).
using PostgresMigration = EmbeddedMigration;

// In version order; generated from the migration files by CMake.
extern const PostgresMigration kPostgresMigrations[];
extern const size_t kPostgresMigrationCount;

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_POSTGRES_MIGRATIONS_H_
