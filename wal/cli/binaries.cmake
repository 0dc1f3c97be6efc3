# The `wp` command-line tool: the MemoryBuffer WAL on a local-filesystem ObjectStore under
# --data DIR and a SQLite MetaStore there, or etcd (the config file's "meta_store" section).
find_package(CLI11 CONFIG REQUIRED)
file(GLOB WP_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/wp_*.cpp)
add_executable(wp ${WP_SOURCES})
target_link_libraries(wp PRIVATE wal_core wal_real wal_etcd CLI11::CLI11 fmt::fmt
                      nlohmann_json::nlohmann_json)
target_compile_options(wp PRIVATE ${WAL_WARNINGS})

add_test(NAME cli.wp_roundtrip
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/wp_roundtrip_test.sh $<TARGET_FILE:wp>)
set_tests_properties(cli.wp_roundtrip PROPERTIES LABELS "integration;cli" TIMEOUT 600)

# `wp` with etcd as the metadata store, several processes at once, against an etcd of its own
# (scripts/etcd.sh): every command, tail -f across processes, fencing, auth and TLS errors.
add_test(NAME cli.wp_etcd
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/wp_etcd_test.sh $<TARGET_FILE:wp>)
set_tests_properties(cli.wp_etcd PROPERTIES LABELS "integration;cli" TIMEOUT 600)

# `wp` on a real S3 server (Ceph RGW, the CTest fixture `rgw` of the top-level CMakeLists.txt).
add_test(NAME cli.wp_s3
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/s3_wp_test.sh $<TARGET_FILE:wp>)
set_tests_properties(cli.wp_s3 PROPERTIES LABELS "integration;cli" TIMEOUT 600
                     ${WAL_RGW_TEST_PROPERTIES})
