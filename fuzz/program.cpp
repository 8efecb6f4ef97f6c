// fuzz/program.cpp — binary and text forms of a schedfuzz Program (format v1).
//
// The layout, the grammar and the reasons behind them are in
// docs/schedule-format.md; this file is its implementation. Two properties
// everything else leans on:
//  * decode is total: every byte string is a Program, so plain byte-level
//    mutators (libFuzzer's, AFL's) never waste an execution on a parse error;
//  * encode is decode's canonical inverse, so a corpus entry, its text form
//    and a hand-written reproducer are interchangeable.
#include "fuzz/program.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string_view>

namespace schedfuzz {

namespace {

constexpr const char* kOpNames[] = {
    "lock", "unlock", "gosched", "go", "newm", "stw", "syscall", "exit", "spin", "gomaxprocs", "syscallblock",
    "wait", "signal", "sleep", "nanosleep", "syscallwait", "gc", "exec",
};
static_assert(std::size(kOpNames) == static_cast<size_t>(Op::kCount));

// Header byte: bits 0-1 gomaxprocs-1, bits 2-3 nscripts-1, bits 4-7 walk.
constexpr uint8_t kHeaderGomaxprocsMask = 0x03;
constexpr int kHeaderScriptsShift = 2;
constexpr int kHeaderWalkShift = 4;
constexpr int kMaxWalk = 15;
// Op byte: bits 0-3 selector into the alphabet, bits 4-7 arg.
constexpr uint8_t kOpSelectorMask = 0x0f;
constexpr int kOpArgShift = 4;
// Choice entry, second byte: bit 7 kind, bits 0-3 target, bits 4-6 reserved.
constexpr uint8_t kChoicePreemptBit = 0x80;
constexpr uint8_t kChoiceTargetMask = 0x0f;

constexpr int kMaxArg = 15;
constexpr int kMaxTarget = 15;
constexpr int kMaxDelay = 255;
constexpr int kMaxGomaxprocs = 4;

}  // namespace

const char* opName(Op op) {
  auto i = static_cast<size_t>(op);
  return i < std::size(kOpNames) ? kOpNames[i] : "?";
}

bool opHasArg(Op op) {
  switch (op) {
    case Op::kGo:
    case Op::kSyscall:
    case Op::kSpin:
    case Op::kGomaxprocs:
    case Op::kSyscallBlock:
    case Op::kWait:
    case Op::kSignal:
    case Op::kSleep:
    case Op::kNanosleep:
    case Op::kSyscallWait:
      return true;
    default:
      return false;
  }
}

Alphabet Alphabet::all() {
  // Ops 0..14 only: ops added later (syscallwait, gc) live in the world
  // alphabet, so the sched target's inputs, and its bugs' time to find, stay
  // as they were (selector 15 still decodes as 15 % 15 = lock).
  Alphabet a;
  for (int i = 0; i <= static_cast<int>(Op::kNanosleep); i++) a.ops.push_back(static_cast<Op>(i));
  return a;
}

Alphabet Alphabet::world() {
  return Alphabet{{Op::kLock, Op::kUnlock, Op::kGosched, Op::kGo, Op::kNewm, Op::kStw, Op::kSyscall, Op::kExit,
                   Op::kSpin, Op::kGomaxprocs, Op::kWait, Op::kSignal, Op::kNanosleep, Op::kSyscallWait, Op::kGc,
                   Op::kExec}};
}

Alphabet Alphabet::lockosthread() {
  return Alphabet{{Op::kLock, Op::kUnlock, Op::kGosched, Op::kNewm, Op::kStw, Op::kExit, Op::kSpin}};
}

int Alphabet::indexOf(Op op) const {
  // A selector is 4 bits, so entries past the 16th can never be decoded.
  size_t n = std::min<size_t>(ops.size(), kOpSelectorMask + 1);
  for (size_t i = 0; i < n; i++)
    if (ops[i] == op) return static_cast<int>(i);
  return -1;
}

// ---- binary form ------------------------------------------------------------

Program decode(std::span<const uint8_t> data, const Alphabet& alphabet) {
  size_t pos = 0;
  auto more = [&] { return pos < data.size(); };

  Program p;
  const uint8_t header = more() ? data[pos++] : 0;
  p.gomaxprocs = 1 + (header & kHeaderGomaxprocsMask);
  p.walk = header >> kHeaderWalkShift;
  p.scripts.resize(1 + ((header >> kHeaderScriptsShift) & 3));

  for (Script& s : p.scripts) {
    if (!more()) break;  // missing scripts are empty
    const int n = data[pos++] % (kMaxOpsPerScript + 1);
    for (int k = 0; k < n && more(); k++) {
      const uint8_t b = data[pos++];
      // An empty alphabet consumes op bytes but yields no ops: still total.
      if (alphabet.ops.empty()) continue;
      Instr in;
      in.op = alphabet.ops[(b & kOpSelectorMask) % alphabet.ops.size()];
      in.arg = opHasArg(in.op) ? static_cast<uint8_t>(b >> kOpArgShift) : 0;
      s.ops.push_back(in);
    }
  }

  while (data.size() - pos >= 2 && p.choices.size() < static_cast<size_t>(kMaxChoices)) {
    Choice c;
    c.delay = data[pos];
    const uint8_t b = data[pos + 1];
    pos += 2;
    if (b & kChoicePreemptBit) {
      c.kind = Choice::Kind::kPreempt;
      c.target = 0;  // canonical: preempt entries carry no target
    } else {
      c.kind = Choice::Kind::kSwitch;
      c.target = b & kChoiceTargetMask;
    }
    p.choices.push_back(c);
  }
  // A trailing odd byte, and anything past kMaxChoices entries, is ignored.
  return p;
}

std::vector<uint8_t> encode(const Program& p, const Alphabet& alphabet) {
  const int gomaxprocs = std::clamp(p.gomaxprocs, 1, kMaxGomaxprocs);
  const int nscripts = std::clamp(static_cast<int>(p.scripts.size()), 1, kMaxScripts);

  // The op bytes of each script, after dropping ops the alphabet cannot
  // express and truncating to the limit.
  std::vector<std::vector<uint8_t>> bodies(nscripts);
  for (int i = 0; i < nscripts && i < static_cast<int>(p.scripts.size()); i++) {
    for (const Instr& in : p.scripts[i].ops) {
      if (static_cast<int>(bodies[i].size()) == kMaxOpsPerScript) break;
      const int sel = alphabet.indexOf(in.op);
      if (sel < 0) continue;
      const uint8_t arg = opHasArg(in.op) ? (in.arg & kMaxArg) : 0;
      bodies[i].push_back(static_cast<uint8_t>(sel | (arg << kOpArgShift)));
    }
  }

  const size_t nchoices = std::min(p.choices.size(), static_cast<size_t>(kMaxChoices));
  // Without choices, trailing empty scripts need no length byte: decode
  // treats missing scripts as empty. This keeps seeds and reproducers short.
  int written = nscripts;
  if (nchoices == 0)
    while (written > 0 && bodies[written - 1].empty()) written--;

  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>((gomaxprocs - 1) | ((nscripts - 1) << kHeaderScriptsShift) |
                                     ((std::clamp(p.walk, 0, kMaxWalk)) << kHeaderWalkShift)));
  for (int i = 0; i < written; i++) {
    out.push_back(static_cast<uint8_t>(bodies[i].size()));
    out.insert(out.end(), bodies[i].begin(), bodies[i].end());
  }
  for (size_t i = 0; i < nchoices; i++) {
    const Choice& c = p.choices[i];
    out.push_back(c.delay);
    out.push_back(c.kind == Choice::Kind::kPreempt ? kChoicePreemptBit
                                                   : static_cast<uint8_t>(c.target & kChoiceTargetMask));
  }
  return out;
}

std::string checkProgram(const Program& p, const Alphabet* alphabet) {
  if (p.gomaxprocs < 1 || p.gomaxprocs > kMaxGomaxprocs)
    return "gomaxprocs " + std::to_string(p.gomaxprocs) + " is outside 1..4";
  if (p.walk < 0 || p.walk > kMaxWalk) return "walk " + std::to_string(p.walk) + " is outside 0..15";
  if (p.scripts.empty() || p.scripts.size() > static_cast<size_t>(kMaxScripts))
    return std::to_string(p.scripts.size()) + " scripts (want 1..4)";
  for (size_t i = 0; i < p.scripts.size(); i++) {
    const auto& ops = p.scripts[i].ops;
    const std::string where = "g" + std::to_string(i);
    if (ops.size() > static_cast<size_t>(kMaxOpsPerScript))
      return where + " has " + std::to_string(ops.size()) + " ops (max 16)";
    for (size_t k = 0; k < ops.size(); k++) {
      const Instr& in = ops[k];
      const std::string at = where + " op " + std::to_string(k);
      if (static_cast<int>(in.op) >= static_cast<int>(Op::kCount)) return at + ": not an op";
      if (in.arg > (opHasArg(in.op) ? kMaxArg : 0))
        return at + ": " + opName(in.op) + " arg " + std::to_string(in.arg) +
               (opHasArg(in.op) ? " is outside 0..15" : " should be 0 (the op takes none)");
      if (alphabet && alphabet->indexOf(in.op) < 0)
        return at + ": " + opName(in.op) + " is not in the alphabet";
    }
  }
  if (p.choices.size() > static_cast<size_t>(kMaxChoices))
    return std::to_string(p.choices.size()) + " choices (max 256)";
  for (size_t i = 0; i < p.choices.size(); i++) {
    const Choice& c = p.choices[i];
    const std::string at = "choice " + std::to_string(i);
    if (c.kind != Choice::Kind::kSwitch && c.kind != Choice::Kind::kPreempt) return at + ": bad kind";
    if (c.kind == Choice::Kind::kSwitch && c.target > kMaxTarget)
      return at + ": target t" + std::to_string(c.target) + " is outside t0..t15";
    if (c.kind == Choice::Kind::kPreempt && c.target != 0) return at + ": preempt target should be 0";
  }
  return "";
}

// ---- text form --------------------------------------------------------------

namespace {

constexpr size_t kChoicesPerLine = 8;

void appendChoice(std::string& out, const Choice& c) {
  if (c.kind == Choice::Kind::kPreempt) {
    out += "preempt+" + std::to_string(c.delay);
  } else {
    out += "switch+" + std::to_string(c.delay) + "->t" + std::to_string(c.target);
  }
}

}  // namespace

std::string toText(const Program& p) {
  std::string out = "# schedfuzz program v1\n";
  out += "gomaxprocs " + std::to_string(p.gomaxprocs) + "\n";
  if (p.walk != 0) out += "walk " + std::to_string(p.walk) + "\n";
  for (size_t i = 0; i < p.scripts.size(); i++) {
    out += "g" + std::to_string(i) + ":";
    for (const Instr& in : p.scripts[i].ops) {
      out += ' ';
      out += opName(in.op);
      if (opHasArg(in.op)) out += "(" + std::to_string(in.arg) + ")";
    }
    out += '\n';
  }
  for (size_t i = 0; i < p.choices.size(); i++) {
    if (i == 0) {
      out += "choices:";
    } else if (i % kChoicesPerLine == 0) {
      out += "\n        ";  // a continuation line, aligned under the first entry
    }
    out += ' ';
    appendChoice(out, p.choices[i]);
  }
  if (!p.choices.empty()) out += '\n';
  return out;
}

namespace {

// One token of a line. Tokens: words [A-Za-z_][A-Za-z0-9_]*, integers [0-9]+,
// the punctuation ':' '(' ')' '+' '->', end of line (also at '#'), and any
// other single character (which no rule accepts, so it is reported as found).
struct Token {
  enum class Kind { kWord, kInt, kPunct, kEnd, kOther } kind;
  std::string_view text;
  int col;  // 1-based
  bool is(std::string_view punct) const { return kind == Kind::kPunct && text == punct; }
};

class LineLexer {
 public:
  explicit LineLexer(std::string_view line) : line_(line) { advance(); }
  const Token& peek() const { return tok_; }
  Token next() {
    Token t = tok_;
    advance();
    return t;
  }

 private:
  void advance() {
    while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) pos_++;
    const size_t start = pos_;
    const int col = static_cast<int>(start) + 1;
    if (pos_ >= line_.size() || line_[pos_] == '#') {
      tok_ = {Token::Kind::kEnd, {}, col};
      return;
    }
    const unsigned char c = line_[pos_];
    if (std::isalpha(c) || c == '_') {
      while (pos_ < line_.size() && (std::isalnum(static_cast<unsigned char>(line_[pos_])) || line_[pos_] == '_')) pos_++;
      tok_ = {Token::Kind::kWord, line_.substr(start, pos_ - start), col};
    } else if (std::isdigit(c)) {
      while (pos_ < line_.size() && std::isdigit(static_cast<unsigned char>(line_[pos_]))) pos_++;
      tok_ = {Token::Kind::kInt, line_.substr(start, pos_ - start), col};
    } else if (c == '-' && pos_ + 1 < line_.size() && line_[pos_ + 1] == '>') {
      pos_ += 2;
      tok_ = {Token::Kind::kPunct, line_.substr(start, 2), col};
    } else if (c == ':' || c == '(' || c == ')' || c == '+') {
      pos_++;
      tok_ = {Token::Kind::kPunct, line_.substr(start, 1), col};
    } else {
      pos_++;
      tok_ = {Token::Kind::kOther, line_.substr(start, 1), col};
    }
  }

  std::string_view line_;
  size_t pos_ = 0;
  Token tok_{};
};

// Value of a digit string, saturating (so "99999999999" is just out of range).
int intValue(std::string_view digits) {
  long v = 0;
  for (char ch : digits) {
    v = v * 10 + (ch - '0');
    if (v > 1'000'000) return 1'000'000;
  }
  return static_cast<int>(v);
}

// "<prefix><digits>" -> the number, or -1 if word is not of that shape.
int prefixedNumber(std::string_view word, char prefix) {
  if (word.size() < 2 || word[0] != prefix) return -1;
  for (size_t i = 1; i < word.size(); i++)
    if (!std::isdigit(static_cast<unsigned char>(word[i]))) return -1;
  return intValue(word.substr(1));
}

int opByName(std::string_view name) {
  for (size_t i = 0; i < std::size(kOpNames); i++)
    if (name == kOpNames[i]) return static_cast<int>(i);
  return -1;
}

std::string opList() {
  std::string s;
  for (size_t i = 0; i < std::size(kOpNames); i++) {
    if (i) s += ", ";
    s += kOpNames[i];
  }
  return s;
}

struct ParseError {
  int line = 0, col = 0;
  std::string expected;
  std::string found;  // already formatted: "'tok'", "end of line" or "end of input"
};

std::string describe(const Token& t) {
  if (t.kind == Token::Kind::kEnd) return "end of line";
  return quoteToken(t.text);
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A line-at-a-time recursive-descent parser. No exceptions (fuzz builds may
// use -fno-exceptions): every step returns false after fail() recorded the
// first error.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool parse(Program& p) {
    p = Program{};
    bool saw_gomaxprocs = false;
    bool saw_walk = false;
    bool saw_choices = false;
    bool saw_content = false;  // a non-blank line was seen (the version line must be the first)
    size_t start = 0;
    // A BOM (editors on Windows write one) is not part of line 1's columns.
    if (text_.substr(0, kBom.size()) == kBom) text_.remove_prefix(kBom.size());
    int eof_line = 1, eof_col = 1;
    for (;;) {
      size_t end = text_.find('\n', start);
      const bool last = end == std::string_view::npos;
      if (last) end = text_.size();
      std::string_view line = text_.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      eof_line = line_;
      eof_col = static_cast<int>(line.size()) + 1;

      LineLexer lx(line);
      const Token first = lx.peek();
      bool ok = true;
      if (!saw_content) {
        size_t i = 0;
        while (i < line.size() && isBlank(line[i])) i++;
        if (i < line.size()) {
          saw_content = true;
          if (line[i] == '#' && !checkVersionLine(line, i)) return false;
        }
      }
      if (first.kind == Token::Kind::kEnd) {
        // blank or comment-only line
      } else if (first.kind == Token::Kind::kWord && first.text == "gomaxprocs") {
        if (saw_gomaxprocs) return fail(first, "one 'gomaxprocs' line");
        saw_gomaxprocs = true;
        lx.next();
        const Token v = lx.next();
        if (v.kind != Token::Kind::kInt || intValue(v.text) < 1 || intValue(v.text) > kMaxGomaxprocs)
          return fail(v, "gomaxprocs 1..4");
        p.gomaxprocs = intValue(v.text);
        ok = expectEnd(lx);
      } else if (first.kind == Token::Kind::kWord && first.text == "walk") {
        if (saw_walk) return fail(first, "one 'walk' line");
        saw_walk = true;
        lx.next();
        const Token v = lx.next();
        if (v.kind != Token::Kind::kInt || intValue(v.text) < 0 || intValue(v.text) > kMaxWalk)
          return fail(v, "walk 0..15");
        p.walk = intValue(v.text);
        ok = expectEnd(lx);
      } else if (first.kind == Token::Kind::kWord && prefixedNumber(first.text, 'g') >= 0) {
        const int id = prefixedNumber(first.text, 'g');
        const int want = static_cast<int>(p.scripts.size());
        if (want >= kMaxScripts) return fail(first, "at most 4 scripts (g0..g3)");
        if (id != want) return fail(first, "script id g" + std::to_string(want));
        lx.next();
        const Token colon = lx.next();
        if (!colon.is(":")) return fail(colon, "':' after '" + std::string(first.text) + "'");
        p.scripts.emplace_back();
        ok = parseOps(lx, p.scripts.back());
      } else if (first.kind == Token::Kind::kWord && first.text == "choices") {
        lx.next();
        const Token colon = lx.next();
        if (!colon.is(":")) return fail(colon, "':' after 'choices'");
        saw_choices = true;
        ok = parseChoices(lx, p.choices);
      } else if (saw_choices && first.kind == Token::Kind::kWord &&
                 (first.text == "switch" || first.text == "preempt")) {
        ok = parseChoices(lx, p.choices);  // a continuation line of the choice list
      } else {
        return fail(first, "'gomaxprocs', 'walk', 'gN:' or 'choices:'");
      }
      if (!ok) return false;

      if (last) break;
      start = end + 1;
      line_++;
    }
    if (p.scripts.empty()) {
      // Point just past the last character of the input.
      err_ = {eof_line, eof_col, "a script line 'g0:'", "end of input"};
      return false;
    }
    return true;
  }

  const ParseError& error() const { return err_; }

 private:
  bool fail(const Token& t, std::string expected) {
    err_ = {line_, t.col, std::move(expected), describe(t)};
    return false;
  }

  // `line` has a comment at `hash`. If its first word is "schedfuzz" it is
  // meant as the version line, and must be "# schedfuzz program v1".
  bool checkVersionLine(std::string_view line, size_t hash) {
    // The comment's words (runs of non-blanks) with their 1-based columns.
    std::vector<std::pair<std::string_view, int>> words;
    for (size_t i = hash + 1; i < line.size();) {
      if (isBlank(line[i])) {
        i++;
        continue;
      }
      size_t j = i;
      while (j < line.size() && !isBlank(line[j])) j++;
      words.push_back({line.substr(i, j - i), static_cast<int>(i) + 1});
      i = j;
    }
    if (words.empty() || words[0].first != "schedfuzz") return true;  // an ordinary comment
    const int eol = static_cast<int>(line.size()) + 1;
    auto failAt = [&](size_t w, const std::string& expected) {
      err_ = {line_, w < words.size() ? words[w].second : eol, expected,
              w < words.size() ? quoteToken(words[w].first) : std::string("end of line")};
      return false;
    };
    const std::string what = "the version line '" + std::string(kTextHeader) + "': ";
    if (words.size() < 2 || words[1].first != "program") return failAt(1, what + "'program' after 'schedfuzz'");
    if (words.size() < 3 || words[2].first != "v1")
      return failAt(2, what + "version v1 (the only version of the text form)");
    if (words.size() > 3) return failAt(3, what + "end of line after 'v1'");
    return true;
  }

  bool expectEnd(LineLexer& lx) {
    const Token t = lx.peek();
    return t.kind == Token::Kind::kEnd || fail(t, "end of line");
  }

  bool parseOps(LineLexer& lx, Script& s) {
    while (lx.peek().kind != Token::Kind::kEnd) {
      const Token name = lx.next();
      const int op = name.kind == Token::Kind::kWord ? opByName(name.text) : -1;
      if (op < 0) return fail(name, "an op (" + opList() + ")");
      if (s.ops.size() == static_cast<size_t>(kMaxOpsPerScript)) return fail(name, "at most 16 ops in a script");
      Instr in;
      in.op = static_cast<Op>(op);
      if (lx.peek().is("(")) {
        if (!opHasArg(in.op)) return fail(lx.peek(), "no argument for '" + std::string(name.text) + "'");
        lx.next();
        const Token v = lx.next();
        if (v.kind != Token::Kind::kInt || intValue(v.text) > kMaxArg) return fail(v, "argument 0..15");
        in.arg = static_cast<uint8_t>(intValue(v.text));
        const Token close = lx.next();
        if (!close.is(")")) return fail(close, "')'");
      }
      s.ops.push_back(in);
    }
    return true;
  }

  bool parseChoices(LineLexer& lx, std::vector<Choice>& out) {
    while (lx.peek().kind != Token::Kind::kEnd) {
      const Token kind = lx.next();
      const bool is_switch = kind.kind == Token::Kind::kWord && kind.text == "switch";
      const bool is_preempt = kind.kind == Token::Kind::kWord && kind.text == "preempt";
      if (!is_switch && !is_preempt) return fail(kind, "a choice ('switch+D->tN' or 'preempt+D')");
      if (out.size() == static_cast<size_t>(kMaxChoices)) return fail(kind, "at most 256 choices");
      const Token plus = lx.next();
      if (!plus.is("+")) return fail(plus, "'+' after '" + std::string(kind.text) + "'");
      const Token d = lx.next();
      if (d.kind != Token::Kind::kInt || intValue(d.text) > kMaxDelay) return fail(d, "delay 0..255");
      Choice c;
      c.delay = static_cast<uint8_t>(intValue(d.text));
      if (is_switch) {
        c.kind = Choice::Kind::kSwitch;
        const Token arrow = lx.next();
        if (!arrow.is("->")) return fail(arrow, "'->' after the delay");
        const Token t = lx.next();
        const int target = t.kind == Token::Kind::kWord ? prefixedNumber(t.text, 't') : -1;
        if (target < 0 || target > kMaxTarget) return fail(t, "thread t0..t15");
        c.target = static_cast<uint8_t>(target);
      } else {
        c.kind = Choice::Kind::kPreempt;
      }
      out.push_back(c);
    }
    return true;
  }

  std::string_view text_;
  int line_ = 1;
  ParseError err_;
};

}  // namespace

bool parseText(const std::string& text, const std::string& source, Program& out, std::string& error) {
  Program p;
  Parser parser(text);
  if (!parser.parse(p)) {
    const ParseError& e = parser.error();
    error = source + ":" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": expected " + e.expected +
            ", found " + e.found;
    return false;
  }
  out = std::move(p);
  return true;
}

bool isTextForm(std::string_view bytes) {
  if (bytes.substr(0, kBom.size()) == kBom) bytes.remove_prefix(kBom.size());
  size_t i = 0;
  while (i < bytes.size() && isBlank(bytes[i])) i++;
  constexpr std::string_view kPrefix = "# schedfuzz program";
  return bytes.substr(i, kPrefix.size()) == kPrefix;
}

std::string quoteToken(std::string_view s, size_t max) {
  std::string out = "'";
  const size_t n = std::min(s.size(), max);
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += '\'';
  if (s.size() > max) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// ---- step budget ------------------------------------------------------------

namespace {

// Scheduling points a fair schedule may need for one run of a script: a
// generous constant per op (an op is at most a few hundred points even
// through a stop-the-world or a handoff to a new M) plus the user steps of
// spin/syscall args.
uint64_t scriptCost(const Script& s) {
  uint64_t cost = 0;
  for (const Instr& in : s.ops) {
    cost += 4000;
    if (in.op == Op::kSpin || in.op == Op::kSyscall || in.op == Op::kSyscallBlock) cost += 500ull * (in.arg + 1);
    // A sleep or nanosleep blocks for (arg+1) * 20 us of virtual time: if
    // other threads run meanwhile, that many scheduling points.
    if (in.op == Op::kSleep || in.op == Op::kNanosleep) cost += 20ull * (in.arg + 1);
    // A wait may spin until sysmon's forced preemption (10 ms, 10000 points,
    // up to 20000 with sysmon's back-off) ends it.
    if (in.op == Op::kWait) cost += 40000;
  }
  return cost;
}

}  // namespace

namespace {
bool hasWait(const Program& p) {
  for (const Script& sc : p.scripts)
    for (const Instr& in : sc.ops)
      if (in.op == Op::kWait) return true;
  return false;
}
}  // namespace

uint64_t walkSeed(const Program& p) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  mix(static_cast<uint64_t>(p.gomaxprocs));
  mix(static_cast<uint64_t>(p.walk));
  for (const Script& sc : p.scripts) {
    mix(0x100);
    for (const Instr& in : sc.ops) mix(static_cast<uint64_t>(in.op) * 16 + in.arg);
  }
  return h;
}

uint64_t stepBudget(const Program& p) {
  constexpr uint64_t kBase = 20000;  // runtime start-up, main's spawning and waiting, process exit
  // ~tens of ms of executor time: bounds a livelocked run. Programs with waits
  // may need one sysmon preemption (10000+ points) per spinning goroutine.
  const uint64_t kCap = hasWait(p) ? 4000000 : 400000;
  uint64_t budget = kBase;
  bool any_go = false;
  uint64_t max_go_target = 0;
  const size_t n = p.scripts.size();
  for (const Script& s : p.scripts) {
    budget += scriptCost(s);
    for (const Instr& in : s.ops) {
      if (in.op != Op::kGo) continue;
      any_go = true;
      max_go_target = std::max(max_go_target, scriptCost(p.scripts[in.arg % n]));
    }
  }
  // `go` can start at most kMaxGoroutines - nscripts further goroutines in a
  // run, each running one script; charge each the dearest script a `go` names
  // plus one op's worth for starting and reaping it.
  if (any_go) {
    const int extra = std::max(0, kMaxGoroutines - static_cast<int>(n));
    budget += static_cast<uint64_t>(extra) * (max_go_target + 4000);
  }
  return std::min(budget, kCap);
}

}  // namespace schedfuzz
