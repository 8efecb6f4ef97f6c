// Copyright 2026 The schedfuzz Authors. SPDX-License-Identifier: BSD-3-Clause (as the Go runtime it is compiled into).
//
// schedfuzz hook for the real Go runtime (realgo/README.md). Added to a copy of
// Debian's GOROOT by realgo/patches/0001-schedfuzz-hook.patch, never to the
// system Go.
//
// GOSCHEDFUZZ=rule,rule,...  rule = [gK/]site[@n]:action
//
//   gK/     only hits by a goroutine started at function main.gK (the
//           exported program's script K, schedfuzz's "gK:" line); @n then
//           counts that script's hits of the site.
//   site    a name of gort's (runtime/events.def; the table below): the place
//           in this runtime that does what that gort event records.
//   @n      the rule fires on the n-th dynamic hit of the site in this process
//           (1-based); without @n it fires on every hit.
//   action  preempt   ask the M's current goroutine to stop at its next
//                     function prologue, as preemptone does
//                     (gp.preempt = true; gp.stackguard0 = stackPreempt).
//           yield     osyield(): let the OS run another thread.
//           log       print "GOSCHEDFUZZ: log: <site>@<n> M<id> G<goid> t=<ns>" to stderr.
//           hold[until=site@m,...,timeout=T]
//                     spin here (usleep 20us, off the run queues: the
//                     goroutine keeps its M and P, the M runs nothing else)
//                     until every until= site has been hit at least m times,
//                     then go on; T is "<N>ms" or "<N>us" (default 1000ms).
//                     On a timeout it prints
//                     "GOSCHEDFUZZ: timeout: <site>@<n> hold ..." to stderr:
//                     the real runtime did not follow the schedule.
//   Several rules may name the same hit; they run in the order given.
//
// Errors in GOSCHEDFUZZ stop the process at start-up with exit status 2 and
// "GOSCHEDFUZZ: position P: expected ..., found ...".
//
// The hook allocates nothing, takes no lock and has no write barriers, so a
// site can sit on the system stack and inside nowritebarrierrec code.

package runtime

import "runtime/internal/atomic"

// Sites: gort's names (runtime/events.def of schedfuzz).
const (
	sfTemplateCas  = iota // startTemplateThread: haveTemplateThread CAS 0->1 succeeded, newm not yet called
	sfTemplateSkip        // LockOSThread: haveTemplateThread already 1
	sfLockOSThread        // LockOSThread: lockedExt incremented
	sfNewmQueued          // newm: M queued on newmHandoff for the template thread
	sfNewmClone           // newm1: about to clone a thread
	sfHandoffp            // handoffp entry
	sfStartm              // startm entry
	sfStopm               // stopm entry (the M is about to go idle)
	sfStoplockedm         // stoplockedm entry
	sfStwStart            // stopTheWorldWithSema: gcwaiting=1 set
	sfStwWait             // stopTheWorldWithSema: waiting for Ps (each 100us poll)
	sfStwDone             // stopTheWorldWithSema: every P stopped
	sfGosched             // goschedImpl entry (Gosched or a synchronous preemption)
	sfTemplateRun         // templateThread running
	sfStwEnter            // stopTheWorldWithSema entry, before gcwaiting=1 (gort's site stopTheWorld_prologue)
	sfTemplateLoad        // LockOSThread entry, before it loads haveTemplateThread (gort's site template_load)
	sfMexit               // mexit: the exiting M has handed off its P (a locked goroutine exited)
	sfCount
)

var sfSiteNames = [sfCount]string{
	"template_cas", "template_skip", "lockosthread", "newm_queued", "newm_clone",
	"handoffp", "startm", "stopm", "stoplockedm", "stw_start", "stw_wait", "stw_done",
	"gosched", "templatethread_run", "stopTheWorld_prologue", "template_load", "mexit",
}

const (
	sfMaxRules = 32
	sfMaxUntil = 4
)

const (
	sfActPreempt = iota + 1
	sfActYield
	sfActHold
	sfActLog
)

type sfRule struct {
	site      int32
	n         uint32 // 0: every hit
	script    int32  // -1: any goroutine; K: only hits by a goroutine started at main.gK
	hits      uint32 // hits by that goroutine's script (script >= 0)
	action    int32
	nuntil    int32
	untilSite [sfMaxUntil]int32
	untilN    [sfMaxUntil]uint32
	timeoutNs int64
}

var (
	sfEnabled bool
	sfNRules  int32
	sfRules   [sfMaxRules]sfRule
	sfHits    [sfCount]uint32
)

// schedfuzzSite is every injection site: counts the hit and runs the rules
// that name it.
//
//go:nosplit
//go:nowritebarrierrec
func schedfuzzSite(site int32) {
	if !sfEnabled {
		return
	}
	hit := atomic.Xadd(&sfHits[site], 1)
	script := int32(-2) // not looked up yet
	for i := int32(0); i < sfNRules; i++ {
		r := &sfRules[i]
		if r.site != site {
			continue
		}
		h := hit
		if r.script >= 0 {
			if script == -2 {
				script = sfScript()
			}
			if script != r.script {
				continue
			}
			h = atomic.Xadd(&r.hits, 1)
		}
		if r.n != 0 && r.n != h {
			continue
		}
		switch r.action {
		case sfActPreempt:
			if gp := getg().m.curg; gp != nil {
				gp.preempt = true
				gp.stackguard0 = stackPreempt
			}
		case sfActYield:
			osyield()
		case sfActHold:
			sfHold(r, h)
		case sfActLog:
			sfLog(site, h)
		}
	}
}

// sfScript is K if the M's current goroutine was started at main.gK
// (0 <= K <= 9), else -1. Reads the function name table directly: no
// prologue, so looking does not itself preempt.
//
//go:nosplit
//go:nowritebarrierrec
func sfScript() int32 {
	gp := getg().m.curg
	if gp == nil {
		return -1
	}
	f := findfunc(gp.startpc)
	if !f.valid() {
		return -1
	}
	tab := f.datap.funcnametab
	o := int(f.nameoff)
	if o < 0 || o+8 > len(tab) {
		return -1
	}
	if tab[o] != 'm' || tab[o+1] != 'a' || tab[o+2] != 'i' || tab[o+3] != 'n' || tab[o+4] != '.' || tab[o+5] != 'g' ||
		tab[o+6] < '0' || tab[o+6] > '9' || tab[o+7] != 0 {
		return -1
	}
	return int32(tab[o+6] - '0')
}

//go:nosplit
//go:nowritebarrierrec
func sfHold(r *sfRule, hit uint32) {
	deadline := nanotime() + r.timeoutNs
	for {
		done := true
		for j := int32(0); j < r.nuntil; j++ {
			if atomic.Load(&sfHits[r.untilSite[j]]) < r.untilN[j] {
				done = false
			}
		}
		if done {
			return
		}
		if nanotime() > deadline {
			sfTimeout(r, hit)
			return
		}
		usleep(20)
	}
}

//go:noinline
//go:nowritebarrierrec
func sfTimeout(r *sfRule, hit uint32) {
	print("GOSCHEDFUZZ: timeout: ", sfSiteNames[r.site], "@", hit, " hold ", r.timeoutNs/1000000, "ms:")
	for j := int32(0); j < r.nuntil; j++ {
		print(" ", sfSiteNames[r.untilSite[j]], "@", r.untilN[j], " (reached ", atomic.Load(&sfHits[r.untilSite[j]]), ")")
	}
	print("\n")
}

//go:noinline
//go:nowritebarrierrec
func sfLog(site int32, hit uint32) {
	mp := getg().m
	gid := int64(0)
	if mp.curg != nil {
		gid = mp.curg.goid
	}
	print("GOSCHEDFUZZ: log: ", sfSiteNames[site], "@", hit, " M", mp.id, " G", gid, " t=", nanotime(), "\n")
}

// schedfuzzInit parses GOSCHEDFUZZ (from schedinit, after goenvs).
func schedfuzzInit() {
	s := gogetenv("GOSCHEDFUZZ")
	if s == "" {
		return
	}
	p := sfParser{s: s}
	for {
		if sfNRules == sfMaxRules {
			p.fail("at most 32 rules")
		}
		r := &sfRules[sfNRules]
		r.script = -1
		if p.pos+2 < len(p.s) && p.s[p.pos] == 'g' && '0' <= p.s[p.pos+1] && p.s[p.pos+1] <= '9' && p.s[p.pos+2] == '/' {
			r.script = int32(p.s[p.pos+1] - '0')
			p.pos += 3
		}
		r.site = p.site()
		if p.eat('@') {
			r.n = p.number()
			if r.n == 0 {
				p.fail("a hit count >= 1")
			}
		}
		p.expect(':')
		switch w := p.word(); w {
		case "preempt":
			r.action = sfActPreempt
		case "yield":
			r.action = sfActYield
		case "log":
			r.action = sfActLog
		case "hold":
			r.action = sfActHold
			r.timeoutNs = 1000 * 1000000
			if p.eat('[') {
				for {
					switch k := p.word(); k {
					case "until":
						p.expect('=')
						if r.nuntil == sfMaxUntil {
							p.fail("at most 4 until= sites")
						}
						r.untilSite[r.nuntil] = p.site()
						p.expect('@')
						r.untilN[r.nuntil] = p.number()
						r.nuntil++
					case "timeout":
						p.expect('=')
						v := int64(p.number())
						switch u := p.word(); u {
						case "ms":
							r.timeoutNs = v * 1000000
						case "us":
							r.timeoutNs = v * 1000
						default:
							p.pos -= len(u)
							p.fail("a unit ms or us")
						}
					default:
						p.pos -= len(k)
						p.fail("until= or timeout=")
					}
					if p.eat(']') {
						break
					}
					p.expect(',')
				}
			}
		default:
			p.pos -= len(w)
			p.fail("an action preempt, yield, hold or log")
		}
		sfNRules++
		if p.pos == len(p.s) {
			break
		}
		p.expect(',')
	}
	sfEnabled = true
}

type sfParser struct {
	s   string
	pos int
}

func (p *sfParser) fail(what string) {
	found := "end of string"
	if p.pos < len(p.s) {
		found = "'" + p.s[p.pos:] + "'"
	}
	print("GOSCHEDFUZZ: position ", p.pos+1, ": expected ", what, ", found ", found, "\n")
	exit(2)
}

func (p *sfParser) eat(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *sfParser) expect(c byte) {
	if !p.eat(c) {
		p.fail("'" + string(c) + "'")
	}
}

func (p *sfParser) word() string {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] == '_' || 'a' <= p.s[p.pos] && p.s[p.pos] <= 'z' || 'A' <= p.s[p.pos] && p.s[p.pos] <= 'Z') {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *sfParser) number() uint32 {
	start := p.pos
	v := uint32(0)
	for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' && p.pos-start < 9 {
		v = v*10 + uint32(p.s[p.pos]-'0')
		p.pos++
	}
	if p.pos == start {
		p.fail("a number")
	}
	return v
}

func (p *sfParser) site() int32 {
	w := p.word()
	for i := range sfSiteNames {
		if sfSiteNames[i] == w {
			return int32(i)
		}
	}
	p.pos -= len(w)
	p.fail("a site name (template_cas, template_skip, lockosthread, newm_queued, newm_clone, handoffp, startm, stopm, stoplockedm, stw_start, stw_wait, stw_done, gosched, templatethread_run, stopTheWorld_prologue, template_load, mexit)")
	return 0
}

// schedfuzzDump adds the newmHandoff queue to schedtrace's detailed dump
// (the state gort's report names: a queued M and no template thread).
func schedfuzzDump() {
	print("  newmHandoff: haveTemplateThread=", newmHandoff.haveTemplateThread, " waiting=", newmHandoff.waiting, " newm=[")
	for mp := newmHandoff.newm.ptr(); mp != nil; mp = mp.schedlink.ptr() {
		print(" M", mp.id)
	}
	print(" ]\n")
}
