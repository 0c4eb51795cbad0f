# Where lockd's files land, for `cmake --install` (installer/install.sh) and for CPack
# (cmake/packaging.cmake). The layout is the one docs/man/*.8 and *.5 document under FILES;
# tests/integration/install_test.sh checks that every file lands there.
#
# Programs, manuals and the bash completion go under CMAKE_INSTALL_PREFIX (install with
# --prefix /usr: /usr/sbin/lockd, /usr/bin/lockctl). Configuration, state, logs and the
# systemd unit have fixed absolute places (/etc/lockd, /var/lib/lockd, /var/log/lockd,
# /lib/systemd/system) whatever the prefix, because the unit and lockd's built-in defaults name
# them. Both honour DESTDIR, so a test can install into a scratch root.
#
# Upgrade safety: an existing /etc/lockd/lockd.toml is never overwritten (the shipped default
# is written next to it as lockd.toml.dist when it differs), and nothing here touches the trust
# anchors, the database or the logs; installing again is an upgrade that keeps them.

include(GNUInstallDirs)

set(LOCKD_SYSCONF_DIR /etc/lockd CACHE PATH "Configuration directory (absolute)")
set(LOCKD_STATE_DIR /var/lib/lockd CACHE PATH "State directory: database, generation (absolute)")
set(LOCKD_LOG_DIR /var/log/lockd CACHE PATH "Audit log directory (absolute)")
set(LOCKD_SYSTEMD_UNIT_DIR /lib/systemd/system CACHE PATH "systemd system unit directory")
mark_as_advanced(LOCKD_SYSCONF_DIR LOCKD_STATE_DIR LOCKD_LOG_DIR LOCKD_SYSTEMD_UNIT_DIR)

if(TARGET lockd)
  install(TARGETS lockd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
endif()
if(TARGET lockctl)
  install(TARGETS lockctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(_lockd_installer ${CMAKE_CURRENT_LIST_DIR}/../installer)
get_filename_component(_lockd_installer ${_lockd_installer} ABSOLUTE)
set(_lockd_man ${CMAKE_CURRENT_LIST_DIR}/../docs/man)
get_filename_component(_lockd_man ${_lockd_man} ABSOLUTE)

# The unit is written by the daemon's issue; it is installed as soon as it exists.
if(EXISTS ${_lockd_installer}/lockd.service)
  install(FILES ${_lockd_installer}/lockd.service DESTINATION ${LOCKD_SYSTEMD_UNIT_DIR}
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()

install(FILES ${_lockd_man}/lockd.8 ${_lockd_man}/lockctl.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${_lockd_man}/lockd.toml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${_lockd_installer}/bash-completion/lockctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Directories. Permissions: the trust anchors are public keys (readable); the state directory
# holds the database and the highest accepted generation (root only, so nobody can swap the
# file lockd reads); logs are root-only too (they name every denied program and path).
install(DIRECTORY DESTINATION ${LOCKD_SYSCONF_DIR}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                              GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(DIRECTORY DESTINATION ${LOCKD_SYSCONF_DIR}/trust
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                              GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(DIRECTORY DESTINATION ${LOCKD_STATE_DIR}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
install(DIRECTORY DESTINATION ${LOCKD_LOG_DIR}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)

# The default configuration, only where none exists yet (see the header comment). CPack
# stages into an empty DESTDIR, so the package always carries the default; dpkg then treats
# it as a conffile (installer/debian/conffiles).
install(CODE "
  set(_src \"${_lockd_installer}/lockd.toml\")
  set(_dst \"\$ENV{DESTDIR}${LOCKD_SYSCONF_DIR}/lockd.toml\")
  if(NOT EXISTS \"\${_dst}\")
    message(STATUS \"Installing: \${_dst}\")
    file(COPY_FILE \"\${_src}\" \"\${_dst}\")
    file(CHMOD \"\${_dst}\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  else()
    file(READ \"\${_src}\" _new)
    file(READ \"\${_dst}\" _old)
    if(_new STREQUAL _old)
      message(STATUS \"Up-to-date: \${_dst}\")
    else()
      message(STATUS \"Kept: \${_dst} (the shipped default is in \${_dst}.dist)\")
      file(COPY_FILE \"\${_src}\" \"\${_dst}.dist\")
      file(CHMOD \"\${_dst}.dist\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endif()
  endif()
")
