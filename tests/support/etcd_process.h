#pragma once
// Real etcd for tests, through scripts/etcd.sh (free loopback ports, stopped by PID).
//
//   shared_etcd_endpoints()  the single-node etcd of the CTest fixture `etcd` (its endpoints
//                            file is named by WAL_ETCD_ENDPOINTS_FILE, which CMake sets on the
//                            tests that require the fixture); run outside CTest, the process
//                            starts its own on first use and stops it at exit.
//   EtcdProcess              an etcd of a test's own (1 or 3 members) that it may kill and
//                            restart; stopped when destroyed.
//   unique_key_prefix(name)  a prefix no other test process uses on a shared etcd.
// Failures to start are fatal to the test (a missing etcd is a broken environment, not a skip).

#include <string>
#include <vector>

namespace wal::testing {

[[nodiscard]] std::vector<std::string> shared_etcd_endpoints();
[[nodiscard]] std::string unique_key_prefix(const std::string& name);
[[nodiscard]] std::vector<std::string> split_endpoints(const std::string& comma_separated);

struct EtcdProcessOptions {
  int members = 1;
  std::string tls_dir;          // certificates made by `scripts/etcd.sh certs`; empty: no TLS
  bool client_cert_auth = false;
};

class EtcdProcess {
 public:
  explicit EtcdProcess(EtcdProcessOptions options = {});
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  [[nodiscard]] const std::vector<std::string>& endpoints() const { return endpoints_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  void kill(int member);     // SIGKILL
  void restart(int member);  // on its data; waits until healthy
  [[nodiscard]] int leader();
  void enable_auth(const std::string& user, const std::string& password);

 private:
  std::string dir_;
  std::vector<std::string> endpoints_;
};

// Runs scripts/etcd.sh with `arguments` (already quoted); returns its stdout, aborts the test
// process on failure.
std::string run_etcd_script(const std::string& arguments);
// Makes test certificates in `dir` (scripts/etcd.sh certs).
void make_test_certificates(const std::string& dir);

}  // namespace wal::testing
