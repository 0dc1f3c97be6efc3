#pragma once
// Byte buffers and little-endian fixed-width encoding helpers used by every wire and disk format.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wal {

using Bytes = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;

[[nodiscard]] inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}
[[nodiscard]] inline Bytes to_bytes(std::string_view text) {
  const ByteView view = as_bytes(text);
  return Bytes(view.begin(), view.end());
}
[[nodiscard]] inline std::string to_string(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
[[nodiscard]] inline std::string_view as_string_view(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

inline void put_u8(Bytes& out, uint8_t v) { out.push_back(static_cast<std::byte>(v)); }
inline void put_u16(Bytes& out, uint16_t v) {
  for (int i = 0; i < 2; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_u32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_u64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_bytes(Bytes& out, ByteView bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

[[nodiscard]] inline uint16_t get_u16(const std::byte* p) {
  return static_cast<uint16_t>(static_cast<uint16_t>(p[0]) | (static_cast<uint16_t>(p[1]) << 8));
}
[[nodiscard]] inline uint32_t get_u32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint32_t>(p[i]);
  return v;
}
[[nodiscard]] inline uint64_t get_u64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint64_t>(p[i]);
  return v;
}

// Reads fixed-width fields front to back; `ok()` turns false (and stays false) on a short read,
// so a decoder checks once at the end instead of after every field.
class ByteReader {
 public:
  explicit ByteReader(ByteView bytes) : bytes_(bytes) {}
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] size_t offset() const { return offset_; }
  [[nodiscard]] size_t remaining() const { return bytes_.size() - offset_; }
  uint8_t u8() { return take(1) ? static_cast<uint8_t>(bytes_[offset_ - 1]) : 0; }
  uint16_t u16() { return take(2) ? get_u16(&bytes_[offset_ - 2]) : 0; }
  uint32_t u32() { return take(4) ? get_u32(&bytes_[offset_ - 4]) : 0; }
  uint64_t u64() { return take(8) ? get_u64(&bytes_[offset_ - 8]) : 0; }
  ByteView bytes(size_t count) {
    if (!take(count)) return {};
    return bytes_.subspan(offset_ - count, count);
  }

 private:
  bool take(size_t count) {
    if (!ok_ || remaining() < count) {
      ok_ = false;
      return false;
    }
    offset_ += count;
    return true;
  }
  ByteView bytes_;
  size_t offset_ = 0;
  bool ok_ = true;
};

}  // namespace wal
