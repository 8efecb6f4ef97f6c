// fuzz/trace.cpp — the three printed forms of an interleaving (see fuzz/trace.h).
#include "fuzz/trace.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string_view>

namespace schedfuzz {

using gort::Ev;
using gort::Site;
using K = TraceEvent::Kind;

namespace {

// ---------------------------------------------------------------------------
// Glyphs: every non-ASCII character the column form can print, in one place.
struct Glyphs {
  const char* sep;       // between gutter and columns, and between columns
  const char* rule;      // header underline
  const char* cross;     // header underline at a separator
  const char* ellipsis;  // truncation and the "omitted" line
  const char* sw;        // switch marker
  const char* preempt;   // injected preemption request
  const char* block;     // futex block
  const char* wake;      // futex wake
  const char* bar;       // around "thread starts" / "thread exits"
  const char* up;        // repeat annotation
  const char* times;     // "500x"
  const char* us;        // time unit in the header
};
constexpr Glyphs kAscii{" | ", "-", "-+-", "...", "> ", "! ", "... ", "<- ", "--", "^ ", "x", "us"};
constexpr Glyphs kUnicode{" │ ", "─", "─┼─", "…", "▸ ", "⚡ ", "… ", "↩ ", "──", "↑ ", "×", "µs"};

const Glyphs& glyphs(bool ascii) { return ascii ? kAscii : kUnicode; }

// Decode one code point at s[i] (advancing i). Invalid bytes count as one
// code point each, so a corrupted string still has a width.
uint32_t decodeUtf8(std::string_view s, size_t& i) {
  auto b0 = static_cast<unsigned char>(s[i]);
  int n = b0 < 0x80 ? 0 : (b0 >> 5) == 0x6 ? 1 : (b0 >> 4) == 0xE ? 2 : (b0 >> 3) == 0x1E ? 3 : -1;
  if (n <= 0 || i + size_t(n) >= s.size()) {  // ASCII, a stray byte, or cut short
    i++;
    return n == 0 ? b0 : 0xFFFD;
  }
  uint32_t cp = b0 & (0x3F >> n);
  for (int k = 1; k <= n; k++) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      i++;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += n + 1;
  return cp;
}

// wcwidth's double-width ranges, reduced to East Asian wide blocks and the
// emoji-presentation symbols that could plausibly appear in a trace.
bool isWide(uint32_t cp) {
  static constexpr uint32_t kWide[][2] = {
      {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
      {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
      {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
      {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
      {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
      {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
      {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
      {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
      {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
      {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
      {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},
      {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
  };
  for (const auto& r : kWide)
    if (cp >= r[0] && cp <= r[1]) return true;
  return false;
}

size_t cpWidth(uint32_t cp) { return isWide(cp) ? 2 : 1; }

// The longest prefix of s that fits in `width` terminal columns.
std::string_view prefixFitting(std::string_view s, size_t width) {
  size_t i = 0, w = 0;
  while (i < s.size()) {
    size_t j = i;
    size_t cw = cpWidth(decodeUtf8(s, j));
    if (w + cw > width) break;
    w += cw;
    i = j;
  }
  return s.substr(0, i);
}

std::string padRight(const std::string& s, size_t width) {
  size_t w = displayWidth(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}
std::string padLeft(const std::string& s, size_t width) {
  size_t w = displayWidth(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}
void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

std::string truncate(const std::string& s, size_t width, const Glyphs& g) {
  if (displayWidth(s) <= width) return s;
  size_t ew = displayWidth(g.ellipsis);
  if (width <= ew) return std::string(prefixFitting(s, width));
  return std::string(prefixFitting(s, width - ew)) + g.ellipsis;
}

// Word-wrap s into lines of at most `width` columns; continuation lines are
// indented by two spaces. A word wider than a line is broken where it must.
std::vector<std::string> wrapText(const std::string& s, size_t width) {
  constexpr size_t kIndent = 2;
  std::vector<std::string> lines;
  std::string cur;
  size_t curw = 0;
  auto avail = [&] { return lines.empty() ? width : width - kIndent; };
  auto flush = [&] {
    lines.push_back(lines.empty() ? cur : std::string(kIndent, ' ') + cur);
    cur.clear();
    curw = 0;
  };
  std::string_view rest(s);
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view word = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    size_t ww = displayWidth(std::string(word));
    if (curw > 0 && curw + 1 + ww <= avail()) {
      cur += ' ';
      cur += word;
      curw += 1 + ww;
      continue;
    }
    if (curw > 0) flush();
    while (ww > avail()) {  // hard break
      std::string_view head = prefixFitting(word, avail());
      if (head.empty()) head = word.substr(0, 1);  // a wide char in a 1-column line
      cur = std::string(head);
      flush();
      word.remove_prefix(head.size());
      ww = displayWidth(std::string(word));
    }
    cur = std::string(word);
    curw = ww;
  }
  if (curw > 0 || lines.empty()) flush();
  return lines;
}

// Site's Go function, or "" before a thread reached any site.
const char* siteFunc(Site s) { return s == Site::kCount ? "" : gort::siteInfo(s).func; }
const char* siteName(Site s) { return s == Site::kCount ? "" : gort::siteInfo(s).name; }

std::string atSite(Site s) {
  const char* f = siteFunc(s);
  return *f ? std::string(" @") + f : std::string();
}

// Virtual time as µs with one decimal (the executor's step is 100 ns).
std::string micros1(int64_t ns) {
  char buf[32];
  const char* sign = ns < 0 ? "-" : "";
  uint64_t a = ns < 0 ? uint64_t(0) - uint64_t(ns) : uint64_t(ns);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%" PRIu64, sign, a / 1000, a % 1000 / 100);
  return buf;
}
// ...and with three (exact ns), for Chrome JSON.
std::string micros3(int64_t ns) {
  char buf[32];
  const char* sign = ns < 0 ? "-" : "";
  uint64_t a = ns < 0 ? uint64_t(0) - uint64_t(ns) : uint64_t(ns);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%03" PRIu64, sign, a / 1000, a % 1000);
  return buf;
}

bool doneByThread(K k) {  // the event's thread is the one that was running
  return k == K::kRuntime || k == K::kPreempt || k == K::kBlock || k == K::kExit;
}

// ---------------------------------------------------------------------------
// formatColumns, step 1: rows. One per shown event; a switch merges into the
// next row of the thread it switched to.
struct Row {
  size_t first_ev;  // index in the trace of the first event this row stands for
  size_t ev;        // index of the event whose step/time the gutter shows
  int col;          // thread id
  std::string text;
};

std::vector<Row> buildRows(const std::vector<TraceEvent>& trace, const std::vector<int>& mids,
                           const ColumnOptions& opts) {
  const Glyphs& g = glyphs(opts.ascii);
  std::vector<Row> rows;
  rows.reserve(trace.size());
  long pending = -1;  // index of a kSwitch not yet shown
  auto flushSwitch = [&] {
    if (pending < 0) return;
    const TraceEvent& s = trace[size_t(pending)];
    std::string f = siteFunc(s.site);
    rows.push_back(Row{size_t(pending), size_t(pending), s.thread,
                       std::string(g.sw) + (f.empty() ? "runs" : "resumes @" + f)});
    pending = -1;
  };
  for (size_t i = 0; i < trace.size(); i++) {
    const TraceEvent& e = trace[i];
    if (e.kind == K::kSwitch) {
      if (!opts.hide_switches) pending = long(i);  // an earlier pending switch showed nothing: drop it
      continue;
    }
    std::string text = eventText(e, mids, opts.ascii);
    if (pending >= 0 && trace[size_t(pending)].thread == e.thread && doneByThread(e.kind)) {
      rows.push_back(Row{size_t(pending), i, e.thread, g.sw + text});
      pending = -1;
      continue;
    }
    flushSwitch();
    rows.push_back(Row{i, i, e.thread, std::move(text)});
  }
  flushSwitch();
  return rows;
}

// Step 2: blocks. A block is one row, or a group of rows repeated `times`
// times back to back, shown once.
struct Block {
  size_t begin, len;  // rows[begin, begin+len) is the (first occurrence of the) group
  size_t times;       // 1: plain rows
};

std::vector<Block> compress(const std::vector<Row>& rows, const ColumnOptions& opts) {
  std::vector<Block> blocks;
  const size_t n = rows.size();
  if (!opts.compress_repeats) {
    if (n) blocks.push_back(Block{0, n, 1});
    return blocks;
  }
  // Rows compare by (column, text): intern them to small integers first.
  std::map<std::pair<int, std::string>, uint32_t> ids;
  std::vector<uint32_t> key(n);
  for (size_t i = 0; i < n; i++)
    key[i] = ids.emplace(std::make_pair(rows[i].col, rows[i].text), uint32_t(ids.size())).first->second;
  const size_t min_rep = size_t(std::max(2, opts.min_repeats));
  const size_t max_len = size_t(std::max(1, opts.max_group));
  size_t plain = 0;  // start of the current run of plain rows
  size_t i = 0;
  auto flushPlain = [&](size_t end) {
    if (end > plain) blocks.push_back(Block{plain, end - plain, 1});
  };
  while (i < n) {
    // The group length that covers the most rows from i (shortest on ties).
    size_t best_len = 0, best_times = 0;
    for (size_t len = 1; len <= max_len && i + len * min_rep <= n; len++) {
      size_t times = 1;
      while (i + (times + 1) * len <= n &&
             std::equal(key.begin() + i, key.begin() + i + len, key.begin() + i + times * len))
        times++;
      if (times >= min_rep && times * len > best_times * best_len) {
        best_len = len;
        best_times = times;
      }
    }
    if (best_len == 0) {
      i++;
      continue;
    }
    flushPlain(i);
    blocks.push_back(Block{i, best_len, best_times});
    i += best_len * best_times;
    plain = i;
  }
  flushPlain(n);
  return blocks;
}

// Step 3: the tail. Split plain blocks into single rows so max_rows cuts
// between rows, then keep the last blocks that fit (at least one).
std::vector<Block> tail(const std::vector<Block>& blocks, size_t max_rows) {
  std::vector<Block> units;
  for (const Block& b : blocks) {
    if (b.times > 1) {
      units.push_back(b);
      continue;
    }
    for (size_t r = 0; r < b.len; r++) units.push_back(Block{b.begin + r, 1, 1});
  }
  if (max_rows == 0) return units;
  size_t used = 0, first = units.size();
  while (first > 0) {
    const Block& b = units[first - 1];
    size_t cost = b.len + (b.times > 1 ? 1 : 0);
    if (used + cost > max_rows && first < units.size()) break;
    used += cost;
    first--;
  }
  return std::vector<Block>(units.begin() + long(first), units.end());
}

}  // namespace

// ---------------------------------------------------------------------------
size_t displayWidth(const std::string& s) {
  size_t i = 0, w = 0;
  while (i < s.size()) w += cpWidth(decodeUtf8(s, i));
  return w;
}

std::string threadName(int tid, const std::vector<int>& mids) {
  return tid >= 0 && size_t(tid) < mids.size() ? "M" + std::to_string(mids[size_t(tid)])
                                                : "T" + std::to_string(tid);
}

std::string formatRuntimeEvent(Ev ev, int a, int b, int c) {
  const int args[3] = {a, b, c};
  int next = 0;
  std::string out;
  for (const char* p = gort::eventFormat(ev); *p; p++) {
    if (*p != '%' || p[1] == '\0') {
      out += *p;
      continue;
    }
    char spec = *++p;
    if (spec == '%') {
      out += '%';
    } else if ((spec == 'd' || spec == 'S') && next < 3) {
      int v = args[next++];
      out += spec == 'd' ? std::to_string(v) : std::string(gort::siteInfo(Site(v)).func);
    } else {  // unknown directive or a fourth argument: show it as written
      out += '%';
      out += spec;
    }
  }
  return out;
}

std::string eventText(const TraceEvent& e, const std::vector<int>& mids, bool ascii) {
  const Glyphs& g = glyphs(ascii);
  switch (e.kind) {
    case K::kRuntime:
      return formatRuntimeEvent(e.ev, e.a, e.b, e.c);
    case K::kPreempt:
      return std::string(g.preempt) + "preempt request" + atSite(e.site);
    case K::kBlock:
      return std::string(g.block) + (e.a ? "sleeps (timed)" : "waits") + atSite(e.site);
    case K::kWake:
      return std::string(g.wake) + (e.a < 0 ? "woken (timeout)" : "woken by " + threadName(e.a, mids));
    case K::kStart:
      return std::string(g.bar) + " thread starts " + g.bar;
    case K::kExit:
      return std::string(g.bar) + " thread exits " + g.bar;
    case K::kSwitch: {
      std::string f = siteFunc(e.site);
      return std::string(g.sw) + (f.empty() ? "runs" : "resumes @" + f);
    }
  }
  return "?";
}

std::string formatColumns(const std::vector<TraceEvent>& trace, const std::vector<int>& mids,
                          const ColumnOptions& opts) {
  const Glyphs& g = glyphs(opts.ascii);
  int ncols = int(mids.size());
  for (const TraceEvent& e : trace) ncols = std::max(ncols, e.thread + 1);
  if (ncols == 0) return "(empty trace)\n";

  std::vector<Row> rows = buildRows(trace, mids, opts);
  std::vector<Block> shown = tail(compress(rows, opts), opts.max_rows);

  // Gutter widths from what is shown.
  size_t stepw = 4, timew = displayWidth(g.us);
  for (const Block& b : shown) {
    size_t last = b.begin + b.len * b.times - 1;  // the repeat line names the last row's step
    for (size_t r : {b.begin, last}) {
      const TraceEvent& e = trace[rows[r].ev];
      stepw = std::max(stepw, std::to_string(e.step).size());
      timew = std::max(timew, micros1(e.vtime).size());
    }
  }
  const size_t gutterw = stepw + (opts.show_time ? 1 + timew : 0);
  const size_t sepw = displayWidth(g.sep);
  size_t colw = size_t(std::max(8, opts.col_width));
  if (opts.max_width > 0) {
    long avail = (long(opts.max_width) - long(gutterw) - long(sepw) * ncols) / ncols;
    long lo = std::max(8, opts.min_col_width);
    colw = size_t(std::clamp(avail, lo, std::max(lo, long(colw))));
  }

  std::string out;
  auto gutter = [&](const TraceEvent* e) {
    if (!e) return std::string(gutterw, ' ');
    std::string s = padLeft(std::to_string(e->step), stepw);
    if (opts.show_time) s += " " + padLeft(micros1(e->vtime), timew);
    return s;
  };
  // Emit the lines of one cell in column `col` (every other column empty).
  auto emitCell = [&](const TraceEvent* e, int col, const std::string& text) {
    std::vector<std::string> lines =
        opts.wrap ? wrapText(text, colw) : std::vector<std::string>{truncate(text, colw, g)};
    for (size_t l = 0; l < lines.size(); l++) {
      std::string line = gutter(l == 0 ? e : nullptr);
      for (int c = 0; c < ncols; c++) {
        line += g.sep;
        line += padRight(c == col ? lines[l] : std::string(), colw);
      }
      rtrim(line);
      out += line;
      out += '\n';
    }
  };

  // Header.
  {
    std::string line = padLeft("step", stepw);
    if (opts.show_time) line += " " + padLeft(g.us, timew);
    std::string rule;
    for (size_t k = 0; k < gutterw; k++) rule += g.rule;
    for (int c = 0; c < ncols; c++) {
      line += g.sep;
      line += padRight(threadName(c, mids), colw);
      rule += g.cross;
      for (size_t k = 0; k < colw; k++) rule += g.rule;
    }
    rtrim(line);
    out += line + "\n" + rule + "\n";
  }
  if (!shown.empty() && shown.front().begin > 0) {  // max_rows cut rows off the front
    out += std::string(g.ellipsis) + " " + std::to_string(rows[shown.front().begin].first_ev) +
           " earlier events omitted (replay with schedfuzz-replay --full-trace to see all)\n";
  }
  for (const Block& b : shown) {
    for (size_t r = b.begin; r < b.begin + b.len; r++) emitCell(&trace[rows[r].ev], rows[r].col, rows[r].text);
    if (b.times == 1) continue;
    const TraceEvent& last = trace[rows[b.begin + b.len * b.times - 1].ev];
    std::string note = std::string(g.up) + (b.len == 1 ? "" : std::to_string(b.len) + " rows ") +
                       "repeated " + std::to_string(b.times) + g.times + " (through step " +
                       std::to_string(last.step) +
                       (opts.show_time ? ", " + micros1(last.vtime) + " " + g.us : std::string()) + ")";
    // In the group's column if it has one, else from the first column on.
    int col = rows[b.begin].col;
    for (size_t r = b.begin; r < b.begin + b.len; r++)
      if (rows[r].col != col) col = -1;
    if (col >= 0) {
      emitCell(nullptr, col, note);
    } else {
      std::string line = gutter(nullptr) + g.sep + note;
      out += line + "\n";
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
std::string formatFlat(const std::vector<TraceEvent>& trace, const std::vector<int>& mids) {
  std::string out;
  char head[64];
  for (const TraceEvent& e : trace) {
    std::snprintf(head, sizeof head, "%" PRIu64 " %" PRId64 " ", e.step, e.vtime);
    out += head;
    out += threadName(e.thread, mids);
    out += ' ';
    switch (e.kind) {
      case K::kSwitch:
        out += "switch from " + threadName(e.a, mids);
        break;
      case K::kRuntime:
        out += std::string(gort::eventName(e.ev)) + ": " + formatRuntimeEvent(e.ev, e.a, e.b, e.c);
        break;
      case K::kBlock:
        out += e.a ? "block timed" : "block";
        break;
      case K::kWake:
        out += e.a < 0 ? std::string("wake timeout") : "wake by " + threadName(e.a, mids);
        break;
      case K::kStart:
        out += "start";
        break;
      case K::kExit:
        out += "exit";
        break;
      case K::kPreempt:
        out += "preempt";
        break;
    }
    // The thread's site: where it resumes (switch), waits (block), was
    // preempted (preempt), or last was (the rest).
    if (e.site != Site::kCount) {
      out += " @";
      out += siteName(e.site);
    }
    out += '\n';
  }
  return out;
}

// ---------------------------------------------------------------------------
namespace {

void jsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

struct JsonWriter {
  std::string out;
  bool first = true;
  // {"ph":ph,"pid":1,"tid":tid,"ts":ts[,"dur":dur],"name":name[,"cat":cat][,"s":"t"],"args":{args}}
  // scope: an instant's "s", "t" (its thread's track) or "g" (every track).
  void event(const char* ph, int tid, int64_t ts, int64_t dur, std::string_view name, const char* cat,
             const std::string& args, const char* scope = "t") {
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"ph\":\"";
    out += ph;
    out += "\",\"pid\":1,\"tid\":" + std::to_string(tid);
    if (ts >= 0) out += ",\"ts\":" + micros3(ts);
    if (dur >= 0) out += ",\"dur\":" + micros3(dur);
    out += ",\"name\":";
    jsonString(out, name);
    if (cat) {
      out += ",\"cat\":\"";
      out += cat;
      out += '"';
    }
    if (ph[0] == 'i') {
      out += ",\"s\":\"";
      out += scope;
      out += '"';
    }
    out += ",\"args\":{" + args + "}}";
  }
};

std::string argStep(uint64_t step) { return "\"step\":" + std::to_string(step); }
std::string argStr(const char* key, std::string_view v) {
  std::string s = "\"";
  s += key;
  s += "\":";
  jsonString(s, v);
  return s;
}

}  // namespace

std::string chromeTraceJson(const std::vector<TraceEvent>& trace, const std::vector<int>& mids,
                            const JsonRunInfo* run) {
  int nthreads = int(mids.size());
  for (const TraceEvent& e : trace) nthreads = std::max(nthreads, e.thread + 1);
  // Track id: the M id (the same number the column header and the dump use);
  // a thread without one gets a number past every M id.
  int maxmid = -1;
  for (int m : mids) maxmid = std::max(maxmid, m);
  auto track = [&](int tid) {
    return tid >= 0 && size_t(tid) < mids.size() ? mids[size_t(tid)] : maxmid + 1 + tid;
  };

  JsonWriter w;
  w.out = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"schedfuzz\"";
  if (run) {
    w.out += "," + argStr("program", run->program) + "," + argStr("bugs", run->bugs) + "," +
             argStr("verdict", run->verdict) + "," + argStr("kind", run->kind) + ",\"steps\":" +
             std::to_string(run->steps) + ",\"vtime_ns\":" + std::to_string(run->vtime_ns);
  }
  w.out += "},\"traceEvents\":[";
  w.event("M", 0, -1, -1, "process_name", nullptr, argStr("name", "schedfuzz"));
  for (int t = 0; t < nthreads; t++) {
    w.event("M", track(t), -1, -1, "thread_name", nullptr, argStr("name", threadName(t, mids)));
    w.event("M", track(t), -1, -1, "thread_sort_index", nullptr,
            "\"sort_index\":" + std::to_string(track(t)));
  }

  std::vector<int64_t> ts(trace.size());
  int64_t prev = INT64_MIN;
  for (size_t i = 0; i < trace.size(); i++) {
    ts[i] = prev == INT64_MIN ? trace[i].vtime : std::max(trace[i].vtime, prev + 1);
    prev = ts[i];
  }
  const int64_t end_ts = trace.empty() ? 0 : ts.back();

  std::vector<long> blocked(size_t(nthreads), -1);  // open kBlock per thread
  int running = -1;                                  // thread of the open "running" slice
  int64_t run_begin = 0;
  uint64_t run_step = 0;
  auto closeRun = [&](int64_t at) {
    if (running >= 0 && at > run_begin)
      w.event("X", track(running), run_begin, at - run_begin, "running", "run", argStep(run_step));
    running = -1;
  };
  auto closeBlock = [&](int t, int64_t at, const std::string& by, const char* wake_step) {
    const TraceEvent& b = trace[size_t(blocked[size_t(t)])];
    int64_t begin = ts[size_t(blocked[size_t(t)])];
    std::string name = std::string(b.a ? "sleeps (timed)" : "waits") + atSite(b.site);
    std::string args = argStep(b.step) + "," + argStr("site", siteName(b.site)) + "," + argStr("woken", by);
    if (wake_step) args += std::string(",\"wake_step\":") + wake_step;
    w.event("X", track(t), begin, at - begin, name, "block", args);
    blocked[size_t(t)] = -1;
  };

  for (size_t i = 0; i < trace.size(); i++) {
    const TraceEvent& e = trace[i];
    const int t = e.thread;
    if (t < 0) continue;  // not a thread: nothing to draw it on
    if (e.kind == K::kSwitch || (doneByThread(e.kind) && running != t)) {
      closeRun(ts[i]);
      running = t;
      run_begin = ts[i];
      run_step = e.step;
    }
    const std::string site = argStr("site", siteName(e.site));
    switch (e.kind) {
      case K::kSwitch:
        break;
      case K::kRuntime:
        w.event("i", track(t), ts[i], -1, formatRuntimeEvent(e.ev, e.a, e.b, e.c), "runtime",
                argStep(e.step) + "," + site + "," + argStr("event", gort::eventName(e.ev)));
        break;
      case K::kPreempt:
        w.event("i", track(t), ts[i], -1, "preempt request" + atSite(e.site), "preempt",
                argStep(e.step) + "," + site);
        break;
      case K::kStart:
        w.event("i", track(t), ts[i], -1, "thread starts", "thread", argStep(e.step) + "," + site);
        break;
      case K::kExit:
        w.event("i", track(t), ts[i], -1, "thread exits", "thread", argStep(e.step) + "," + site);
        closeRun(ts[i]);
        break;
      case K::kBlock:
        closeRun(ts[i]);
        blocked[size_t(t)] = long(i);
        break;
      case K::kWake:
        if (blocked[size_t(t)] >= 0) {
          std::string step = std::to_string(e.step);
          closeBlock(t, ts[i], e.a < 0 ? std::string("timeout") : threadName(e.a, mids), step.c_str());
        }
        break;
    }
  }
  closeRun(end_ts);
  for (int t = 0; t < nthreads; t++)
    if (blocked[size_t(t)] >= 0) closeBlock(t, end_ts, "never (end of trace)", nullptr);
  if (run) {
    // The verdict, after every other event: a global instant, so it draws
    // across all tracks where the run ended.
    std::string args = argStr("verdict", run->verdict) + "," + argStr("kind", run->kind) + "," +
                       argStr("message", run->message);
    if (!run->cause.empty()) args += "," + argStr("cause", run->cause);
    if (!run->signature.empty()) args += "," + argStr("signature", run->signature);
    args += ",\"steps\":" + std::to_string(run->steps);
    const int64_t at = std::max(end_ts + 1, run->vtime_ns);
    w.event("i", 0, at, -1, "verdict: " + (run->kind.empty() ? run->verdict : run->kind), "verdict", args, "g");
  }
  w.out += "\n]}\n";
  return w.out;
}

}  // namespace schedfuzz
