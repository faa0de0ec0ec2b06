#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for authenticating what
// the in-container sensor sends back (core/record_frame.h). Small and
// dependency-free: the sensor is linked statically into scratch images.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace sctrace {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  Digest finish();  // the object is spent afterwards

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buffered_ = 0;
  uint64_t total_ = 0;  // bytes
};

Digest sha256(std::string_view data);

// HMAC-SHA256 over the concatenation of `parts`.
Digest hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts);

// Compares without an early exit, so the time taken says nothing about where
// a forged MAC first differs.
bool digest_equal(const uint8_t* a, const uint8_t* b);

}  // namespace sctrace
