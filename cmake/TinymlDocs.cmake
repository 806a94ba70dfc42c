# The API reference: `cmake --build build --target docs` runs Doxygen over tinyml/**/*.hpp (and the
# architecture and quantization pages) into build/docs/html. Any Doxygen warning fails the target,
# and the ctest `docs.doxygen` (label "unit") builds it, so a malformed comment fails the tests.
# Without Doxygen there is no `docs` target and no test; configuration says so and goes on.
if(NOT PROJECT_IS_TOP_LEVEL)
  return()  # a parent project has its own docs; a target named `docs` would collide with it
endif()

find_package(Doxygen QUIET)
# docs/doxygen-filter.sed shows the headers' plain // comments to Doxygen; it needs GNU sed.
find_program(TINYML_DOCS_SED NAMES gsed sed)
if(NOT DOXYGEN_FOUND OR NOT TINYML_DOCS_SED)
  message(STATUS "tinyml: Doxygen or sed not found, so there is no `docs` target "
                 "(scripts/setup.sh installs doxygen)")
  return()
endif()

set(TINYML_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/docs)
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
add_custom_target(docs
  COMMAND ${CMAKE_COMMAND} -E make_directory ${TINYML_DOCS_OUTPUT}
  COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/Doxyfile
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "API reference (Doxygen ${DOXYGEN_VERSION}): ${TINYML_DOCS_OUTPUT}/html/index.html"
  VERBATIM)

if(TINYML_BUILD_TESTS)
  add_test(NAME docs.doxygen COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target docs)
  set_tests_properties(docs.doxygen PROPERTIES LABELS "unit" TIMEOUT 300)
endif()
