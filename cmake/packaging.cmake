# The Debian package, built with CPack: `cpack -G DEB` in the build directory writes
# lockd_<version>_amd64.deb with the layout of cmake/install.cmake. The maintainer scripts in
# installer/debian/ never start or enable lockd, and never enforce: the operator installs a
# trust anchor and a signed database, then enables the service (see lockd(8)).

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lockd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "lockd project")
# The Maintainer field. The project has no public address yet: ".invalid" (RFC 2606) says so
# plainly; an organisation that builds its own package sets its own (and the address in
# installer/debian/changelog).
set(LOCKD_PACKAGE_MAINTAINER "lockd maintainers <lockd-maintainers@lockd.invalid>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${LOCKD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "application allowlisting daemon for ATMs, kiosks and other closed terminals")
# The extended description, wrapped below 80 columns (CPack indents each line by one space).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
       "lockd stops every program whose content is not in a signed allowlist: it"
       "answers the kernel's fanotify exec permission events after hashing the file"
       "(SHA-256) and looking it up in a database signed with ECDSA or Ed25519."
       "Every denial goes to a hash-chained audit log and, as one line, to the"
       "terminal of the user whose program was stopped."
       "lockctl builds, inspects and installs allowlists, checks the machine's"
       "posture and drives offline maintenance with a USB key token."
       "Installing the package does not start, enable or enforce the daemon.")

# The package's files sit at /usr, /etc, /var and /lib: CPack must install through DESTDIR so
# that the absolute destinations of cmake/install.cmake land inside the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # lockd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE "")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the linked libraries (libssl3, libc6...)
# Named as well, so the dependency holds even where dpkg-shlibdeps is not run: libmount parses
# the mount tables lockd marks from (lockd/os/mountinfo.cpp).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libmount1")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(_lockd_debian ${CMAKE_CURRENT_LIST_DIR}/../installer/debian)
get_filename_component(_lockd_debian ${_lockd_debian} ABSOLUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_lockd_debian}/conffiles ${_lockd_debian}/postinst ${_lockd_debian}/prerm
    ${_lockd_debian}/postrm)
# What Debian policy asks beyond `cmake --install`: copyright, changelog.gz, compressed man
# pages, lintian overrides (cmake/deb_pre_build.cmake, run on CPack's staging tree). Checked by
# tests/integration/deb_package_test.sh with lintian.
set(CPACK_LOCKD_DEBIAN_DIR ${_lockd_debian})
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb_pre_build.cmake)

# cpack installs what the build made and does not build the whole tree first (its
# `preinstall` step would otherwise build every test and benchmark): build lockd and lockctl,
# then run cpack. The same holds for `make install`.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

include(CPack)
