// tests/program_text.h — a Program from its text form, in tests.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "fuzz/program.h"

namespace schedfuzz {

// Parses `text` (the reproducer format, docs/schedule-format.md); a parse
// error fails the calling test and yields whatever parseText left.
inline Program parseProgramOrFail(const std::string& text) {
  Program p;
  std::string err;
  EXPECT_TRUE(parseText(text, "test", p, err)) << err;
  return p;
}

}  // namespace schedfuzz
