# wp-sim: the user's entry point to the deterministic simulator.
find_package(CLI11 CONFIG REQUIRED)
add_executable(wp-sim ${CMAKE_CURRENT_LIST_DIR}/wp_sim_main.cpp)
target_link_libraries(wp-sim PRIVATE wal_sim CLI11::CLI11 fmt::fmt Threads::Threads)
target_compile_options(wp-sim PRIVATE ${WAL_WARNINGS})

# scripts/repin-trace.py (re-pins a planted-bug trace after a timing change), end to end.
add_test(NAME cli.repin_trace
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/repin_trace_test.sh $<TARGET_FILE:wp-sim>
                 ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(cli.repin_trace PROPERTIES LABELS "sim;cli" TIMEOUT 600)
