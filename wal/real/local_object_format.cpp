// LocalObjectStore's object file header, its content hash and errno mapping (local_object_fs.h).
#include <bit>
#include <cerrno>
#include <string>
#include <system_error>

#include <xxhash.h>

#include "local_object_fs.h"

namespace wal::local_object {

namespace {

constexpr std::string_view header_magic = "walobj1\n";
static_assert(header_magic.size() == 8);
static_assert(header_bytes == 4 * sizeof(uint64_t));

}  // namespace

// XXH64 (Debian's libxxhash), seed 0: fast enough to hash every block on put and on a
// whole-object get.
uint64_t content_hash(ByteView bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

std::string etag_of(uint64_t hash) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string etag(16, '0');
  for (size_t i = 0; i < 16; ++i) etag[15 - i] = digits[(hash >> (4 * i)) & 0xF];
  WAL_ASSERT_EQ(etag.size(), 16u);
  return etag;
}

Bytes encode_header(const Header& header) {
  Bytes out;
  out.reserve(header_bytes);
  put_bytes(out, as_bytes(header_magic));
  put_u64(out, header.body_size_bytes);
  put_u64(out, header.content_hash);
  put_u64(out, content_hash(out));
  WAL_ASSERT_EQ(out.size(), header_bytes);
  WAL_ASSERT(decode_header(out, header_bytes + header.body_size_bytes).ok());
  return out;
}

Result<Header> decode_header(ByteView bytes, uint64_t file_size_bytes) {
  if (bytes.size() < header_bytes) return make_error(Errc::corrupt, "object header cut short");
  ByteReader reader(bytes.first(header_bytes));
  const ByteView magic = reader.bytes(header_magic.size());
  Header header;
  header.body_size_bytes = reader.u64();
  header.content_hash = reader.u64();
  const uint64_t header_hash = reader.u64();
  WAL_ASSERT(reader.ok());  // the length was checked above
  if (as_string_view(magic) != header_magic) {
    return make_error(Errc::corrupt, "not an object file (bad magic)");
  }
  if (header_hash != content_hash(bytes.first(header_bytes - sizeof(uint64_t)))) {
    return make_error(Errc::corrupt, "object header checksum mismatch");
  }
  if (file_size_bytes < header_bytes || file_size_bytes - header_bytes != header.body_size_bytes) {
    return make_error(Errc::corrupt, "object file size disagrees with its header");
  }
  return header;
}

Error errno_error(int error_number, std::string_view what, Outcome outcome) {
  WAL_ASSERT(error_number != 0);
  std::string message(what);
  message += ": ";
  message += std::generic_category().message(error_number);
  Errc code = Errc::io_error;
  if (error_number == ENOSPC || error_number == EDQUOT) code = Errc::no_space;
  if (error_number == EACCES || error_number == EPERM) code = Errc::permission_denied;
  return Error{code, outcome, std::move(message)};
}

}  // namespace wal::local_object
