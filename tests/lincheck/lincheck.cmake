# wal_lincheck: the second, independent checker of recorded histories (docs/history.md), and
# wp-lincheck, its command line. It depends on no other target of this project.
find_package(CLI11 CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)  # JSON lines at a few hundred MB/s (json_line.h)
file(GLOB WAL_LINCHECK_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
list(FILTER WAL_LINCHECK_SOURCES EXCLUDE REGEX "_main\\.cpp$")
add_library(wal_lincheck STATIC ${WAL_LINCHECK_SOURCES})
target_include_directories(wal_lincheck PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(wal_lincheck PUBLIC fmt::fmt PRIVATE simdjson::simdjson)
target_compile_options(wal_lincheck PRIVATE ${WAL_WARNINGS})

add_executable(wp-lincheck ${CMAKE_CURRENT_LIST_DIR}/wp_lincheck_main.cpp)
target_link_libraries(wp-lincheck PRIVATE wal_lincheck CLI11::CLI11 fmt::fmt)
target_compile_options(wp-lincheck PRIVATE ${WAL_WARNINGS})
