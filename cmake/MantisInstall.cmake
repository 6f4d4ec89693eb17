include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Public headers are listed by name so that nothing internal is installed.
set(MANTIS_PUBLIC_HEADERS
  include/mantis/cache.hpp
  include/mantis/engine.hpp
  include/mantis/iterator.hpp
  include/mantis/options.hpp
  include/mantis/stats.hpp
  include/mantis/status.hpp
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
