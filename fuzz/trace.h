// fuzz/trace.h — printing an interleaving: a column per M, a flat greppable log, Chrome trace JSON.
//
// The executor records every switch, preemption, futex block/wake, thread
// start/exit and runtime event as a TraceEvent (fuzz/sim/executor.h). This
// file turns such a trace into three forms:
//
//  * formatColumns: the interleaving as the Go commit 11b3730a message draws
//    it, one column per thread (M), one row per event in step order, so a
//    person can put it beside that diagram and recognise the race:
//
//      step | M0                       | M1                       | M2
//      -----+--------------------------+--------------------------+--------------
//         6 | haveTemplateThread 0->1  |                          |
//         7 |                          | > haveTemplateThread==1, |
//           |                          |   skip                   |
//         8 |                          |                          | > preempt request -> P1
//      ...
//        10 | > preempted G1 at newm   |                          |
//        11 | gcstopm P0 -> _Pgcstop   |                          |
//        12 | ... waits @notesleep     |                          |
//        13 |                          | > ! preempt request      |
//           |                          |   @user                  |
//      ...
//        15 |                          | newm: M3 (nextp=P1)      |
//           |                          |   queued on newmHandoff  |
//        17 |                          | ... waits @notesleep     |
//      ...
//           |                          |                          | ^ 3 rows repeated 499x
//
//    (tests/trace_test.cpp pins the whole of this trace, Issue38931Golden.)
//
//    The gutter shows the event's step (scheduling points so far; several
//    events can share one) and, with show_time, its virtual time in µs.
//    A row's text sits in the column of the thread it is about: runtime
//    events, preemptions, blocks and exits in the thread that did them; a
//    wake in the woken thread's column ("<- woken by M0"); a start in the new
//    thread's column. A context switch is not a row of its own: it marks the
//    first row the new thread prints with "> " ("▸ " in unicode), so every
//    place where execution moved to another M is visible without a separator
//    line per switch. Consecutive switches with nothing printed in between
//    collapse into the last one (the flat form keeps them all); a switch
//    followed by something the new thread did not do itself (it woke or
//    started another thread) gets a row "> resumes @func".
//
//    Three things keep a hang to one screenful. compress_repeats folds a
//    group of rows that repeats back to back (the stop-the-world loop:
//    "waiting (stopwait=1)", sleep, timeout, forever) into one occurrence and
//    a line "^ 3 rows repeated 500x (through step N, T us)". max_rows then
//    keeps the LAST rows, because the end is where a hang shows, and says
//    "... N earlier events omitted (replay with schedfuzz-replay --full-trace
//    to see all)": the command that has the flag, since a fuzz target's
//    report has none. Long texts wrap at spaces inside their column (or are truncated, with wrap off), and the
//    columns narrow to fit max_width, down to min_col_width; past that the
//    table is simply wider than the terminal.
//
//    ASCII by default (CI logs, any terminal); unicode on request. In
//    unicode, "⚡" counts two terminal columns, as glibc's wcwidth says and
//    current terminals draw it, so columns stay aligned there.
//
//  * formatFlat: one event per line, "<step> <vtime ns> M<id> <text>", with
//    fixed event words (switch, preempt, block, wake, start, exit, and the
//    runtime event's name), then "@<site>" (the thread's last site, by enum
//    name) when it has one. Nothing folded or cut: for byte-for-byte
//    determinism checks and diffs between two runs.
//
//  * chromeTraceJson: the Chrome trace event format, for Perfetto
//    (ui.perfetto.dev) and chrome://tracing. One track per M (pid 1, tid = M
//    id, named "M<id>"); an instant event per runtime event, preemption,
//    thread start and exit (args: step, site); an X slice "running" for each
//    stretch a thread ran, and an X slice for each time it was blocked, from
//    its block to its wake (or to the end of the trace: the parked M of a
//    hang shows as one long bar). Several events share a step's virtual
//    time, so timestamps are ts = max(vtime, previous ts + 1 ns): strictly
//    increasing, never earlier than the event, printed as µs with 3 decimals
//    so they stay exact integers of ns after Perfetto's import.
//    Given a JsonRunInfo, the run itself is in the file too: its metadata in
//    "otherData" (program, bugs, verdict, kind, steps, vtime_ns: Perfetto
//    shows it under "Info and stats"), and the verdict as a last, global
//    instant event ("s":"g", name "verdict: <kind>", cat "verdict") at the end
//    of the trace, with args verdict, kind, message, and cause and signature
//    when the run has them.
//
// Every function is a pure function of its arguments: same trace, same bytes
// (no pointers, no unordered containers, no floating point in the output).
// Thread ids without an entry in `mids` print as "T<id>".
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "fuzz/sim/executor.h"

namespace schedfuzz {

struct ColumnOptions {
  int col_width = 34;          // widest a column gets
  int min_col_width = 16;      // narrowest it gets when fitting max_width (at least 8)
  int max_width = 120;         // terminal width to fit; 0: no limit (every column col_width)
  bool show_time = true;       // gutter shows virtual time (µs) after the step
  bool ascii = true;           // false: unicode rules and markers (│ ─ ▸ ⚡ … ↩ ×)
  bool hide_switches = false;  // drop switch markers; a switch is then implied by the column
  bool wrap = true;            // wrap long texts at spaces; false: truncate with "..." / "…"
  size_t max_rows = 60;        // keep the last max_rows rows (a folded group counts its rows + 1); 0: all
  bool compress_repeats = true;
  int min_repeats = 3;         // fold a group only when it occurs at least this many times in a row
  int max_group = 16;          // longest group (in rows) looked for
};

// "M<mids[tid]>", or "T<tid>" if tid has no M id.
std::string threadName(int tid, const std::vector<int>& mids);
// eventFormat(ev) with %d -> the next argument, %S -> siteInfo(Site(arg)).func, %% -> %.
std::string formatRuntimeEvent(gort::Ev ev, int a, int b, int c);
// The text formatColumns shows for one event, without the switch marker.
std::string eventText(const TraceEvent& e, const std::vector<int>& mids, bool ascii = true);

std::string formatColumns(const std::vector<TraceEvent>& trace, const std::vector<int>& mids,
                          const ColumnOptions& opts = {});
std::string formatFlat(const std::vector<TraceEvent>& trace, const std::vector<int>& mids);
// What chromeTraceJson adds about the run (see above). Strings are written
// as given; empty cause and signature are left out.
struct JsonRunInfo {
  std::string program;    // the text form
  std::string bugs;       // "issue38931,..." or "" (fixed runtime)
  std::string verdict;    // "ok" or the verdict's name
  std::string kind;       // the finding's kind, "" if ok
  std::string message;
  std::string cause;      // the culprit state, if known
  std::string signature;  // the finding's stable signature, if known
  uint64_t steps = 0;
  int64_t vtime_ns = 0;
};
std::string chromeTraceJson(const std::vector<TraceEvent>& trace, const std::vector<int>& mids,
                            const JsonRunInfo* run = nullptr);

// Terminal columns a UTF-8 string takes (2 for wide and emoji code points).
size_t displayWidth(const std::string& s);

}  // namespace schedfuzz
