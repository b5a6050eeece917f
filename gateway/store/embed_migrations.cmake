# Writes OUT: a C++ source holding every DIR/NNNN_name.sql in version order as
# the array ARRAY (and its length COUNT) declared in HEADER, so a gateway
# applies exactly the migration files in the repository.
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
file(WRITE "${OUT}.tmp" "// Generated from ${DIR} by embed_migrations.cmake.\n"
  "#include \"${HEADER}\"\n\n"
  "namespace safeshare::gateway {\n\n"
  "const EmbeddedMigration ${ARRAY}[] = {\n${body}};\n"
  "const size_t ${COUNT} = ${count};\n\n"
  "}  // namespace safeshare::gateway\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
