// tests/env_config_test.cpp — configFromEnv: SCHEDFUZZ_BUGS, SCHEDFUZZ_STRICT, SCHEDFUZZ_NO_INVARIANTS.
//
// Every fuzz target and tool reads its run configuration here, so a value
// that reads as the opposite of what it says ("SCHEDFUZZ_NO_INVARIANTS=false"
// turning the checks off) silently changes what a whole campaign can find.
// Booleans take 1/0, true/false, yes/no, on/off in any case; empty is unset;
// anything else is an error that names the variable.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "fuzz/harness.h"

namespace schedfuzz {
namespace {

// Sets (or, with nullptr, unsets) the variables for one test and restores them after.
class EnvConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* old = std::getenv(v);
      saved_.push_back(old ? std::optional<std::string>(old) : std::nullopt);
      unsetenv(v);
    }
  }
  void TearDown() override {
    for (size_t i = 0; i < std::size(kVars); i++) {
      if (saved_[i]) setenv(kVars[i], saved_[i]->c_str(), 1);
      else unsetenv(kVars[i]);
    }
  }
  static constexpr const char* kVars[] = {"SCHEDFUZZ_BUGS", "SCHEDFUZZ_STRICT", "SCHEDFUZZ_NO_INVARIANTS"};
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(EnvConfigTest, UnsetMeansTheDefaults) {
  RunConfig cfg;
  std::string err;
  ASSERT_TRUE(configFromEnv(cfg, err)) << err;
  EXPECT_EQ(cfg.bugs, 0u);
  EXPECT_FALSE(cfg.detectors.strict);
  EXPECT_TRUE(cfg.detectors.invariants);
}

TEST_F(EnvConfigTest, BooleansMeanWhatTheySay) {
  struct Case {
    const char* value;
    bool on;
  } cases[] = {{"1", true},    {"true", true},   {"TRUE", true}, {"yes", true},  {"Yes", true},  {"on", true},
               {"ON", true},   {"0", false},     {"false", false}, {"False", false}, {"no", false}, {"NO", false},
               {"off", false}, {"Off", false}};
  for (const Case& c : cases) {
    setenv("SCHEDFUZZ_STRICT", c.value, 1);
    setenv("SCHEDFUZZ_NO_INVARIANTS", c.value, 1);
    RunConfig cfg;
    std::string err;
    ASSERT_TRUE(configFromEnv(cfg, err)) << c.value << ": " << err;
    EXPECT_EQ(cfg.detectors.strict, c.on) << "SCHEDFUZZ_STRICT=" << c.value;
    EXPECT_EQ(cfg.detectors.invariants, !c.on) << "SCHEDFUZZ_NO_INVARIANTS=" << c.value;
  }
}

TEST_F(EnvConfigTest, EmptyIsUnset) {
  setenv("SCHEDFUZZ_STRICT", "", 1);
  setenv("SCHEDFUZZ_NO_INVARIANTS", "", 1);
  RunConfig cfg;
  std::string err;
  ASSERT_TRUE(configFromEnv(cfg, err)) << err;
  EXPECT_FALSE(cfg.detectors.strict);
  EXPECT_TRUE(cfg.detectors.invariants);
}

TEST_F(EnvConfigTest, AnythingElseIsAnErrorNamingTheVariable) {
  for (const char* var : {"SCHEDFUZZ_STRICT", "SCHEDFUZZ_NO_INVARIANTS"}) {
    for (const char* bad : {"2", "-1", "y", "enable", " 1", "true ", "\x1b[31m"}) {
      SetUp();
      setenv(var, bad, 1);
      RunConfig cfg;
      std::string err;
      EXPECT_FALSE(configFromEnv(cfg, err)) << var << "=" << bad;
      EXPECT_EQ(err.rfind(std::string(var) + "='", 0), 0u) << err;
      EXPECT_NE(err.find("': expected 1, 0, true, false, yes, no, on or off (or empty for unset)"), std::string::npos)
          << err;
      EXPECT_EQ(err.find('\x1b'), std::string::npos) << "the value is quoted escaped";
    }
  }
  setenv("SCHEDFUZZ_STRICT", "\x1b[31m", 1);
  RunConfig cfg;
  std::string err;
  EXPECT_FALSE(configFromEnv(cfg, err));
  EXPECT_EQ(err, "SCHEDFUZZ_STRICT='\\x1b[31m': expected 1, 0, true, false, yes, no, on or off (or empty for unset)");
}

}  // namespace
}  // namespace schedfuzz
