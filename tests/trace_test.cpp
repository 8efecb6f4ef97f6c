// tests/trace_test.cpp — the printed forms of a trace (fuzz/trace.h), on hand-built traces.
//
// Groups: text (one event's words), columns (layout, folding, tail, width,
// and a golden #38931 interleaving), flat, chrome (JSON validity and shape).
// Traces are built by hand so these tests need nothing from the executor but
// the TraceEvent struct.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/trace.h"

namespace schedfuzz {
namespace {

using gort::Ev;
using gort::Site;
using K = TraceEvent::Kind;

// ---------------------------------------------------------------------------
// Building traces the way the executor records them: each event carries the
// step and virtual time at which it happened and its thread's last site.
class TraceBuilder {
 public:
  explicit TraceBuilder(int nthreads) : site_(size_t(nthreads), Site::kCount) {}

  // Advance one scheduling point (the executor's step_ns is 100).
  TraceBuilder& tick() {
    step_++;
    vtime_ += 100;
    return *this;
  }
  // Time jumps forward with nothing runnable (to a timed waiter's deadline).
  TraceBuilder& idle(int64_t ns) {
    vtime_ += ns;
    return *this;
  }
  TraceBuilder& at(int t, Site s) {
    site_[size_t(t)] = s;
    return *this;
  }
  TraceBuilder& ev(int t, Ev e, int a = 0, int b = 0, int c = 0) { return push(K::kRuntime, t, e, a, b, c); }
  TraceBuilder& sw(int to, int from) { return push(K::kSwitch, to, Ev::kCount, from); }
  TraceBuilder& block(int t, Site s, bool timed) { return at(t, s).push(K::kBlock, t, Ev::kCount, timed); }
  TraceBuilder& wake(int t, int by) { return push(K::kWake, t, Ev::kCount, by); }
  TraceBuilder& start(int t, int mid) { return push(K::kStart, t, Ev::kCount, mid); }
  TraceBuilder& exit(int t) { return push(K::kExit, t, Ev::kCount); }
  TraceBuilder& preempt(int t, Site s) { return at(t, s).push(K::kPreempt, t, Ev::kCount); }

  std::vector<TraceEvent> trace;

 private:
  TraceBuilder& push(K k, int t, Ev e, int a = 0, int b = 0, int c = 0) {
    trace.push_back(TraceEvent{step_, vtime_, t, k, site_[size_t(t)], e, a, b, c});
    return *this;
  }
  uint64_t step_ = 0;
  int64_t vtime_ = 0;
  std::vector<Site> site_;
};

// The #38931 hang as gort records it with Bug::issue38931 on: three Ms, one
// P each. M0 runs G1, M1 runs G2, M2 runs G3.
//   T1 = M0: LockOSThread -> startTemplateThread sets haveTemplateThread and
//            is preempted in newm's prologue (stop-the-world pending), so it
//            gcstopm's and parks before it ever creates the template thread.
//   T2 = M1: LockOSThread sees haveTemplateThread==1 and skips; later it is
//            preempted, stoplockedm hands P1 off: startm -> newm queues M3 on
//            newmHandoff for a template thread that does not exist, and parks.
//   M2:      ReadMemStats' stopTheWorld waits for P1, which stays _Pidle,
//            waking every 100 us forever (`loops` times here).
std::vector<TraceEvent> issue38931(int loops) {
  const int M0 = 0, M1 = 1, M2 = 2;
  TraceBuilder b(3);
  // Start-up: M0 starts the program and two more Ms.
  b.start(M0, 0).ev(M0, Ev::mstart, 0).ev(M0, Ev::newproc, 1).ev(M0, Ev::newproc, 2).ev(M0, Ev::newproc, 3);
  b.tick().start(M1, 1).tick().start(M2, 2);
  b.tick().sw(M1, M0).ev(M1, Ev::mstart, 1).ev(M1, Ev::acquirep, 1).ev(M1, Ev::execute, 2);
  b.tick().sw(M2, M1).ev(M2, Ev::mstart, 2).ev(M2, Ev::acquirep, 2).ev(M2, Ev::execute, 3);
  b.tick().sw(M0, M2).ev(M0, Ev::execute, 1);
  // T1: LockOSThread, haveTemplateThread == 0: startTemplateThread.
  b.tick().at(M0, Site::template_cas).ev(M0, Ev::template_cas);
  // T2: LockOSThread, haveTemplateThread == 1.
  b.tick().at(M1, Site::template_load).sw(M1, M0).ev(M1, Ev::template_skip).ev(M1, Ev::lockosthread, 2, 1);
  // ReadMemStats on M2: stop the world.
  b.tick().at(M2, Site::preempt_flag).sw(M2, M1).ev(M2, Ev::preempt_requested, 1).ev(M2, Ev::preempt_requested, 2);
  b.ev(M2, Ev::stw_start, 2);
  b.tick().block(M2, Site::note_sleep, true);
  // T1 resumes in newm's prologue: preempt -> schedule -> gcstopm -> park.
  b.tick().sw(M0, M2).ev(M0, Ev::preempted, 1, int(Site::newm_prologue));
  b.tick().at(M0, Site::lock_acquire).ev(M0, Ev::gcstopm, 0).ev(M0, Ev::stopm);
  b.tick().block(M0, Site::note_sleep, false);
  // T2: (any code) preempt -> schedule -> stoplockedm -> handoffp -> startm -> newm.
  b.tick().sw(M1, M0).preempt(M1, Site::user_step).ev(M1, Ev::preempted, 2, int(Site::user_step));
  b.ev(M1, Ev::releasep, 1);
  b.tick().at(M1, Site::npidle_load).ev(M1, Ev::handoffp, 1, 3).ev(M1, Ev::startm, 1, 1);
  b.tick().at(M1, Site::lock_acquire).ev(M1, Ev::allocm, 3).ev(M1, Ev::newm_queued, 3, 1);
  b.tick().ev(M1, Ev::stoplockedm, 2);
  b.tick().block(M1, Site::note_sleep, false);
  // Nothing runnable: time jumps to M2's deadline, again and again.
  for (int i = 0; i < loops; i++) {
    b.idle(100'000).tick().wake(M2, -1);
    if (i == 0) b.sw(M2, M1);
    b.ev(M2, Ev::stw_wait, 1);
    b.tick().block(M2, Site::note_sleep, true);
  }
  return b.trace;
}
const std::vector<int> kMids3 = {0, 1, 2};

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Where column `col` starts in an ASCII table: gutter, then " | " + cell per column.
size_t columnOffset(const std::string& table, int col) {
  const std::string header = lines(table).at(0);
  size_t pos = 0;
  for (int c = 0; c <= col; c++) pos = header.find(" | ", pos) + 3;
  return pos;
}

// ---------------------------------------------------------------------------
// text

TEST(TraceText, RuntimeEventArgumentsAndSites) {
  EXPECT_EQ(formatRuntimeEvent(Ev::newm_queued, 3, 1, 0), "newm: M3 (nextp=P1) queued on newmHandoff");
  EXPECT_EQ(formatRuntimeEvent(Ev::preempted, 7, int(Site::newm_prologue), 0), "preempted G7 at newm");
  EXPECT_EQ(formatRuntimeEvent(Ev::stw_done, 0, 0, 0), "stopTheWorld: done");
  // A corrupted site argument prints the table's "?" entry instead of reading past it.
  EXPECT_EQ(formatRuntimeEvent(Ev::preempted, 1, 60000, 0), "preempted G1 at ?");
  EXPECT_EQ(formatRuntimeEvent(Ev::kCount, 1, 2, 3), "?");
}

TEST(TraceText, EveryKindAsciiAndUnicode) {
  const std::vector<int> mids = {0, 5};
  auto e = [](K k, Site s, int a) { return TraceEvent{1, 100, 1, k, s, Ev::kCount, a, 0, 0}; };
  EXPECT_EQ(eventText(e(K::kPreempt, Site::newm_prologue, 0), mids), "! preempt request @newm");
  EXPECT_EQ(eventText(e(K::kPreempt, Site::newm_prologue, 0), mids, false), "⚡ preempt request @newm");
  EXPECT_EQ(eventText(e(K::kBlock, Site::note_sleep, 0), mids), "... waits @notesleep");
  EXPECT_EQ(eventText(e(K::kBlock, Site::note_sleep, 1), mids, false), "… sleeps (timed) @notesleep");
  EXPECT_EQ(eventText(e(K::kBlock, Site::kCount, 0), mids), "... waits");
  EXPECT_EQ(eventText(e(K::kWake, Site::note_sleep, 0), mids), "<- woken by M0");
  EXPECT_EQ(eventText(e(K::kWake, Site::note_sleep, -1), mids, false), "↩ woken (timeout)");
  EXPECT_EQ(eventText(e(K::kStart, Site::kCount, 5), mids), "-- thread starts --");
  EXPECT_EQ(eventText(e(K::kExit, Site::note_sleep, 0), mids, false), "── thread exits ──");
  EXPECT_EQ(eventText(e(K::kSwitch, Site::lock_acquire, 0), mids), "> resumes @lock");
  EXPECT_EQ(threadName(1, mids), "M5");
  EXPECT_EQ(threadName(2, mids), "T2");
}

TEST(TraceText, DisplayWidth) {
  EXPECT_EQ(displayWidth("abc"), 3u);
  EXPECT_EQ(displayWidth("▸ │ … ↩ × µs ─"), 14u);
  EXPECT_EQ(displayWidth("⚡ x"), 4u);  // emoji presentation: two columns
  EXPECT_EQ(displayWidth("\xff\xe2"), 2u);  // invalid UTF-8 still has a width
}

// ---------------------------------------------------------------------------
// columns

// The golden: the whole #38931 hang in one screen. Changing the format means
// changing this string, on purpose.
TEST(TraceColumns, Issue38931Golden) {
  const std::string got = formatColumns(issue38931(500), kMids3);
  const std::string want = R"(step      us | M0                                | M1                                | M2
-------------+-----------------------------------+-----------------------------------+----------------------------------
   0     0.0 | -- thread starts --               |                                   |
   0     0.0 | mstart M0                         |                                   |
   0     0.0 | go G1                             |                                   |
   0     0.0 | go G2                             |                                   |
   0     0.0 | go G3                             |                                   |
   1     0.1 |                                   | -- thread starts --               |
   2     0.2 |                                   |                                   | -- thread starts --
   3     0.3 |                                   | > mstart M1                       |
   3     0.3 |                                   | acquirep P1                       |
   3     0.3 |                                   | execute G2                        |
   4     0.4 |                                   |                                   | > mstart M2
   4     0.4 |                                   |                                   | acquirep P2
   4     0.4 |                                   |                                   | execute G3
   5     0.5 | > execute G1                      |                                   |
   6     0.6 | haveTemplateThread 0->1           |                                   |
   7     0.7 |                                   | > haveTemplateThread==1, skip     |
   7     0.7 |                                   | LockOSThread G2 lockedExt=1       |
   8     0.8 |                                   |                                   | > preempt request -> P1
   8     0.8 |                                   |                                   | preempt request -> P2
   8     0.8 |                                   |                                   | stopTheWorld: gcwaiting=1
             |                                   |                                   |   stopwait=2
   9     0.9 |                                   |                                   | ... sleeps (timed) @notesleep
  10     1.0 | > preempted G1 at newm            |                                   |
  11     1.1 | gcstopm P0 -> _Pgcstop            |                                   |
  11     1.1 | stopm (park)                      |                                   |
  12     1.2 | ... waits @notesleep              |                                   |
  13     1.3 |                                   | > ! preempt request @user         |
  13     1.3 |                                   | preempted G2 at user              |
  13     1.3 |                                   | releasep P1 -> _Pidle             |
  14     1.4 |                                   | handoffp P1 case 3                |
  14     1.4 |                                   | startm P1 spinning=1              |
  15     1.5 |                                   | allocm M3                         |
  15     1.5 |                                   | newm: M3 (nextp=P1) queued on     |
             |                                   |   newmHandoff                     |
  16     1.6 |                                   | stoplockedm (park, lockedg=G2)    |
  17     1.7 |                                   | ... waits @notesleep              |
  18   101.8 |                                   |                                   | <- woken (timeout)
  18   101.8 |                                   |                                   | > stopTheWorld: waiting
             |                                   |                                   |   (stopwait=1)
  19   101.9 |                                   |                                   | ... sleeps (timed) @notesleep
  20   202.0 |                                   |                                   | <- woken (timeout)
  20   202.0 |                                   |                                   | stopTheWorld: waiting
             |                                   |                                   |   (stopwait=1)
             |                                   |                                   | ^ 3 rows repeated 499x (through
             |                                   |                                   |   step 1016, 50101.6 us)
1017 50101.7 |                                   |                                   | ... sleeps (timed) @notesleep
)";
  EXPECT_EQ(got, want) << got;
}

TEST(TraceColumns, EachTextInItsThreadsColumn) {
  ColumnOptions o;
  o.max_width = 0;  // every column col_width wide
  o.col_width = 44;  // no text of this trace wraps
  o.max_rows = 0;
  const std::vector<TraceEvent> tr = issue38931(3);
  const std::string table = formatColumns(tr, kMids3, o);
  const std::vector<std::string> ls = lines(table);
  struct Want {
    std::string text;
    int col;
  } wants[] = {
      {"haveTemplateThread 0->1", 0},
      {"> preempted G1 at newm", 0},
      {"gcstopm P0 -> _Pgcstop", 0},
      {"> haveTemplateThread==1, skip", 1},
      {"newm: M3 (nextp=P1) queued on newmHandoff", 1},
      {"stoplockedm (park, lockedg=G2)", 1},
      {"stopTheWorld: gcwaiting=1 stopwait=2", 2},
      {"<- woken (timeout)", 2},
  };
  for (const Want& w : wants) {
    size_t found = 0;
    for (const std::string& l : ls) {
      size_t p = l.find(w.text);
      if (p == std::string::npos) continue;
      found++;
      EXPECT_EQ(p, columnOffset(table, w.col)) << w.text << "\n" << table;
    }
    EXPECT_GE(found, 1u) << w.text << "\n" << table;
  }
  // Header names the Ms, one column each, each 44 wide.
  EXPECT_EQ(ls[0], "step    us | M0" + std::string(42, ' ') + " | M1" + std::string(42, ' ') + " | M2");
  EXPECT_EQ(columnOffset(table, 1) - columnOffset(table, 0), 44u + 3u);
}

TEST(TraceColumns, HeaderUsesMIdsAndNamesUnknownThreads) {
  TraceBuilder b(4);
  b.start(0, 0).tick().start(1, 4).tick().start(2, 7).tick().start(3, 9);
  ColumnOptions o;
  o.show_time = false;
  o.col_width = 20;
  const std::string t = formatColumns(b.trace, {0, 4, 7}, o);  // thread 3 has no M id
  EXPECT_EQ(lines(t)[0], "step | M0                   | M4                   | M7                   | T3");
  EXPECT_EQ(lines(t)[1], "-----+----------------------+----------------------+----------------------+---------------------");
}

TEST(TraceColumns, TruncatesWhenNotWrapping) {
  TraceBuilder b(2);
  b.ev(1, Ev::newm_queued, 3, 1).tick().ev(1, Ev::stoplockedm, 2);
  ColumnOptions o;
  o.wrap = false;
  o.col_width = 20;
  o.show_time = false;
  EXPECT_EQ(formatColumns(b.trace, {0, 1}, o),
            "step | M0                   | M1\n"
            "-----+----------------------+---------------------\n"
            "   0 |                      | newm: M3 (nextp=P...\n"
            "   1 |                      | stoplockedm (park...\n");
  o.ascii = false;
  EXPECT_EQ(lines(formatColumns(b.trace, {0, 1}, o))[2], "   0 │                      │ newm: M3 (nextp=P1)…");
}

TEST(TraceColumns, WrapsAtSpacesAndBreaksLongWords) {
  TraceBuilder b(1);
  b.ev(0, Ev::newm_queued, 3, 1);
  ColumnOptions o;
  o.col_width = 12;
  o.min_col_width = 12;
  o.show_time = false;
  EXPECT_EQ(formatColumns(b.trace, {0}, o),
            "step | M0\n"
            "-----+-------------\n"
            "   0 | newm: M3\n"
            "     |   (nextp=P1)\n"
            "     |   queued on\n"
            "     |   newmHandof\n"
            "     |   f\n");
}

TEST(TraceColumns, MaxRowsKeepsTheTailAndSaysHowMuchIsOmitted) {
  TraceBuilder b(2);
  for (int i = 0; i < 100; i++) b.tick().ev(i % 2, Ev::execute, i);
  ColumnOptions o;
  o.max_rows = 10;
  o.show_time = false;
  o.col_width = 16;
  const std::string t = formatColumns(b.trace, {0, 1}, o);
  const std::vector<std::string> ls = lines(t);
  ASSERT_EQ(ls.size(), 2u + 1u + 10u) << t;
  EXPECT_EQ(ls[2], "... 90 earlier events omitted (replay with schedfuzz-replay --full-trace to see all)");
  EXPECT_EQ(ls[3], "  91 | execute G90      |");
  EXPECT_EQ(ls[12], " 100 |                  | execute G99");
  // Unicode says it with an ellipsis; 0 keeps every row.
  o.ascii = false;
  EXPECT_EQ(lines(formatColumns(b.trace, {0, 1}, o))[2], "… 90 earlier events omitted (replay with schedfuzz-replay --full-trace to see all)");
  o.max_rows = 0;
  EXPECT_EQ(lines(formatColumns(b.trace, {0, 1}, o)).size(), 2u + 100u);
}

TEST(TraceColumns, MaxRowsNeverSplitsAFoldedGroup) {
  TraceBuilder b(1);
  for (int i = 0; i < 20; i++) b.tick().ev(0, Ev::execute, i);
  for (int i = 0; i < 50; i++) b.tick().ev(0, Ev::stw_wait, 1).block(0, Site::note_sleep, true).wake(0, -1);
  ColumnOptions o;
  o.show_time = false;
  o.col_width = 50;
  o.max_rows = 6;  // the group takes 4 (3 rows + its note): 2 rows before it fit
  const std::vector<std::string> ls = lines(formatColumns(b.trace, {0}, o));
  ASSERT_EQ(ls.size(), 2u + 1u + 6u);
  EXPECT_EQ(ls[2], "... 18 earlier events omitted (replay with schedfuzz-replay --full-trace to see all)");
  EXPECT_EQ(ls[3], "  19 | execute G18");
  EXPECT_EQ(ls[8], "     | ^ 3 rows repeated 50x (through step 70)");
  o.max_rows = 2;  // not even the group fits: it is shown anyway, alone
  const std::vector<std::string> ls2 = lines(formatColumns(b.trace, {0}, o));
  ASSERT_EQ(ls2.size(), 2u + 1u + 4u);
  EXPECT_EQ(ls2[2], "... 20 earlier events omitted (replay with schedfuzz-replay --full-trace to see all)");
}

// A 3-event group repeated 500 times folds into one occurrence and a count;
// rows around it are left alone.
TEST(TraceColumns, FoldsRepeatedGroups) {
  TraceBuilder b(2);
  b.ev(1, Ev::stoplockedm, 2).block(1, Site::note_sleep, false);
  for (int i = 0; i < 500; i++) {
    b.idle(100'000).tick().wake(0, -1).ev(0, Ev::stw_wait, 1);
    b.tick().block(0, Site::note_sleep, true);
  }
  b.tick().ev(0, Ev::stw_done);
  ColumnOptions o;
  o.col_width = 30;
  EXPECT_EQ(formatColumns(b.trace, {0, 1}, o),
            "step      us | M0                             | M1\n"
            "-------------+--------------------------------+-------------------------------\n"
            "   0     0.0 |                                | stoplockedm (park, lockedg=G2)\n"
            "   0     0.0 |                                | ... waits @notesleep\n"
            "   1   100.1 | <- woken (timeout)             |\n"
            "   1   100.1 | stopTheWorld: waiting          |\n"
            "             |   (stopwait=1)                 |\n"
            "   2   100.2 | ... sleeps (timed) @notesleep  |\n"
            "             | ^ 3 rows repeated 500x         |\n"
            "             |   (through step 1000, 50100.0  |\n"
            "             |   us)                          |\n"
            "1001 50100.1 | stopTheWorld: done             |\n");
  o.ascii = false;
  o.show_time = false;
  const std::string u = formatColumns(b.trace, {0, 1}, o);
  EXPECT_NE(u.find("│ ↑ 3 rows repeated 500×         │"), std::string::npos) << u;
  // Off: every row.
  o.compress_repeats = false;
  o.max_rows = 0;
  o.col_width = 40;
  EXPECT_EQ(lines(formatColumns(b.trace, {0, 1}, o)).size(), 2u + 2u + 500u * 3u + 1u);
}

TEST(TraceColumns, FoldsSingleRowsAndGroupsAcrossColumns) {
  TraceBuilder b(2);
  for (int i = 0; i < 4; i++) b.tick().ev(0, Ev::stopm);
  for (int i = 0; i < 5; i++) b.tick().ev(0, Ev::gosched, 1).ev(1, Ev::gosched, 2);
  ColumnOptions o;
  o.show_time = false;
  o.col_width = 18;
  EXPECT_EQ(formatColumns(b.trace, {0, 1}, o),
            "step | M0                 | M1\n"
            "-----+--------------------+-------------------\n"
            "   1 | stopm (park)       |\n"
            "     | ^ repeated 4x      |\n"
            "     |   (through step 4) |\n"
            "   5 | Gosched G1 ->      |\n"
            "     |   global runq      |\n"
            "   5 |                    | Gosched G2 ->\n"
            "     |                    |   global runq\n"
            "     | ^ 2 rows repeated 5x (through step 9)\n");
}

TEST(TraceColumns, ShortRepeatsAreNotFolded) {
  TraceBuilder b(1);
  b.ev(0, Ev::stopm).tick().ev(0, Ev::stopm).tick().ev(0, Ev::stw_done);
  ColumnOptions o;
  o.show_time = false;
  EXPECT_EQ(lines(formatColumns(b.trace, {0}, o)).size(), 2u + 3u);
  o.min_repeats = 2;
  EXPECT_EQ(lines(formatColumns(b.trace, {0}, o)).size(), 2u + 3u);  // 1 row + note + 1 row
  EXPECT_NE(formatColumns(b.trace, {0}, o).find("^ repeated 2x"), std::string::npos);
}

TEST(TraceColumns, SwitchMarksTheFirstRowOfTheNewThread) {
  TraceBuilder b(3);
  b.ev(0, Ev::stopm);
  b.tick().at(1, Site::lock_acquire).sw(1, 0).tick().sw(2, 1).tick().sw(1, 2);  // nothing shown in between: one marker
  b.ev(1, Ev::execute, 4);
  b.tick().at(2, Site::note_wakeup).sw(2, 1).wake(0, 2);  // M2 wakes M0 before doing anything itself
  b.tick().block(2, Site::note_sleep, false);
  ColumnOptions o;
  o.show_time = false;
  o.col_width = 18;
  const std::string want =
      "step | M0                 | M1                 | M2\n"
      "-----+--------------------+--------------------+-------------------\n"
      "   0 | stopm (park)       |                    |\n"
      "   3 |                    | > execute G4       |\n"
      "   4 |                    |                    | > resumes\n"
      "     |                    |                    |   @notewakeup\n"
      "   4 | <- woken by M2     |                    |\n"
      "   5 |                    |                    | ... waits\n"
      "     |                    |                    |   @notesleep\n";
  EXPECT_EQ(formatColumns(b.trace, {0, 1, 2}, o), want);
  o.hide_switches = true;
  const std::string hidden = formatColumns(b.trace, {0, 1, 2}, o);
  EXPECT_EQ(hidden.find("> "), std::string::npos) << hidden;
  EXPECT_NE(hidden.find("| execute G4"), std::string::npos) << hidden;
}

// Every line of the table fits the terminal while columns can still narrow;
// past min_col_width the table grows wider instead of unreadable.
TEST(TraceColumns, NarrowsColumnsToFitTheWidth) {
  for (int n : {1, 2, 3, 4, 6, 10}) {
    TraceBuilder b(n);
    for (int t = 0; t < n; t++) b.tick().ev(t, Ev::newm_queued, t, t);
    std::vector<int> mids;
    for (int t = 0; t < n; t++) mids.push_back(t);
    const std::string table = formatColumns(b.trace, mids);
    size_t widest = 0;
    for (const std::string& l : lines(table)) widest = std::max(widest, displayWidth(l));
    const size_t at_min = 11 + size_t(n) * (3 + 16);
    EXPECT_LE(widest, std::max<size_t>(120, at_min)) << n << " Ms\n" << table;
    if (n <= 3) {
      EXPECT_NE(table.find("newm: M0 (nextp=P0) queued on"), std::string::npos) << table;
    }
    // Nothing lost: every M's event is there, wrapped.
    for (int t = 0; t < n; t++)
      EXPECT_NE(table.find("newm: M" + std::to_string(t)), std::string::npos) << table;
  }
}

// In unicode, "⚡" takes two terminal columns; separators still line up.
TEST(TraceColumns, UnicodeStaysAligned) {
  ColumnOptions o;
  o.ascii = false;
  o.max_rows = 0;
  const std::string t = formatColumns(issue38931(2), kMids3, o);
  EXPECT_NE(t.find("│ ▸ ⚡ preempt request @user"), std::string::npos) << t;
  EXPECT_NE(t.find("─┼─"), std::string::npos) << t;
  std::vector<size_t> bars;  // display columns of "│" in the header
  const std::vector<std::string> ls = lines(t);
  auto barsOf = [](const std::string& l) {
    std::vector<size_t> out;
    size_t w = 0;
    for (size_t i = 0; i < l.size();) {
      size_t len = (static_cast<unsigned char>(l[i]) < 0x80) ? 1 : (static_cast<unsigned char>(l[i]) >= 0xF0) ? 4
                   : (static_cast<unsigned char>(l[i]) >= 0xE0)                                                ? 3
                                                                                                               : 2;
      std::string cp = l.substr(i, len);
      if (cp == "│") out.push_back(w);
      w += displayWidth(cp);
      i += len;
    }
    return out;
  };
  bars = barsOf(ls[0]);
  ASSERT_EQ(bars.size(), 3u);
  for (size_t i = 2; i < ls.size(); i++) {
    std::vector<size_t> got = barsOf(ls[i]);
    EXPECT_EQ(got, bars) << "line " << i << ": " << ls[i];
  }
}

TEST(TraceColumns, SameInputSameBytes) {
  const std::vector<TraceEvent> a = issue38931(50);
  const std::vector<TraceEvent> b = a;  // a copy: no identity, addresses or iteration order leak in
  ColumnOptions o;
  o.ascii = false;
  EXPECT_EQ(formatColumns(a, kMids3, o), formatColumns(b, kMids3, o));
  EXPECT_EQ(formatFlat(a, kMids3), formatFlat(b, kMids3));
  EXPECT_EQ(chromeTraceJson(a, kMids3), chromeTraceJson(b, kMids3));
}

TEST(TraceColumns, EmptyTrace) {
  EXPECT_EQ(formatColumns({}, {}), "(empty trace)\n");
  EXPECT_EQ(formatColumns({}, {0}, ColumnOptions{.show_time = false}), "step | M0\n-----+-----------------------------------\n");
}

// ---------------------------------------------------------------------------
// flat

TEST(TraceFlat, OneGreppableLinePerEvent) {
  TraceBuilder b(2);
  b.start(0, 0).ev(0, Ev::mstart, 0);
  b.tick().start(1, 3);
  b.tick().at(1, Site::lock_acquire).sw(1, 0).ev(1, Ev::preempted, 2, int(Site::newm_prologue));
  b.preempt(1, Site::user_step);
  b.tick().block(1, Site::note_sleep, true);
  b.idle(100'000).tick().wake(1, -1).wake(0, 1).exit(1);
  EXPECT_EQ(formatFlat(b.trace, {0, 3}),
            "0 0 M0 start\n"
            "0 0 M0 mstart: mstart M0\n"
            "1 100 M3 start\n"
            "2 200 M3 switch from M0 @lock_acquire\n"
            "2 200 M3 preempted: preempted G2 at newm @lock_acquire\n"
            "2 200 M3 preempt @user_step\n"
            "3 300 M3 block timed @note_sleep\n"
            "4 100400 M3 wake timeout @note_sleep\n"
            "4 100400 M0 wake by M3\n"
            "4 100400 M3 exit @note_sleep\n");
  // Nothing is folded or cut, whatever the length.
  EXPECT_EQ(lines(formatFlat(issue38931(500), kMids3)).size(), issue38931(500).size());
}

// ---------------------------------------------------------------------------
// chrome: parsed with nlohmann::json (strict RFC 8259), so validity is
// checked, not assumed.

using nlohmann::json;

TEST(TraceChrome, ValidJsonWithATrackPerMAndBlockSlices) {
  const std::vector<TraceEvent> tr = issue38931(3);
  const std::string text = chromeTraceJson(tr, {0, 4, 2});  // thread 1 is M4: tracks use M ids
  ASSERT_TRUE(json::accept(text)) << text;
  const json doc = json::parse(text);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("displayTimeUnit"), "ns");
  const json& evs = doc.at("traceEvents");
  ASSERT_TRUE(evs.is_array());

  std::vector<std::string> thread_names;
  int instants = 0, running = 0;
  const json* m4_block = nullptr;
  std::vector<const json*> m2_blocks;
  double last_instant_ts = -1;
  for (const json& e : evs) {
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(e.at("pid"), 1);
    const std::string ph = e.at("ph");
    if (ph == "M" && e.at("name") == "thread_name") {
      thread_names.push_back(e.at("args").at("name").get<std::string>() + "@" +
                             std::to_string(e.at("tid").get<int>()));
    } else if (ph == "i") {
      instants++;
      EXPECT_EQ(e.at("s"), "t");
      EXPECT_GE(e.at("args").at("step").get<double>(), 0);
      EXPECT_TRUE(e.at("args").contains("site"));
      EXPECT_GT(e.at("ts").get<double>(), last_instant_ts) << "instants are strictly ordered";
      last_instant_ts = e.at("ts").get<double>();
    } else if (ph == "X" && e.value("cat", "") == "block") {
      EXPECT_GE(e.at("dur").get<double>(), 0);
      if (e.at("tid") == 4) m4_block = &e;
      if (e.at("tid") == 2) m2_blocks.push_back(&e);
    } else if (ph == "X" && e.at("name") == "running") {
      running++;
    }
  }
  EXPECT_EQ(thread_names, (std::vector<std::string>{"M0@0", "M4@4", "M2@2"}));
  size_t runtime_events = 0;
  for (const TraceEvent& e : tr) runtime_events += e.kind != K::kSwitch && e.kind != K::kBlock && e.kind != K::kWake;
  EXPECT_EQ(size_t(instants), runtime_events);
  EXPECT_GT(running, 5);
  // The STW thread: one slice per timed sleep, each ended by its timeout,
  // 100 us long (plus the step that follows); the last one never ends.
  ASSERT_EQ(m2_blocks.size(), 4u);
  EXPECT_EQ(m2_blocks[1]->at("name"), "sleeps (timed) @notesleep");
  EXPECT_EQ(m2_blocks[1]->at("args").at("woken"), "timeout");
  EXPECT_NEAR(m2_blocks[1]->at("dur").get<double>(), 100.1, 1e-9);
  EXPECT_EQ(m2_blocks[3]->at("args").at("woken"), "never (end of trace)");
  // M1 (track 4) parks in stoplockedm and is never woken: one bar to the end.
  ASSERT_NE(m4_block, nullptr);
  EXPECT_EQ(m4_block->at("name"), "waits @notesleep");
  EXPECT_EQ(m4_block->at("args").at("site"), "note_sleep");
  EXPECT_NEAR(m4_block->at("ts").get<double>(), 1.7, 1e-9);
  EXPECT_NEAR(m4_block->at("ts").get<double>() + m4_block->at("dur").get<double>(), 302.3, 1e-9);  // the last event
  // Without a JsonRunInfo there is no verdict event and no run metadata.
  EXPECT_NE(evs.back().value("cat", ""), "verdict");
  EXPECT_EQ(doc.at("otherData"), json({{"generator", "schedfuzz"}}));
}

TEST(TraceChrome, RunInfoAddsMetadataAndTheVerdictLast) {
  const std::vector<TraceEvent> tr = issue38931(3);
  JsonRunInfo info;
  info.program = "# schedfuzz program v1\ng0: lock \"quoted\"\n";
  info.bugs = "issue38931";
  info.verdict = "stall";
  info.kind = "hang: stall";
  info.message = "stall: \x01 control";
  info.cause = "haveTemplateThread=1 ...";
  info.signature = "stall/haveTemplateThread";
  info.steps = 370;
  info.vtime_ns = 5;  // earlier than the trace's end: the verdict still comes last
  const json doc = json::parse(chromeTraceJson(tr, {0, 4, 2}, &info));
  EXPECT_EQ(doc.at("otherData"), json({{"generator", "schedfuzz"},
                                       {"program", info.program},
                                       {"bugs", "issue38931"},
                                       {"verdict", "stall"},
                                       {"kind", "hang: stall"},
                                       {"steps", 370},
                                       {"vtime_ns", 5}}));
  const json& evs = doc.at("traceEvents");
  const json& v = evs.back();
  EXPECT_EQ(v.at("ph"), "i");
  EXPECT_EQ(v.at("s"), "g");
  EXPECT_EQ(v.at("name"), "verdict: hang: stall");
  EXPECT_EQ(v.at("args"), json({{"verdict", "stall"},
                                {"kind", "hang: stall"},
                                {"message", info.message},
                                {"cause", info.cause},
                                {"signature", info.signature},
                                {"steps", 370}}));
  for (const json& e : evs) {
    if (e.contains("ts") && &e != &v) {
      EXPECT_LT(e.at("ts").get<double>(), v.at("ts").get<double>()) << e;
    }
  }
  // No cause or signature: the args leave them out.
  info.cause.clear();
  info.signature.clear();
  const json args = json::parse(chromeTraceJson(tr, {0, 4, 2}, &info)).at("traceEvents").back().at("args");
  EXPECT_FALSE(args.contains("cause"));
  EXPECT_FALSE(args.contains("signature"));
}

TEST(TraceChrome, BlockWakePairIsOneSlice) {
  TraceBuilder b(2);
  b.ev(0, Ev::stopm).block(0, Site::note_sleep, false);
  b.tick().sw(1, 0).ev(1, Ev::startm, 0, 0);
  b.tick().at(1, Site::note_wakeup).wake(0, 1);
  b.tick().sw(0, 1).ev(0, Ev::acquirep, 0);
  const std::string text = chromeTraceJson(b.trace, {0, 1});
  EXPECT_NE(text.find("{\"ph\":\"X\",\"pid\":1,\"tid\":0,\"ts\":0.001,\"dur\":0.199,\"name\":\"waits @notesleep\","
                      "\"cat\":\"block\",\"args\":{\"step\":0,\"site\":\"note_sleep\",\"woken\":\"M1\","
                      "\"wake_step\":2}}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"thread_name\",\"args\":{\"name\":\"M1\"}}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("{\"ph\":\"i\",\"pid\":1,\"tid\":0,\"ts\":0.301,\"name\":\"acquirep P0\",\"cat\":\"runtime\","
                      "\"s\":\"t\",\"args\":{\"step\":3,\"site\":\"note_sleep\",\"event\":\"acquirep\"}}"),
            std::string::npos)
      << text;
}

// Cross-check with a JSON parser that is not ours, when one is installed.
TEST(TraceChrome, PythonJsonToolAccepts) {
  if (std::system("python3 -c pass >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  char path[] = "/tmp/schedfuzz_trace_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << chromeTraceJson(issue38931(20), kMids3);
  }
  const std::string cmd = std::string("python3 -m json.tool ") + path + " >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::remove(path);
}

TEST(TraceChrome, EmptyTraceIsValid) {
  EXPECT_TRUE(json::accept(chromeTraceJson({}, {})));
  EXPECT_TRUE(json::accept(chromeTraceJson({}, {0, 1})));
  JsonRunInfo info;
  info.verdict = "ok";
  EXPECT_TRUE(json::accept(chromeTraceJson({}, {}, &info)));
}

}  // namespace
}  // namespace schedfuzz
