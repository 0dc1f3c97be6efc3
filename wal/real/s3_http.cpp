#include "wal/real/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace wal::s3 {

struct HttpTransport::Transfer {
  Transfer(HttpRequest r, Completion<HttpResult> d) : request(std::move(r)), done(std::move(d)) {}
  HttpRequest request;
  Completion<HttpResult> done;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpResult result;
  uint64_t body_offset = 0;  // bytes of the body handed to curl
  bool response_too_large = false;
  char error_text[CURL_ERROR_SIZE] = {};
};

namespace {

// curl_global_init is process-wide and must run before any other curl call; the first
// transport does it once. (A process-wide library state is the one static here.)
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { WAL_ASSERT(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<HttpTransport::Transfer*>(user);
  const size_t length = size * count;
  Bytes& body = transfer.result.body;
  if (body.size() + length > transfer.request.response_body_bytes_max) {
    transfer.response_too_large = true;
    return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
  }
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  body.insert(body.end(), bytes, bytes + length);
  return length;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<HttpTransport::Transfer*>(user);
  const size_t length = size * count;
  const std::string_view line(data, length);
  if (line.starts_with("HTTP/")) {
    transfer.result.headers.clear();  // a new response (after an interim 1xx)
    return length;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return length;  // the blank line ending the headers
  std::string name = lower(trim(line.substr(0, colon)));
  const std::string_view value = trim(line.substr(colon + 1));
  if (name == "content-length") {
    uint64_t expected = 0;
    for (char c : value) {
      if (c < '0' || c > '9') break;
      expected = expected * 10 + static_cast<uint64_t>(c - '0');
      if (expected > transfer.request.response_body_bytes_max) break;
    }
    transfer.result.body.reserve(std::min(expected, transfer.request.response_body_bytes_max));
  }
  transfer.result.headers.emplace_back(std::move(name), std::string(value));
  return length;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<HttpTransport::Transfer*>(user);
  const Bytes& body = *transfer.request.body;
  const size_t length = std::min<uint64_t>(size * count, body.size() - transfer.body_offset);
  std::memcpy(buffer, body.data() + transfer.body_offset, length);
  transfer.body_offset += length;
  return length;
}

// curl asks to rewind the body only to send the request again (its retry on a reused
// connection that turned out dead). Once body bytes went out, that copy may have reached the
// server: refuse, so curl fails the transfer and the caller learns the outcome is unknown.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<HttpTransport::Transfer*>(user);
  if (origin != SEEK_SET || offset != 0 || transfer.body_offset != 0) return CURL_SEEKFUNC_FAIL;
  return CURL_SEEKFUNC_OK;
}

// Counts how often the request headers were sent: more than once means curl re-sent it.
int on_debug(CURL*, curl_infotype type, char*, size_t, void* user) {
  auto& transfer = *static_cast<HttpTransport::Transfer*>(user);
  if (type == CURLINFO_HEADER_OUT) ++transfer.result.send_count;
  return 0;
}

// curl's own enum is not ours to list in full (-Wswitch-enum), so a table instead of a switch.
bool is_tls_failure(CURLcode code) {
  constexpr CURLcode tls_codes[] = {
      CURLE_SSL_CONNECT_ERROR,    CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
      CURLE_SSL_CERTPROBLEM,      CURLE_SSL_CIPHER,               CURLE_SSL_ISSUER_ERROR,
      CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND,
      CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,    CURLE_SSL_CRL_BADFILE,
      CURLE_SSL_SHUTDOWN_FAILED,
  };
  return std::find(std::begin(tls_codes), std::end(tls_codes), code) != std::end(tls_codes);
}

}  // namespace

std::string_view http_failure_name(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::none: return "none";
    case HttpFailure::not_sent: return "not sent";
    case HttpFailure::body_incomplete: return "body not sent whole";
    case HttpFailure::timeout: return "timed out";
    case HttpFailure::broken: return "connection broken";
    case HttpFailure::response_too_large: return "response too large";
    case HttpFailure::closed: return "transport closed";
  }
  return "unknown";
}

std::string HttpResult::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

HttpTransport::HttpTransport(EventLoop& loop, HttpTransportOptions options)
    : loop_(loop), options_(std::move(options)) {
  WAL_ASSERT(options_.transfers_max > 0);
  init_curl_once();
  CURLM* multi = curl_multi_init();
  WAL_ASSERT(multi != nullptr);  // fails only when out of memory
  // Keep an idle connection per possible transfer, so a burst never closes warm connections.
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.transfers_max));
  multi_ = multi;
  curl_slist* resolve = nullptr;
  for (const std::string& entry : options_.resolve) {
    resolve = curl_slist_append(resolve, entry.c_str());
    WAL_ASSERT(resolve != nullptr);  // fails only when out of memory
  }
  resolve_list_ = resolve;
  thread_ = std::thread([this] { io_thread_main(); });
}

HttpTransport::~HttpTransport() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  curl_slist_free_all(static_cast<curl_slist*>(resolve_list_));
}

Task<HttpResult> HttpTransport::send(HttpRequest request) {
  WAL_ASSERT(!request.url.empty());
  WAL_ASSERT(!request.method.empty());
  Completion<HttpResult> done(loop_);
  {
    std::lock_guard lock(mutex_);
    incoming_.push_back(Pending{std::move(request), done});
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  co_return co_await done.wait();
}

void HttpTransport::deliver(Completion<HttpResult> done, HttpResult result) {
  loop_.post([done, result = std::move(result)]() mutable { done.set(std::move(result)); });
}

void HttpTransport::io_thread_main() {
  auto* multi = static_cast<CURLM*>(multi_);
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      while (!incoming_.empty()) {
        waiting_.push_back(std::move(incoming_.front()));
        incoming_.pop_front();
      }
    }
    while (!waiting_.empty() && running_.size() < options_.transfers_max) {
      Pending next = std::move(waiting_.front());
      waiting_.pop_front();
      start_transfer(std::move(next));
    }
    int still_running = 0;
    curl_multi_perform(multi, &still_running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      Transfer* transfer = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
      WAL_ASSERT(transfer != nullptr);
      finish_transfer(transfer, message->data.result);
    }
    // Sleeps until a socket is ready, a timeout of curl's is due, or send()/~ wakes it.
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  // Shutting down: nothing still queued or running will complete.
  HttpResult closed;
  closed.failure = HttpFailure::closed;
  closed.failure_message = "the HTTP transport shut down";
  for (std::unique_ptr<Transfer>& transfer : running_) {
    curl_multi_remove_handle(multi, transfer->easy);
    curl_easy_cleanup(transfer->easy);
    curl_slist_free_all(transfer->header_list);
    HttpResult result = closed;
    result.send_count = transfer->result.send_count;
    deliver(transfer->done, std::move(result));
  }
  running_.clear();
  std::lock_guard lock(mutex_);
  for (std::deque<Pending>* queue : {&waiting_, &incoming_}) {
    for (Pending& pending : *queue) deliver(pending.done, closed);
    queue->clear();
  }
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
  idle_handles_.clear();
}

void HttpTransport::start_transfer(Pending pending) {
  auto transfer = std::make_unique<Transfer>(std::move(pending.request), std::move(pending.done));
  if (transfer->request.prepare) transfer->request.prepare(transfer->request);
  HttpRequest& request = transfer->request;
  CURL* easy = nullptr;
  if (idle_handles_.empty()) {
    easy = curl_easy_init();
    WAL_ASSERT(easy != nullptr);  // fails only when out of memory
  } else {
    easy = static_cast<CURL*>(idle_handles_.back());
    idle_handles_.pop_back();
    curl_easy_reset(easy);
  }
  transfer->easy = easy;
  request.headers.push_back("Expect:");  // no 100-continue round trip
  for (const std::string& line : request.headers) {
    transfer->header_list = curl_slist_append(transfer->header_list, line.c_str());
    WAL_ASSERT(transfer->header_list != nullptr);
  }
  Transfer* raw = transfer.get();
  curl_easy_setopt(easy, CURLOPT_PRIVATE, raw);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->header_list);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);  // keys are sent exactly as encoded
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, raw->error_text);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, raw);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, raw);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);  // feeds on_debug; nothing is printed
  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, raw);
  if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (resolve_list_ != nullptr) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve_list_);
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    const auto size = static_cast<curl_off_t>(request.body ? request.body->size() : 0);
    if (request.method == "PUT") {
      curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, size);
    } else {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, size);
    }
    if (!request.body) request.body = std::make_shared<const Bytes>();
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, raw);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, raw);
    // Bigger writes per socket call for multi-MiB blocks (curl's default is 64 KiB).
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  } else if (request.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  WAL_ASSERT(curl_multi_add_handle(static_cast<CURLM*>(multi_), easy) == CURLM_OK);
  running_.push_back(std::move(transfer));
}

void HttpTransport::finish_transfer(Transfer* transfer, int curl_code) {
  const auto code = static_cast<CURLcode>(curl_code);
  HttpResult& result = transfer->result;
  if (code == CURLE_OK) {
    curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    const uint64_t body_size = transfer->request.body ? transfer->request.body->size() : 0;
    result.failure_message = transfer->error_text[0] != '\0' ? transfer->error_text
                                                             : curl_easy_strerror(code);
    result.tls_problem = is_tls_failure(code);
    if (result.send_count == 0) {
      result.failure = HttpFailure::not_sent;
    } else if (transfer->response_too_large) {
      result.failure = HttpFailure::response_too_large;
    } else if (result.send_count == 1 && transfer->body_offset < body_size) {
      result.failure = HttpFailure::body_incomplete;
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      result.failure = HttpFailure::timeout;
    } else {
      result.failure = HttpFailure::broken;
    }
    result.headers.clear();
    result.body.clear();
  }
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), transfer->easy);
  curl_slist_free_all(transfer->header_list);
  transfer->header_list = nullptr;
  idle_handles_.push_back(transfer->easy);
  deliver(transfer->done, std::move(result));
  const auto it = std::find_if(running_.begin(), running_.end(),
                               [transfer](const auto& t) { return t.get() == transfer; });
  WAL_ASSERT(it != running_.end());
  running_.erase(it);
}

}  // namespace wal::s3
