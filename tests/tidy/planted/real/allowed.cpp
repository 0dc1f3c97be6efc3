// Real adapters may use the OS: the lint must not report this file.
#include <thread>
void g() { std::thread worker([] {}); worker.join(); }
