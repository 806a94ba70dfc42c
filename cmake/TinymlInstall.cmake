# Installs the library, headers and a CMake package so that find_package(tinyml) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS tinyml EXPORT tinymlTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tinyml/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tinyml
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT tinymlTargets NAMESPACE tinyml:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinyml)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tinymlConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tinymlConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinyml)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tinymlConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tinymlConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/tinymlConfigVersion.cmake
        ${PROJECT_SOURCE_DIR}/cmake/TinymlDependencies.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinyml)
if(TARGET tinyml_cli)
  install(TARGETS tinyml_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
