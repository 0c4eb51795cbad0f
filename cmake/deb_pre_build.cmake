# Run by CPack (CPACK_PRE_BUILD_SCRIPTS, cmake/packaging.cmake) after it has staged the files of
# the Debian package and before it builds the .deb, to give the package what Debian policy
# asks of a binary package and `cmake --install` does not do (installer/install.sh keeps
# plain man pages and no /usr/share/doc):
#   - /usr/share/doc/lockd/copyright and changelog.gz (policy 12.5, 12.7);
#   - man pages compressed with gzip -9n (policy 12.1; -n: reproducible bytes);
#   - the lintian overrides for the deliberate directory permissions.
# The sources are in installer/debian/ (CPACK_LOCKD_DEBIAN_DIR is passed through CPack's config).

if(NOT DEFINED CPACK_TEMPORARY_DIRECTORY OR NOT DEFINED CPACK_LOCKD_DEBIAN_DIR)
  message(FATAL_ERROR "deb_pre_build.cmake: run by CPack only")
endif()
set(_root ${CPACK_TEMPORARY_DIRECTORY})
if(NOT EXISTS ${_root}/usr/sbin/lockd)
  message(FATAL_ERROR "deb_pre_build.cmake: no usr/sbin/lockd under the staging dir ${_root}")
endif()

function(_lockd_gzip src dst)
  execute_process(COMMAND gzip -9n -c ${src} OUTPUT_FILE ${dst} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb_pre_build.cmake: gzip ${src} failed (${rc})")
  endif()
  file(CHMOD ${dst} PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

file(GLOB _pages ${_root}/usr/share/man/man*/*)
foreach(_page IN LISTS _pages)
  if(NOT _page MATCHES "\\.gz$")
    _lockd_gzip(${_page} ${_page}.gz)
    file(REMOVE ${_page})
  endif()
endforeach()

set(_doc ${_root}/usr/share/doc/lockd)
file(MAKE_DIRECTORY ${_doc})
file(COPY_FILE ${CPACK_LOCKD_DEBIAN_DIR}/copyright ${_doc}/copyright)
file(CHMOD ${_doc}/copyright PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
_lockd_gzip(${CPACK_LOCKD_DEBIAN_DIR}/changelog ${_doc}/changelog.gz)

set(_overrides ${_root}/usr/share/lintian/overrides)
file(MAKE_DIRECTORY ${_overrides})
file(COPY_FILE ${CPACK_LOCKD_DEBIAN_DIR}/lintian-overrides ${_overrides}/lockd)
file(CHMOD ${_overrides}/lockd PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
