# The `wp` command-line tool: the MemoryBuffer WAL on a local-filesystem ObjectStore under
# --data DIR and a SQLite MetaStore there, or etcd (the config file's "meta_store" section).
find_package(CLI11 CONFIG REQUIRED)

# Config parsing and process plumbing shared by wp and wp-logstore (config_*.cpp,
# daemon_support.cpp); tests/unit/cli_*_test.cpp link it too.
file(GLOB WAL_CLI_SUPPORT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/config_*.cpp)
add_library(wal_cli_support STATIC ${WAL_CLI_SUPPORT_SOURCES}
            ${CMAKE_CURRENT_LIST_DIR}/daemon_support.cpp)
target_include_directories(wal_cli_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(wal_cli_support PUBLIC wal_core wal_etcd nlohmann_json::nlohmann_json
                      fmt::fmt)
target_compile_options(wal_cli_support PRIVATE ${WAL_WARNINGS})
if(WAL_PLANTED_BUGS)
  target_compile_definitions(wal_cli_support PRIVATE WAL_PLANTED_BUGS)
endif()
target_compile_definitions(wal_cli_support PRIVATE WAL_VERSION="${PROJECT_VERSION}"
                           WAL_BUILD_TYPE="${CMAKE_BUILD_TYPE}")

file(GLOB WP_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/wp_*.cpp)
add_executable(wp ${WP_SOURCES})
target_link_libraries(wp PRIVATE wal_core wal_real wal_etcd wal_grpc wal_cli_support CLI11::CLI11
                      fmt::fmt nlohmann_json::nlohmann_json)
target_compile_options(wp PRIVATE ${WAL_WARNINGS})

# --version says whether WAL_PLANT_BUG is honoured, as this build was configured.
if(WAL_PLANTED_BUGS)
  set(WAL_VERSION_EXPECTED "planted bugs: honoured via WAL_PLANT_BUG")
else()
  set(WAL_VERSION_EXPECTED "planted bugs: compiled out")
endif()
foreach(binary wp wp-logstore)
  add_test(NAME cli.version_${binary} COMMAND $<TARGET_FILE:${binary}> --version)
  set_tests_properties(cli.version_${binary} PROPERTIES LABELS "unit;cli" TIMEOUT 30
                       PASS_REGULAR_EXPRESSION "^${binary} ${PROJECT_VERSION} .*${WAL_VERSION_EXPECTED}")
endforeach()

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

# wp-logstore: the LogStore daemon (QuorumBuffer): journals on disk, gRPC, etcd, an object
# store, /metrics and /health.
file(GLOB LOGSTORE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/logstore_*.cpp)
add_executable(wp-logstore ${LOGSTORE_SOURCES})
target_link_libraries(wp-logstore PRIVATE wal_core wal_real wal_etcd wal_grpc wal_http
                      wal_cli_support CLI11::CLI11 fmt::fmt nlohmann_json::nlohmann_json)
target_compile_options(wp-logstore PRIVATE ${WAL_WARNINGS})

# QuorumBuffer as real processes (scripts/cluster.sh: etcd, a bucket on the RGW of the fixture
# `rgw`, 4 wp-logstore daemons): a LogStore of the open segment SIGKILLed and restarted during
# appends loses no acknowledged entry; a member of a crashed writer's open segment wiped comes
# back in limbo and the next writer recovers; metrics, health, drain on SIGTERM, one-line
# errors. Runs alone: it times a kill into a paced append and waits on process start-ups.
add_test(NAME cli.quorum_cluster
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/quorum_cluster_test.sh
                 ${CMAKE_BINARY_DIR})
set_tests_properties(cli.quorum_cluster PROPERTIES LABELS "integration;cli" TIMEOUT 600
                     RUN_SERIAL TRUE ${WAL_RGW_TEST_PROPERTIES})

# deploy/ (docker-compose.yml with MinIO, etcd, 4 LogStores and Prometheus; the Dockerfile):
# Docker cannot run here, so the files are parsed, cross-checked, and each LogStore's command
# line goes through wp-logstore --check-config.
add_test(NAME cli.deploy_files
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/deploy_files_test.py
                 $<TARGET_FILE:wp-logstore>)
set_tests_properties(cli.deploy_files PROPERTIES LABELS "integration;cli" TIMEOUT 60)
