# wp-sim: the user's entry point to the deterministic simulator.
find_package(CLI11 CONFIG REQUIRED)
add_executable(wp-sim ${CMAKE_CURRENT_LIST_DIR}/wp_sim_main.cpp)
target_link_libraries(wp-sim PRIVATE wal_sim CLI11::CLI11 fmt::fmt Threads::Threads)
target_compile_options(wp-sim PRIVATE ${WAL_WARNINGS})
