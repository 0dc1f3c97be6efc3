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

# A test of `wp`: tests/cli/<script> run with the wp binary (and any further arguments).
function(add_wp_cli_test name script)
  add_test(NAME cli.${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/${script} $<TARGET_FILE:wp> ${ARGN})
  set_tests_properties(cli.${name} PROPERTIES LABELS "integration;cli" TIMEOUT 900)
endfunction()

# Misuse (docs/cli.md): each numbered case of a wrong result with exit 0, now refused.
add_wp_cli_test(wp_misuse wp_misuse_test.sh)
# Several processes on one data directory: tail -f, readers beside a writer, fencing, read-only.
add_wp_cli_test(wp_processes wp_processes_test.sh)
# A full disk under the data directory (a tmpfs in a private mount namespace; skipped where
# none can be made).
add_wp_cli_test(wp_full_disk wp_full_disk_test.sh)
set_tests_properties(cli.wp_full_disk PROPERTIES SKIP_RETURN_CODE 77)
# Generated flags, config files and input lines against an oracle of the log (seeded).
add_wp_cli_test(wp_fuzz wp_fuzz_test.py --seed 15 --runs 300)
