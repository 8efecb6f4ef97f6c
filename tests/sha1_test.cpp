// tests/sha1_test.cpp — fuzz/target.cpp's sha1Hex against the FIPS 180-4 test vectors.
//
// libFuzzer names an artifact crash-<sha1 of the input>, and the report's
// replay line names the same file, so the hand-written SHA-1 (the fuzz
// targets stay standard-library only) must be SHA-1 exactly. The vectors are
// NIST's (FIPS 180-4 examples, "SHA1.pdf" in the CSRC example values) plus the
// padding edges a hand-written block loop gets wrong: 55, 56, 63, 64 and 65
// bytes (the length field fits / spills into a second block), and the
// million-'a' message.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "fuzz/target.h"

namespace schedfuzz {
namespace {

std::string sha1(const std::string& s) {
  char out[41];
  sha1Hex(reinterpret_cast<const uint8_t*>(s.data()), s.size(), out);
  return std::string(out, 40);
}

TEST(Sha1, Fips180_4Vectors) {
  EXPECT_EQ(sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  // The 448-bit message: 56 bytes, so the padding needs a second block.
  EXPECT_EQ(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  // The 896-bit message.
  EXPECT_EQ(sha1("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrs"
                 "tnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259");
  EXPECT_EQ(sha1(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, BlockBoundaries) {
  // Independently computed (Python hashlib.sha1) for runs of 'a'.
  EXPECT_EQ(sha1(std::string(55, 'a')), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(sha1(std::string(56, 'a')), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(sha1(std::string(63, 'a')), "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
  EXPECT_EQ(sha1(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
  EXPECT_EQ(sha1(std::string(65, 'a')), "11655326c708d70319be2610e8a57d9a5b959d3b");
}

TEST(Sha1, BinaryBytes) {
  // NUL and high bytes are data, not terminators or signed chars (hashlib.sha1).
  EXPECT_EQ(sha1(std::string("\x00\xff\x80\x01", 4)), "f83fa0e751b27c7e5c0c8e68757cca55606dc0e4");
}

}  // namespace
}  // namespace schedfuzz
