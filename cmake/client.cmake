# The client library (wal::client, wal/include/wal/client/): the facade other programs embed,
# its install rules and CMake package (find_package(woodpecker_wal CONFIG) +
# woodpecker_wal::client), its tests, and the examples. Included from the top-level
# CMakeLists.txt after the libraries it builds on.

# ---- wal_client ----------------------------------------------------------------------------
# Implemented over the real adapters in wal/real/client/: it owns threads, which only wal/real/
# may (tests/tidy/check_determinism.sh). The version header is generated from project(VERSION).
set(WAL_CLIENT_GENERATED_INCLUDE ${CMAKE_CURRENT_BINARY_DIR}/generated/include)
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in
               ${WAL_CLIENT_GENERATED_INCLUDE}/wal/client/version.h @ONLY)
file(GLOB WAL_CLIENT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/wal/real/client/*.cpp)
add_library(wal_client STATIC ${WAL_CLIENT_SOURCES})
target_include_directories(wal_client PUBLIC $<BUILD_INTERFACE:${WAL_CLIENT_GENERATED_INCLUDE}>
                                             $<INSTALL_INTERFACE:include>)
target_link_libraries(wal_client PUBLIC wal_core PRIVATE wal_real wal_etcd Threads::Threads)
target_compile_options(wal_client PRIVATE ${WAL_WARNINGS})
add_library(woodpecker_wal::client ALIAS wal_client)

# ---- install and package -------------------------------------------------------------------
# Installed: the public headers only (docs/api.md, "Public headers"), the static libraries the
# client needs, and the package files. The libraries keep their dependencies (gRPC, libcurl,
# OpenSSL, SQLite, ...) as link dependencies that woodpecker_walConfig.cmake finds again.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(WAL_INSTALLED_TARGETS wal_client wal_core wal_real wal_etcd wal_etcd_proto)
foreach(target ${WAL_INSTALLED_TARGETS})
  string(REGEX REPLACE "^wal_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name}
                                             OUTPUT_NAME woodpecker_${target})
endforeach()
# The include directories of the exported libraries point into this tree while building and
# into the prefix once installed (they were set as plain paths where the targets are made).
set_target_properties(wal_core PROPERTIES INTERFACE_INCLUDE_DIRECTORIES
    "$<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/wal/include>;$<INSTALL_INTERFACE:include>")
set_target_properties(wal_etcd_proto PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "$<BUILD_INTERFACE:${WAL_ETCD_PROTO_OUT}>"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "$<BUILD_INTERFACE:${WAL_ETCD_PROTO_OUT}>")

install(TARGETS ${WAL_INSTALLED_TARGETS} EXPORT woodpecker_wal_targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT woodpecker_wal_targets NAMESPACE woodpecker_wal::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/woodpecker_wal)
set(WAL_PUBLIC_HEADER_DIR ${CMAKE_CURRENT_SOURCE_DIR}/wal/include/wal)
install(FILES ${WAL_PUBLIC_HEADER_DIR}/client/client.h ${WAL_PUBLIC_HEADER_DIR}/client/reader.h
              ${WAL_PUBLIC_HEADER_DIR}/client/types.h ${WAL_PUBLIC_HEADER_DIR}/client/writer.h
              ${WAL_CLIENT_GENERATED_INCLUDE}/wal/client/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wal/client)
install(FILES ${WAL_PUBLIC_HEADER_DIR}/core/assert.h ${WAL_PUBLIC_HEADER_DIR}/core/bytes.h
              ${WAL_PUBLIC_HEADER_DIR}/core/result.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wal/core)
install(FILES ${WAL_PUBLIC_HEADER_DIR}/format/append_key.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wal/format)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/woodpecker_walConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/woodpecker_walConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/woodpecker_wal)
# 0.x: a new minor version may change the API (CHANGELOG.md), so only the same minor matches.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/woodpecker_walConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/woodpecker_walConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/woodpecker_walConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/woodpecker_wal)

# ---- examples ------------------------------------------------------------------------------
# Built here against the in-tree targets, and by tests/client/package_test.sh out of tree
# against the installed package (the same CMakeLists.txt).
add_subdirectory(examples)

# ---- tests ---------------------------------------------------------------------------------
# tests/client/*_test.cpp: the facade's unit tests (label `client`), also run under
# ThreadSanitizer by scripts/tsan.sh.
file(GLOB WAL_CLIENT_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/client/*_test.cpp)
foreach(source ${WAL_CLIENT_TESTS})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE wal_client wal_test_helpers wal_test_support)
  target_compile_options(${name} PRIVATE ${WAL_WARNINGS})
  gtest_discover_tests(${name} PROPERTIES LABELS client DISCOVERY_TIMEOUT 60)
endforeach()

# The examples as a user runs them: a producer and a tailing consumer in two processes, and an
# idempotent producer killed with SIGKILL and restarted until it finishes.
add_test(NAME client.examples
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/client/examples_test.sh
                 $<TARGET_FILE_DIR:wal_example_producer>)
set_tests_properties(client.examples PROPERTIES LABELS "integration;client" TIMEOUT 600)

# cmake --install into a temporary prefix, then examples/ built out of tree against only that
# prefix, run on the embedded stores and on etcd (its own, scripts/etcd.sh) + S3 (the fixture
# `rgw`).
add_test(NAME client.package
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/client/package_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(client.package PROPERTIES LABELS "integration;client" TIMEOUT 900
                     ${WAL_RGW_TEST_PROPERTIES})

# The facade's tests under ThreadSanitizer, in a build of their own (scripts/tsan.sh). Labelled
# slow: the extra build of the libraries with -fsanitize=thread takes longer than CI allows
# (docs/api.md, "Testing" gives the times).
add_test(NAME client.tsan
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/tsan.sh ${CMAKE_BINARY_DIR}/tsan)
set_tests_properties(client.tsan PROPERTIES LABELS "tsan;slow;client" TIMEOUT 3600)
