// runtime/sites.cpp — the name tables behind runtime/platform.h (Site, Ev).
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
//
// Generated from runtime/sites.def and runtime/events.def with X-macros, so
// a new site or event needs only its .def line. Out-of-range values (a
// corrupted trace, a cast from an input byte) map to a fixed "?" entry
// instead of reading past the table.
#include "runtime/platform.h"

namespace gort {

namespace {

constexpr SiteInfo kSites[] = {
#define GORT_SITE(name, func, kind) {#name, func, kind},
#include "runtime/sites.def"
#undef GORT_SITE
};
static_assert(sizeof kSites / sizeof kSites[0] == static_cast<size_t>(Site::kCount));
constexpr SiteInfo kUnknownSite = {"?", "?", SiteKind::kSync};

struct EventInfo {
  const char* name;
  const char* format;
};
constexpr EventInfo kEvents[] = {
#define GORT_EVENT(name, fmt) {#name, fmt},
#include "runtime/events.def"
#undef GORT_EVENT
};
static_assert(sizeof kEvents / sizeof kEvents[0] == static_cast<size_t>(Ev::kCount));

}  // namespace

const SiteInfo& siteInfo(Site s) {
  const auto i = static_cast<size_t>(s);
  return i < static_cast<size_t>(Site::kCount) ? kSites[i] : kUnknownSite;
}

const char* eventFormat(Ev e) {
  const auto i = static_cast<size_t>(e);
  return i < static_cast<size_t>(Ev::kCount) ? kEvents[i].format : "?";
}

const char* eventName(Ev e) {
  const auto i = static_cast<size_t>(e);
  return i < static_cast<size_t>(Ev::kCount) ? kEvents[i].name : "?";
}

}  // namespace gort
