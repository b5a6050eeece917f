# Writes OUT: a C++ source holding every deploy/postgres/migrations/NNNN_name.sql
# in version order, so the gateway applies exactly the files in the repository.
file(GLOB files "${DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "")
set(count 0)
foreach(f ${files})
  get_filename_component(name "${f}" NAME_WE)
  string(SUBSTRING "${name}" 0 4 version)
  math(EXPR version "${version}")
  file(READ "${f}" sql)
  string(APPEND body "  {${version}, \"${name}\", R\"safeshare_sql(${sql})safeshare_sql\"},\n")
  math(EXPR count "${count} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from deploy/postgres/migrations by embed_migrations.cmake.\n"
  "#include \"gateway/store/postgres_migrations.h\"\n\n"
  "namespace safeshare::gateway {\n\n"
  "const PostgresMigration kPostgresMigrations[] = {\n${body}};\n"
  "const size_t kPostgresMigrationCount = ${count};\n\n"
  "}  // namespace safeshare::gateway\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
