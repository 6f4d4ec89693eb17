include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Public headers are listed by name so that nothing internal is installed.
set(MANTIS_PUBLIC_HEADERS
  include/mantis/cache.hpp
  include/mantis/engine.hpp
  include/mantis/export.h
  include/mantis/flatbuffers.hpp
  include/mantis/iterator.hpp
  include/mantis/options.hpp
  include/mantis/snapshot.hpp
  include/mantis/stats.hpp
  include/mantis/status.hpp
  include/mantis/transaction.hpp
  include/mantis/value_view.hpp
  include/mantis/write_batch.hpp)
set(MANTIS_PUBLIC_DETAIL_HEADERS
  include/mantis/detail/function_ref.hpp)
foreach(_h IN LISTS MANTIS_PUBLIC_HEADERS MANTIS_PUBLIC_DETAIL_HEADERS)
  if(NOT EXISTS "${PROJECT_SOURCE_DIR}/${_h}")
    message(FATAL_ERROR "installed header ${_h} is missing")
  endif()
endforeach()
install(FILES ${MANTIS_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mantis)
install(FILES ${MANTIS_PUBLIC_DETAIL_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mantis/detail)

# INCLUDES DESTINATION puts the installed include dir on the exported target. (An INSTALL_INTERFACE
# include dir set before GNUInstallDirs is loaded is empty on a fresh configure.)
install(TARGETS mantis EXPORT mantisTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mantisTargets NAMESPACE mantis:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mantis)
configure_package_config_file(cmake/mantisConfig.cmake.in
  "${PROJECT_BINARY_DIR}/mantisConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mantis)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/mantisConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/mantisConfig.cmake" "${PROJECT_BINARY_DIR}/mantisConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mantis)

# The C API: libmantis_c in the same export set (mantis::c), its header, and pkg-config files for
# both libraries. Their Libs carry an rpath so that programs find the libraries without
# LD_LIBRARY_PATH, so the prefix written into them is absolute: the one `cmake --install --prefix`
# installs into (filled in at install time; configure time knows only CMAKE_INSTALL_PREFIX).
install(TARGETS mantis_c EXPORT mantisTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/mantis/mantis.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mantis)
set(MANTIS_PC_PREFIX "@MANTIS_PC_PREFIX@")  # kept for the install-time pass
set(MANTIS_PC_LIBS_PRIVATE "-lpthread")
if(MANTIS_USE_MIMALLOC)
  string(APPEND MANTIS_PC_LIBS_PRIVATE " -lmimalloc")
endif()
foreach(_pc IN ITEMS mantis mantis_c)
  configure_file(cmake/${_pc}.pc.in "${PROJECT_BINARY_DIR}/pkgconfig/${_pc}.pc.in" @ONLY)
  install(CODE "get_filename_component(MANTIS_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\" ABSOLUTE BASE_DIR \"\$ENV{PWD}\")
    configure_file(\"${PROJECT_BINARY_DIR}/pkgconfig/${_pc}.pc.in\" \"${PROJECT_BINARY_DIR}/pkgconfig/${_pc}.pc\" @ONLY)")
  install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/${_pc}.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
