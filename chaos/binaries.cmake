# wp-chaos (chaos/README.md): runs of real processes (scripts/cluster.sh's cluster, client
# processes of wp-chaos-client) under injected faults, judged by wp-lincheck.
#
# wp-chaos-client opens the cluster through the runtime and writers `wp` uses
# (wal/cli/wp_runtime.cpp, wp_append_target.cpp), which speak QuorumBuffer as well as
# MemoryBuffer; the client library (wal::client) is MemoryBuffer only.
file(GLOB CHAOS_CLIENT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
add_executable(wp-chaos-client ${CHAOS_CLIENT_SOURCES}
               ${CMAKE_SOURCE_DIR}/wal/cli/wp_runtime.cpp
               ${CMAKE_SOURCE_DIR}/wal/cli/wp_quorum_runtime.cpp
               ${CMAKE_SOURCE_DIR}/wal/cli/wp_append_target.cpp)
target_include_directories(wp-chaos-client PRIVATE ${CMAKE_SOURCE_DIR}/wal/cli)
target_link_libraries(wp-chaos-client PRIVATE wal_core wal_real wal_etcd wal_grpc wal_cli_support
                      CLI11::CLI11 fmt::fmt nlohmann_json::nlohmann_json)
target_compile_options(wp-chaos-client PRIVATE ${WAL_WARNINGS})

# wp-chaos itself is a Python program (process orchestration: start, signal, wait, merge
# files); the build folder gets a launcher that knows where the binaries are.
set(WAL_CHAOS_LAUNCH "exec python3 ${CMAKE_SOURCE_DIR}/chaos/wp_chaos.py")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/wp-chaos
     CONTENT "#!/bin/sh\n${WAL_CHAOS_LAUNCH} --build-dir ${CMAKE_BINARY_DIR} \"$@\"\n"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                      WORLD_EXECUTE)

# The runs as tests (chaos/tests/chaos_run_test.sh; skipped without etcd). Timing-sensitive
# (faults land on running processes), so each runs alone.
function(add_chaos_test name labels timeout)
  add_test(NAME chaos.${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/chaos/tests/chaos_run_test.sh ${CMAKE_BINARY_DIR}
                   ${ARGN})
  set_tests_properties(chaos.${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout}
                       RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
endfunction()
string(JOIN "," WAL_CHAOS_FAULTS logstore_kill logstore_pause logstore_wipe writer_kill
            writer_takeover etcd_leader_kill etcd_member_pause)
# A short run: every fault kind at least twice in 80 s of appends.
add_chaos_test(short "chaos;integration" 400 pass 1 80 ${WAL_CHAOS_FAULTS} 2)
# Planted bugs switched on in the real binaries make a run fail; the same schedule without
# them passes. quorum_stale_epoch_accepted lives in wp-logstore, quorum_recovery_without_fence
# in the writer (wp-chaos-client).
add_chaos_test(planted_stale_epoch_accepted "chaos;integration" 400
               catch 3 20 writer_takeover quorum_stale_epoch_accepted)
add_chaos_test(planted_recovery_without_fence "chaos;integration" 400
               catch 3 20 writer_takeover quorum_recovery_without_fence)
# A takeover while the old writer's adds reach one replica late (the proxy delays its old
# connections only): recovery that ends the segment at the minimum fence reply loses entries
# the two other replicas acknowledged (woodpecker#320).
add_chaos_test(planted_min_of_fence_replies "chaos;integration" 400
               catch 4 20 takeover_lagging_replica quorum_min_of_fence_replies --objects local)
# MemoryBuffer on the same etcd and object store: a writer that does not fence on open.
add_chaos_test(planted_skip_fence_on_open "chaos;integration" 400
               catch 3 20 writer_takeover skip_fence_on_open --mode memory)
# The network, S3 and disk faults (chaos/chaos_proxy.py, Ceph RGW, a tmpfs under logstore-4),
# QuorumBuffer: each kind at least twice.
string(JOIN "," WAL_CHAOS_NET_FAULTS net_delay net_stall net_reset takeover_lagging_replica s3_kill
            disk_full)
add_chaos_test(short_net "chaos;integration" 500 pass 1 90 ${WAL_CHAOS_NET_FAULTS} 2)
# MemoryBuffer with two writer processes that keep taking the log from each other, under the
# S3 faults and writer crashes.
string(JOIN "," WAL_CHAOS_MEMORY_FAULTS net_delay net_stall net_reset s3_kill writer_kill)
add_chaos_test(short_memory_writers "chaos;integration" 500 pass 1 60 ${WAL_CHAOS_MEMORY_FAULTS} 1
               --mode memory --writers 2)
# The soak: ten minutes of every fault kind (13 kinds: 10-11 of each in 600 s).
string(JOIN "," WAL_CHAOS_ALL_FAULTS ${WAL_CHAOS_FAULTS} ${WAL_CHAOS_NET_FAULTS})
add_chaos_test(soak "chaos;slow" 1800 pass 2 600 ${WAL_CHAOS_ALL_FAULTS} 8)
# The TCP fault proxy against an echo server: forwarding, delay, stall, reset, a moved upstream.
add_test(NAME chaos.proxy
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/chaos/tests/chaos_proxy_test.py)
set_tests_properties(chaos.proxy PROPERTIES LABELS "chaos;unit" TIMEOUT 120)
# The merge of client events into a history, on hand-written events (no processes).
add_test(NAME chaos.history_merge
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/chaos/tests/chaos_history_test.py)
set_tests_properties(chaos.history_merge PROPERTIES LABELS "chaos;unit" TIMEOUT 60)
