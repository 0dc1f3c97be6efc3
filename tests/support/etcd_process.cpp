#include "tests/support/etcd_process.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace wal::testing {

namespace {

std::string make_temp_dir(const char* stem) {
  std::string pattern = (std::filesystem::temp_directory_path() / stem).string() + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "etcd test support: mkdtemp failed\n");
    std::abort();
  }
  return pattern;
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The fallback etcd of a test process run outside CTest.
struct OwnEtcd {
  std::unique_ptr<EtcdProcess> process;
};

}  // namespace

std::string run_etcd_script(const std::string& arguments) {
  const std::string command =
      std::string(WAL_SOURCE_DIR) + "/scripts/etcd.sh " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    std::fprintf(stderr, "etcd test support: cannot run %s\n", command.c_str());
    std::abort();
  }
  std::string output;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
    output += buffer.data();
  }
  const int status = pclose(pipe);
  if (status != 0) {
    std::fprintf(stderr, "etcd test support: '%s' failed:\n%s\n", command.c_str(),
                 output.c_str());
    std::abort();
  }
  return output;
}

void make_test_certificates(const std::string& dir) { (void)run_etcd_script("certs " + dir); }

std::vector<std::string> split_endpoints(const std::string& comma_separated) {
  std::vector<std::string> endpoints;
  std::stringstream in(trim(comma_separated));
  std::string endpoint;
  while (std::getline(in, endpoint, ',')) {
    if (!endpoint.empty()) endpoints.push_back(endpoint);
  }
  return endpoints;
}

EtcdProcess::EtcdProcess(EtcdProcessOptions options) : dir_(make_temp_dir("wal-etcd")) {
  std::string arguments = "start " + dir_ + "/cluster --members " +
                          std::to_string(options.members) + " --owner-pid " +
                          std::to_string(getpid());
  if (!options.tls_dir.empty()) arguments += " --tls " + options.tls_dir;
  if (options.client_cert_auth) arguments += " --client-cert-auth";
  const std::string output = run_etcd_script(arguments);
  // The last line is the endpoints.
  const std::string lines = trim(output);
  endpoints_ = split_endpoints(lines.substr(lines.rfind('\n') == std::string::npos
                                                ? 0
                                                : lines.rfind('\n') + 1));
}

EtcdProcess::~EtcdProcess() {
  (void)run_etcd_script("stop " + dir_ + "/cluster");
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void EtcdProcess::kill(int member) {
  (void)run_etcd_script("kill " + dir_ + "/cluster " + std::to_string(member));
}

void EtcdProcess::restart(int member) {
  (void)run_etcd_script("restart " + dir_ + "/cluster " + std::to_string(member));
}

int EtcdProcess::leader() {
  return std::stoi(trim(run_etcd_script("leader " + dir_ + "/cluster")));
}

void EtcdProcess::enable_auth(const std::string& user, const std::string& password) {
  (void)run_etcd_script("enable-auth " + dir_ + "/cluster " + user + " " + password);
}

std::vector<std::string> shared_etcd_endpoints() {
  if (const char* file = std::getenv("WAL_ETCD_ENDPOINTS_FILE"); file != nullptr) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line) || split_endpoints(line).empty()) {
      std::fprintf(stderr, "etcd test support: no endpoints in %s (did the etcd fixture run?)\n",
                   file);
      std::abort();
    }
    return split_endpoints(line);
  }
  static OwnEtcd own;  // stopped by its destructor at exit
  if (!own.process) own.process = std::make_unique<EtcdProcess>();
  return own.process->endpoints();
}

std::string unique_key_prefix(const std::string& name) {
  static std::atomic<uint64_t> counter{0};
  // The pid and the start time: ctest runs each test in its own process, and pids come back.
  static const int64_t started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  return "/test-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(started_ms) +
         "-" + std::to_string(++counter) + "/";
}

}  // namespace wal::testing
