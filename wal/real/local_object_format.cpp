// LocalObjectStore's object file header, its content hash and errno mapping (local_object_fs.h).
#include <bit>
#include <cerrno>
#include <string>
#include <system_error>

#include "local_object_fs.h"

namespace wal::local_object {

namespace {

// XXH64 (github.com/Cyan4973/xxHash, "xxhash_spec.md"), seed 0: fast enough to hash every block
// on put and on a whole-object get. wal/mem/mem_object_store.cpp holds the same function (the
// two libraries share no source file for it yet).
constexpr uint64_t xxh_prime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t xxh_prime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t xxh_prime3 = 0x165667B19E3779F9ull;
constexpr uint64_t xxh_prime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t xxh_prime5 = 0x27D4EB2F165667C5ull;

uint64_t xxh_round(uint64_t accumulator, uint64_t input) {
  accumulator += input * xxh_prime2;
  return std::rotl(accumulator, 31) * xxh_prime1;
}

uint64_t xxh_merge(uint64_t accumulator, uint64_t lane) {
  accumulator ^= xxh_round(0, lane);
  return accumulator * xxh_prime1 + xxh_prime4;
}

constexpr std::string_view header_magic = "walobj1\n";
static_assert(header_magic.size() == 8);
static_assert(header_bytes == 4 * sizeof(uint64_t));

}  // namespace

uint64_t content_hash(ByteView bytes) {
  const std::byte* p = bytes.data();
  const std::byte* const end = p + bytes.size();
  uint64_t hash = 0;
  if (bytes.size() >= 32) {
    uint64_t lanes[4] = {xxh_prime1 + xxh_prime2, xxh_prime2, 0, 0 - xxh_prime1};
    for (; end - p >= 32; p += 32) {
      for (int lane = 0; lane < 4; ++lane) {
        lanes[lane] = xxh_round(lanes[lane], get_u64(p + 8 * lane));
      }
    }
    hash = std::rotl(lanes[0], 1) + std::rotl(lanes[1], 7) + std::rotl(lanes[2], 12) +
           std::rotl(lanes[3], 18);
    for (const uint64_t lane : lanes) hash = xxh_merge(hash, lane);
  } else {
    hash = xxh_prime5;
  }
  hash += bytes.size();
  for (; end - p >= 8; p += 8) {
    hash ^= xxh_round(0, get_u64(p));
    hash = std::rotl(hash, 27) * xxh_prime1 + xxh_prime4;
  }
  if (end - p >= 4) {
    hash ^= uint64_t{get_u32(p)} * xxh_prime1;
    hash = std::rotl(hash, 23) * xxh_prime2 + xxh_prime3;
    p += 4;
  }
  for (; p < end; ++p) {
    hash ^= static_cast<uint64_t>(*p) * xxh_prime5;
    hash = std::rotl(hash, 11) * xxh_prime1;
  }
  WAL_ASSERT(p == end);
  hash ^= hash >> 33;
  hash *= xxh_prime2;
  hash ^= hash >> 29;
  hash *= xxh_prime3;
  hash ^= hash >> 32;
  return hash;
}

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
