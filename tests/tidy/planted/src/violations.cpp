// Planted violations: lint_self_test.sh requires the lint to report every line
// marked VIOLATION, and nothing in wal/real/ (where OS access is allowed).
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>
#include <unordered_map>
#include "sim/scheduler.h"  // VIOLATION 1
void f() {
  auto t = std::chrono::steady_clock::now();  // VIOLATION 2
  std::thread worker([] {});                  // VIOLATION 3
  std::random_device entropy;                 // VIOLATION 4
  int r = rand();                             // VIOLATION 5
  const char* home = getenv("HOME");          // VIOLATION 6
  std::unordered_map<Node*, int> by_node;     // VIOLATION 7
  std::this_thread::sleep_for(t - t);         // VIOLATION 8
  FILE* f = fopen("x", "r");                  // VIOLATION 9
  std::mt19937 engine(42);                    // VIOLATION 10
}
