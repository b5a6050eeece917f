# Debian packages (CPack): safeshare-gateway (the gateway, its systemd unit,
# example configuration) and safeshare-cli (the `safeshare` CLI with the
# agency connector and IG console, their pages' assets, the connector's
# template unit). Built by deploy/debian/build-packages.sh; docs/operator-guide.md.

set(SAFESHARE_VERSION "0.25.0" CACHE STRING "Version of the Debian packages")
set(deb ${PROJECT_SOURCE_DIR}/deploy/debian)

install(TARGETS safeshare-gateway RUNTIME DESTINATION bin COMPONENT gateway)
install(FILES ${deb}/safeshare-gateway.service DESTINATION /lib/systemd/system COMPONENT gateway)
install(FILES ${deb}/gateway.textproto ${PROJECT_SOURCE_DIR}/deploy/dev-federation.textproto
        DESTINATION share/doc/safeshare-gateway/examples COMPONENT gateway)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/isa ${PROJECT_SOURCE_DIR}/deploy/school-calendars
                  ${PROJECT_SOURCE_DIR}/deploy/monitoring
        DESTINATION share/doc/safeshare-gateway/examples COMPONENT gateway)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operator-guide.md ${PROJECT_SOURCE_DIR}/docs/audit-log.md
              ${PROJECT_SOURCE_DIR}/docs/federation.md ${PROJECT_SOURCE_DIR}/docs/scale-out.md
        DESTINATION share/doc/safeshare-gateway COMPONENT gateway)

install(TARGETS safeshare RUNTIME DESTINATION bin COMPONENT cli)
install(FILES ${deb}/safeshare-connector@.service DESTINATION /lib/systemd/system COMPONENT cli)
# The pages' assets, laid out as in the source tree (agents/web/assets.cc).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/agents/web/static
        DESTINATION share/safeshare/web COMPONENT cli)
set(govuk ${PROJECT_SOURCE_DIR}/agents/web/node_modules/govuk-frontend/dist/govuk)
install(FILES ${govuk}/govuk-frontend.min.css ${govuk}/govuk-frontend.min.js
        DESTINATION share/safeshare/web/node_modules/govuk-frontend/dist/govuk COMPONENT cli)
install(FILES ${govuk}/assets/images/favicon.ico
        DESTINATION share/safeshare/web/node_modules/govuk-frontend/dist/govuk/assets/images
        COMPONENT cli)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/examples
        DESTINATION share/doc/safeshare-cli COMPONENT cli)
install(FILES ${PROJECT_SOURCE_DIR}/docs/connector.md ${PROJECT_SOURCE_DIR}/docs/console.md
              ${PROJECT_SOURCE_DIR}/docs/envelope-format.md
        DESTINATION share/doc/safeshare-cli COMPONENT cli)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME safeshare)
set(CPACK_PACKAGE_VERSION ${SAFESHARE_VERSION})
set(CPACK_PACKAGE_CONTACT "safeshare maintainers <safeshare@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL gateway cli)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries themselves (dpkg-shlibdeps), plus
# what the maintainer scripts call.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_GATEWAY_PACKAGE_NAME safeshare-gateway)
set(CPACK_DEBIAN_GATEWAY_PACKAGE_DEPENDS "passwd, ca-certificates")
set(CPACK_DEBIAN_GATEWAY_DESCRIPTION
    "safeshare gateway: safeguarding referrals between agencies\n The mutual-TLS gRPC gateway that checks each share against the golden rules\n and the agencies' agreements, delivers sealed envelopes it cannot read, and\n records every decision in a tamper-evident audit log.")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_CONTROL_EXTRA
    "${deb}/gateway/postinst;${deb}/gateway/prerm;${deb}/gateway/postrm")
set(CPACK_DEBIAN_CLI_PACKAGE_NAME safeshare-cli)
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "passwd, ca-certificates")
set(CPACK_DEBIAN_CLI_DESCRIPTION
    "safeshare CLI, agency connector and IG console\n Seals, sends, receives and verifies safeguarding referrals for an agency;\n serves the practitioners' connector and the IG officers' console pages.")
set(CPACK_DEBIAN_CLI_PACKAGE_CONTROL_EXTRA "${deb}/cli/postinst;${deb}/cli/postrm")
include(CPack)
