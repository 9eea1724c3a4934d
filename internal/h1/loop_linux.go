//go:build linux

package h1

import (
	"container/heap"
	"io"
	"iter"
	"net"
	"os"
	"runtime"
	"servebench/internal/kstamp"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Loop reads the answers of many connections on one OS thread, the way a
// C client's epoll loop does: a level-triggered epoll set, one recvmsg per
// socket that is ready, and the code that reads an answer run as a
// coroutine the loop resumes when its socket has bytes. The Go floor
// readers measured why (docs/perf.md, "The streaming floor"): a goroutine
// woken per token through the runtime's poller costs Go's scheduler an
// idle/wake cycle each time (extra epoll_waits, sysmon's wake-ups, a read
// that finds nothing after every token), 1.4-1.6x a C reader's CPU; one
// thread blocking in a raw epoll_wait, out of the scheduler's sight, came
// within 1.13x.
//
// A Loop holds one P of the runtime while it waits (its raw epoll_wait is
// invisible to the scheduler): NewLoop raises GOMAXPROCS to 2 when it is
// lower, so that the other goroutines keep one.
//
// What runs in the loop (Run's function) must not block but on the
// connections' reads: a dial, or a write that has to wait for room, is
// handed to the goroutine that called Run and the coroutine resumed when
// it is done (offload). Everything else the attempt does (parsing,
// timing, building its record) is computation.
type Loop struct {
	ep     int // the epoll set, level-triggered
	wakeR  int // a pipe's read end in the set: posts from other goroutines
	wakeW  int // its write end
	events []syscall.EpollEvent

	mu       sync.Mutex
	incoming []*task // tasks posted to start or resume
	nudged   atomic.Bool
	sleeping atomic.Bool // in (or about to enter) epoll_wait
	closing  atomic.Bool
	stopped  chan struct{}

	// Tasks handed back to Run's goroutines (an operation to run, or
	// done) go through the dispatcher, a goroutine woken by a pipe through
	// the runtime's poller: a goroutine readied by the loop's goroutine
	// itself would wait in the run queue of the P the loop holds (its
	// runnext) until another P stole it, a few microseconds later.
	outMu     sync.Mutex
	outbox    []*task
	outNudged atomic.Bool
	outR      *os.File
	outW      int

	// Owned by the loop's goroutine (and the coroutines it resumes, which
	// run only while it waits for them).
	current  *task
	wakes    atomic.Uint64 // epoll waits that returned (tests: no spinning)
	naps     atomic.Uint64 // naps taken before a wait (SetCoalesce; tests)
	now      time.Time     // when the latest wait returned
	coros    []*coro       // idle coroutines, kept with their grown stacks
	slots    []*task       // by epoll data: the task waiting on that socket
	free     []int32
	timers   timerHeap
	live     int // timer entries that are not stale
	pwait2   bool
	canceled []*atomic.Bool // clients' run ends, for every waiting task
	rbuf     []byte         // pushed streams' receive buffer, shared (pushRead)
	roff     int            // how much of it holds reads not fed yet
	pushed   []pushedRead   // those reads
	warmed   uintptr        // warm's sum: kept, so that its loads are made

	// Coalescing (SetCoalesce): the longest nap before a wait, and how
	// busy the latest window found the loop.
	coalesce  atomic.Int64 // nanoseconds; 0: off
	unstamped atomic.Int32 // open sockets read without the kernel's receive times
	winStart  time.Time
	winEvents int
	busy      bool
}

// wakeSlot is the epoll data of the wake pipe.
const wakeSlot = -1

// NewLoop starts a loop on an OS thread of its own.
func NewLoop() (*Loop, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(ep)
		return nil, os.NewSyscallError("pipe2", err)
	}
	var q [2]int
	if err := syscall.Pipe2(q[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(ep)
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, os.NewSyscallError("pipe2", err)
	}
	l := &Loop{ep: ep, wakeR: p[0], wakeW: p[1], events: make([]syscall.EpollEvent, 512), pwait2: true, stopped: make(chan struct{}),
		rbuf: make([]byte, pushBuffer),
		outR: os.NewFile(uintptr(q[0]), "h1-loop-out"), outW: q[1]}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeSlot}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, l.wakeR, &ev); err != nil {
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	go l.run()
	go l.dispatch()
	return l, nil
}

// task is one Run: its function, run by a coroutine, and what it waits
// for.
type task struct {
	fn   func()
	co   *coro // the coroutine running fn (in the loop)
	slot int32

	waitOn   *loopConn // the socket it waits to read (nil: none)
	op       func()    // a blocking operation for Run's goroutine (nil: none)
	back     chan struct{}
	fnDone   bool        // fn returned (set in the coroutine)
	finished bool        // the loop is done with the task (Run may return)
	conns    []*loopConn // sockets in the epoll set on its behalf
	timerGen uint64
	timerAt  time.Time // the deadline last put on the heap
	// While its body is pushed (Response.Push): the sink the loop hands
	// the bytes to itself, without resuming it.
	ps  Sink
	fed bool // a read of its socket is in rbuf, to be fed (pushRead)
}

var tasks = sync.Pool{New: func() any { return &task{back: make(chan struct{}, 1)} }}

// Run runs fn in the loop and returns when it has returned, running on
// the calling goroutine what fn hands it (offload) meanwhile.
func (l *Loop) Run(fn func()) {
	t := tasks.Get().(*task)
	t.fn, t.finished, t.fnDone, t.op = fn, false, false, nil
	l.post(t)
	for {
		<-t.back
		if t.finished {
			t.fn = nil
			tasks.Put(t)
			return
		}
		t.op()
		t.op = nil
		l.post(t)
	}
}

// post hands t to the loop's goroutine.
func (l *Loop) post(t *task) {
	l.mu.Lock()
	l.incoming = append(l.incoming, t)
	l.mu.Unlock()
	l.nudge()
}

// nudge wakes the loop's goroutine, once until it has looked.
func (l *Loop) nudge() {
	// The pipe is written only when the loop sleeps (or is about to):
	// awake, it looks at nudged before it waits again. Sequentially
	// consistent atomics on both sides (sleeping, then nudged; nudged,
	// then sleeping) make one of the two see the other.
	if l.nudged.CompareAndSwap(false, true) && l.sleeping.Load() {
		one := [1]byte{1}
		_, _ = syscall.Write(l.wakeW, one[:]) // a full pipe is already a wake-up
	}
}

// offload runs op on the goroutine that called Run: from Run's function,
// in the loop.
func (l *Loop) offload(op func()) {
	t := l.current
	t.op = op
	t.co.yield(struct{}{})
}

// Close stops the loop, once every Run has returned.
func (l *Loop) Close() {
	l.closing.Store(true)
	one := [1]byte{1}
	_, _ = syscall.Write(l.wakeW, one[:]) // always: it may be asleep
	<-l.stopped
	syscall.Close(l.ep)
	syscall.Close(l.wakeR)
	syscall.Close(l.wakeW)
	syscall.Close(l.outW) // the dispatcher reads the end and returns
}

// dispatch hands tasks back to Run's goroutines (see outbox).
func (l *Loop) dispatch() {
	defer l.outR.Close()
	var buf [64]byte
	var out []*task
	for {
		if _, err := l.outR.Read(buf[:]); err != nil {
			return
		}
		l.outNudged.Store(false)
		l.outMu.Lock()
		out, l.outbox = l.outbox, out[:0]
		l.outMu.Unlock()
		for _, t := range out {
			t.back <- struct{}{}
		}
		clear(out)
	}
}

// handBack gives t back to its Run's goroutine, through the dispatcher.
func (l *Loop) handBack(t *task) {
	l.outMu.Lock()
	l.outbox = append(l.outbox, t)
	l.outMu.Unlock()
	if l.outNudged.CompareAndSwap(false, true) {
		one := [1]byte{1}
		_, _ = syscall.Write(l.outW, one[:])
	}
}

// run is the loop's goroutine.
func (l *Loop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(l.stopped)
	defer func() {
		for _, co := range l.coros {
			co.stop() // its goroutine ends
		}
	}()
	var incoming []*task
	for !l.closing.Load() {
		n := l.wait()
		l.wakes.Add(1)
		l.now = time.Now()
		l.count(n)
		l.warm(n)
		for _, ev := range l.events[:n] {
			if ev.Fd == wakeSlot {
				var buf [64]byte
				for {
					if k, _ := syscall.Read(l.wakeR, buf[:]); k < len(buf) {
						break
					}
				}
				continue
			}
			if t := l.slots[ev.Fd]; t != nil && t.waitOn != nil {
				if t.ps != nil {
					l.pushRead(t)
				} else {
					l.resume(t)
				}
			}
		}
		l.feedReads()
		if l.nudged.Swap(false) {
			l.mu.Lock()
			incoming, l.incoming = l.incoming, incoming[:0]
			l.mu.Unlock()
			for _, t := range incoming {
				l.resume(t)
			}
			clear(incoming)
			if l.anyCanceled() {
				l.wakeAll()
			}
		}
		l.expire()
	}
}

// warm touches the state of the tasks of n ready events before any is
// handled: independent loads the CPU overlaps, where handling them one by
// one would wait for each miss of cache in turn (a thousand streams' state
// is cold by the time their next token comes).
func (l *Loop) warm(n int) {
	if n < 2 {
		return
	}
	var sum uintptr
	for _, ev := range l.events[:n] {
		if ev.Fd > 0 && int(ev.Fd) < len(l.slots) {
			if t := l.slots[ev.Fd]; t != nil {
				sum += uintptr(unsafe.Pointer(t.waitOn))
			}
		}
	}
	for _, ev := range l.events[:n] {
		if ev.Fd > 0 && int(ev.Fd) < len(l.slots) {
			if t := l.slots[ev.Fd]; t != nil && t.waitOn != nil {
				sum += Touch(unsafe.Pointer(t.waitOn), unsafe.Offsetof(t.waitOn.hot))
			}
		}
	}
	l.warmed = sum
}

// SetCoalesce lets the loop, when busy, nap until d after its latest
// wake-up before it waits again, for each wait to find more sockets ready
// (fewer waits, wake-ups and passes of the loop per token); 0 turns it
// off. Busy is at least 2 events a nap's length, over the latest
// rateWindow: a loop that would find fewer never naps, for a nap then a
// wait would cost it more than the wait alone. A post (Run, a task
// handed back) ends a nap at once, and no nap goes past a task's
// deadline. While any of its sockets reads without the kernel's receive
// times (stampTimes off) the loop does not nap: there the time a byte is
// read is its time.
func (l *Loop) SetCoalesce(d time.Duration) { l.coalesce.Store(int64(max(d, 0))) }

// rateWindow is how long the loop counts events to judge whether it is
// busy enough to nap (SetCoalesce).
const rateWindow = 10 * time.Millisecond

// count adds a wait's n events to the window, and judges it when it is
// over.
func (l *Loop) count(n int) {
	l.winEvents += n
	if el := l.now.Sub(l.winStart); el >= rateWindow {
		l.busy = int64(l.winEvents)*l.coalesce.Load() >= 2*int64(el)
		l.winStart, l.winEvents = l.now, 0
	}
}

// timeout is how long a wait may block: until the nearest deadline of a
// waiting task, or for ever (-1).
func (l *Loop) timeout() time.Duration {
	if len(l.timers) == 0 {
		return -1
	}
	return max(time.Until(l.timers[0].at), 0)
}

// posted tells whether a post or Close came since the loop last looked.
func (l *Loop) posted() bool { return l.nudged.Load() || l.closing.Load() }

// nap sleeps until the coalescing window after the latest wake-up ends,
// the nearest deadline comes or a post wakes the loop, when the loop is
// busy (SetCoalesce). It sleeps in ppoll on the wake pipe alone.
func (l *Loop) nap() {
	c := time.Duration(l.coalesce.Load())
	if c <= 0 || !l.busy || l.unstamped.Load() > 0 {
		return
	}
	for napped := false; ; napped = true {
		d := c - time.Since(l.now)
		if t := l.timeout(); t >= 0 && t < d {
			d = t
		}
		if d <= 0 || l.posted() {
			return
		}
		if !napped {
			l.naps.Add(1)
		}
		pfd := pollfd{fd: int32(l.wakeR), events: pollIn}
		ts := syscall.NsecToTimespec(int64(d))
		r, _, errno := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno != syscall.EINTR && (errno != 0 || r > 0) {
			return // woken (or ppoll failed: the wait does not nap)
		}
		// the end of the nap (r 0), or a signal (the runtime's preemption): nap on
	}
}

// wait is one epoll wait, until the nearest deadline of a waiting task.
func (l *Loop) wait() int {
	l.sleeping.Store(true)
	defer l.sleeping.Store(false)
	if !l.posted() {
		l.nap()
	}
	timeout := l.timeout()
	if l.posted() {
		timeout = 0 // posted meanwhile: look, without sleeping
	}
	for {
		var r uintptr
		var errno syscall.Errno
		if l.pwait2 {
			var ts *syscall.Timespec
			if timeout >= 0 {
				t := syscall.NsecToTimespec(int64(timeout))
				ts = &t
			}
			r, _, errno = syscall.RawSyscall6(sysEpollPwait2, uintptr(l.ep), uintptr(unsafe.Pointer(&l.events[0])),
				uintptr(len(l.events)), uintptr(unsafe.Pointer(ts)), 0, 0)
			if errno == syscall.ENOSYS {
				l.pwait2 = false
				continue
			}
		} else {
			ms := -1
			if timeout >= 0 {
				ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
			}
			r, _, errno = syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.ep), uintptr(unsafe.Pointer(&l.events[0])),
				uintptr(len(l.events)), uintptr(ms), 0, 0)
		}
		switch errno {
		case 0:
			return int(r)
		case syscall.EINTR:
			return 0 // a signal (the runtime's preemption): look at the timers, wait again
		default:
			panic("h1: epoll_wait: " + errno.Error())
		}
	}
}

// sysEpollPwait2 is epoll_pwait2 (Linux 5.11): a timeout in nanoseconds.
// Its number is the same on every architecture.
const sysEpollPwait2 = 441

// resume runs t's coroutine until it waits again, hands an operation out,
// or ends.
func (l *Loop) resume(t *task) {
	if t.co == nil {
		t.co = l.coro()
		t.co.t = t
	}
	t.waitOn = nil
	l.current = t
	t.co.next()
	l.current = nil
	switch {
	case t.fnDone:
		l.finish(t)
	case t.op != nil:
		// Its sockets leave the epoll set while the operation runs: one
		// that became readable would otherwise wake the loop again and
		// again (level-triggered) for a task that cannot read.
		l.unwatch(t, nil)
		l.handBack(t)
	case t.waitOn != nil:
		l.watch(t, t.waitOn)
	}
}

// coro is a coroutine that runs the functions of task after task, kept
// between them so that its stack, grown once, stays grown.
type coro struct {
	t     *task
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
}

// coro is an idle coroutine, or a new one.
func (l *Loop) coro() *coro {
	if n := len(l.coros); n > 0 {
		co := l.coros[n-1]
		l.coros = l.coros[:n-1]
		return co
	}
	co := &coro{}
	co.next, co.stop = iter.Pull(co.seq)
	return co
}

func (co *coro) seq(yield func(struct{}) bool) {
	co.yield = yield
	for {
		co.t.fn()
		co.t.fnDone = true
		if !yield(struct{}{}) {
			return
		}
	}
}

// unwatch takes t's sockets but keep out of the epoll set.
func (l *Loop) unwatch(t *task, keep *loopConn) {
	kept := t.conns[:0]
	for _, c := range t.conns {
		switch {
		case c == keep && c.slot == t.slot:
			kept = append(kept, c)
		case c.slot == t.slot:
			if !c.closed {
				_ = syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_DEL, c.fd, nil)
			}
			c.slot = 0
		}
	}
	clear(t.conns[len(kept):])
	t.conns = kept
}

// watch puts c in the epoll set for t, and t's deadline on the heap.
//
// A socket whose slot is its task's is in the task's conns (watch adds it
// there as it sets the slot; unwatch, which drops it, clears the slot,
// and finish unwatches all before the slot is reused): so a task with one
// socket, the one it watches again, needs no look at that list (a miss of
// cache per token, at scale).
func (l *Loop) watch(t *task, c *loopConn) {
	if len(t.conns) > 1 || len(t.conns) == 1 && (c.slot != t.slot || t.slot == 0) && t.conns[0] != c {
		l.unwatch(t, c) // a socket it no longer reads must not wake it
	}
	if t.slot == 0 {
		t.slot = l.slot(t)
	}
	if c.slot != t.slot {
		op := syscall.EPOLL_CTL_ADD
		if c.slot != 0 {
			op = syscall.EPOLL_CTL_MOD
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: t.slot}
		if err := syscall.EpollCtl(l.ep, op, c.fd, &ev); err != nil {
			c.werr = os.NewSyscallError("epoll_ctl", err)
			l.resume(t) // its read reports the error
			return
		}
		c.slot = t.slot
		t.conns = append(t.conns, c)
	}
	if at := c.rdeadline; !at.IsZero() && !at.After(l.now) {
		c.expired = true
		l.resume(t) // its read fails
		return
	}
	if at := c.rdeadline; !at.IsZero() && !at.Equal(t.timerAt) {
		if !t.timerAt.IsZero() {
			l.live-- // the entry it had is stale now
		}
		t.timerGen++
		t.timerAt = at
		heap.Push(&l.timers, timer{at: at, t: t, gen: t.timerGen})
		l.live++
	}
}

// slot is t's index in the epoll data (1-based: 0 is none).
func (l *Loop) slot(t *task) int32 {
	if n := len(l.free); n > 0 {
		s := l.free[n-1]
		l.free = l.free[:n-1]
		l.slots[s] = t
		return s
	}
	if len(l.slots) == 0 {
		l.slots = append(l.slots, nil)
	}
	l.slots = append(l.slots, t)
	return int32(len(l.slots) - 1)
}

// finish takes an ended task out of the loop and tells Run.
func (l *Loop) finish(t *task) {
	l.unwatch(t, nil)
	if t.slot != 0 {
		l.slots[t.slot] = nil
		l.free = append(l.free, t.slot)
		t.slot = 0
	}
	if !t.timerAt.IsZero() {
		t.timerGen++ // its heap entry is stale
		t.timerAt = time.Time{}
		l.live--
	}
	t.co.t = nil
	l.coros = append(l.coros, t.co)
	t.co, t.waitOn = nil, nil
	t.finished = true
	l.handBack(t)
}

// expire resumes the tasks whose deadline passed: their reads fail.
func (l *Loop) expire() {
	now := time.Now()
	l.now = now
	for len(l.timers) > 0 && !l.timers[0].at.After(now) {
		e := heap.Pop(&l.timers).(timer)
		if e.gen != e.t.timerGen {
			continue
		}
		e.t.timerAt = time.Time{}
		l.live--
		if c := e.t.waitOn; c != nil && !c.rdeadline.After(now) {
			c.expired = true
			l.resume(e.t)
		}
	}
	// Entries of ended tasks stay on the heap until their time: rebuild
	// it when most are stale.
	if len(l.timers) > 4096 && len(l.timers) > 4*l.live {
		kept := l.timers[:0]
		for _, e := range l.timers {
			if e.gen == e.t.timerGen {
				kept = append(kept, e)
			}
		}
		clear(l.timers[len(kept):])
		l.timers = kept
		heap.Init(&l.timers)
	}
}

// wakeAll resumes every waiting task, after a client's run ended: their
// reads fail.
func (l *Loop) wakeAll() {
	for _, t := range l.slots {
		if t != nil && t.waitOn != nil && t.waitOn.canceled.Load() {
			l.resume(t)
		}
	}
}

func (l *Loop) anyCanceled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.canceled {
		if c.Load() {
			return true
		}
	}
	return false
}

// watchRun makes the end of run fail every read of the client's sockets.
func (l *Loop) watchRun(canceled *atomic.Bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.canceled {
		if c == canceled {
			return
		}
	}
	l.canceled = append(l.canceled, canceled)
}

type timer struct {
	at  time.Time
	t   *task
	gen uint64
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return e
}

// loopConn is a TCP connection read by a Loop: the socket, taken from the
// runtime's poller (a descriptor of its own, the net.TCPConn closed), so
// that its readiness reaches the loop alone. Reads are recvmsg with the
// kernel's receive times, as kstamp.Conn's; errors are worded as
// net.TCPConn words them.
type loopConn struct {
	// What a pushed token touches first, together (warm touches these
	// lines ahead: up to hot).
	fd         int
	canceled   *atomic.Bool // the client's run ended
	slot       int32        // owned by the task using the connection (in the loop)
	mayRead    bool         // a read may find bytes without waiting
	expired    bool         // the read deadline passed
	closed     bool
	stampTimes bool
	werr       error // the loop could not watch the socket
	reads      uint64
	arrived    time.Time
	chunks     chunks // a pushed body's framing (Response.Push)
	rdeadline  time.Time
	msg        syscall.Msghdr
	iov        syscall.Iovec
	oob        [oobSize]byte // kstamp.OOBSize of it (init checks)
	hot        struct{}

	loop         *Loop
	laddr, raddr net.Addr
	wdeadline    time.Time
	// What a pushed read got that the sink did not take (pushRead): read
	// before the socket, as a buffer's bytes are; then its error.
	pend    []byte
	poff    int
	pendErr syscall.Errno
}

// adopt takes tc's socket into the loop.
func (l *Loop) adopt(tc *net.TCPConn, stampTimes bool, canceled *atomic.Bool) (*loopConn, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = dupCloexec(int(s)) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("dup", derr)
	}
	c := &loopConn{loop: l, fd: fd, laddr: tc.LocalAddr(), raddr: tc.RemoteAddr(), canceled: canceled, mayRead: true}
	tc.Close() // the duplicate keeps the socket; the poller lets go of it
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	if stampTimes && kstamp.Enable(fd) == nil {
		c.stampTimes = true
	} else {
		l.unstamped.Add(1)
	}
	return c, nil
}

func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// Read reads as net.TCPConn's Read does, waiting by yielding to the loop:
// it must be called in Loop.Run (the loop's connections are read there
// alone).
func (c *loopConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.poff < len(c.pend) && !c.closed {
		n := copy(p, c.pend[c.poff:])
		if c.poff += n; c.poff == len(c.pend) {
			c.pend, c.poff = c.pend[:0], 0
		}
		return n, nil
	}
	if err := c.pendErr; err != 0 && !c.closed {
		c.pendErr = 0
		return 0, c.opError("read", os.NewSyscallError("read", err))
	}
	for {
		if err := c.readable(); err != nil {
			return 0, err
		}
		if c.mayRead {
			n, err := c.recv(p)
			if err != syscall.EAGAIN {
				if err != nil {
					return 0, c.opError("read", os.NewSyscallError("read", err))
				}
				if n == 0 {
					return 0, io.EOF
				}
				c.mayRead = n == len(p) // else the socket was emptied: wait for the next bytes
				return n, nil
			}
			c.mayRead = false
		}
		t := c.loop.current
		t.waitOn = c
		t.co.yield(struct{}{})
		c.mayRead = true
	}
}

// readable is why a read cannot be made: closed, past its deadline, the
// run ended, the socket not watched.
func (c *loopConn) readable() error {
	switch {
	case c.closed:
		return c.opError("read", net.ErrClosed)
	case c.werr != nil:
		return c.opError("read", c.werr)
	case c.expired || c.canceled.Load():
		return c.opError("read", os.ErrDeadlineExceeded)
	}
	return nil
}

// recv is one non-blocking recvmsg into p, noting when its bytes arrived.
func (c *loopConn) recv(p []byte) (int, error) {
	c.iov.Base = &p[0]
	c.iov.SetLen(len(p))
	c.msg.Iov = &c.iov
	c.msg.Iovlen = 1
	if c.stampTimes {
		c.msg.Control = &c.oob[0]
		c.msg.SetControllen(kstamp.OOBSize)
	}
	for {
		r, _, errno := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.msg)), syscall.MSG_DONTWAIT)
		if errno == syscall.EINTR {
			continue
		}
		c.iov.Base, c.msg.Iov, c.msg.Control = nil, nil, nil
		if errno != 0 {
			return 0, errno
		}
		n := int(r)
		if n > 0 {
			c.reads++
			c.arrived = time.Time{}
			if c.stampTimes {
				c.arrived = kstamp.Since(c.oob[:c.msg.Controllen], c.loop.now)
			}
		}
		return n, nil
	}
}

// Write writes p whole, as net.TCPConn's Write does; a wait for room in
// the socket is handed out of the loop.
func (c *loopConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		if c.closed {
			return written, c.opError("write", net.ErrClosed)
		}
		if c.canceled.Load() || !c.wdeadline.IsZero() && !time.Now().Before(c.wdeadline) {
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		n, err := syscall.Write(c.fd, p[written:])
		switch err {
		case nil:
			written += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			var perr error
			c.loop.offload(func() { perr = pollFD(c.fd, syscall.EPOLLOUT, c.wdeadline) })
			if perr != nil && perr != os.ErrDeadlineExceeded {
				return written, c.opError("write", perr)
			}
			continue
		}
		return written, c.opError("write", os.NewSyscallError("write", err))
	}
	return written, nil
}

// pollIn is POLLIN.
const pollIn = 0x1

// pollfd is ppoll's struct pollfd.
type pollfd struct {
	fd             int32
	events, revent int16
}

// pollFD waits until fd is ready for events or deadline passes
// (os.ErrDeadlineExceeded), with ppoll.
func pollFD(fd int, events uint32, deadline time.Time) error {
	pfd := pollfd{fd: int32(fd), events: int16(events)}
	for {
		var ts *syscall.Timespec
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			t := syscall.NsecToTimespec(int64(left))
			ts = &t
		}
		_, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
		switch errno {
		case 0:
			if pfd.revent != 0 {
				return nil
			}
		case syscall.EINTR:
		default:
			return os.NewSyscallError("ppoll", errno)
		}
	}
}

func (c *loopConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.laddr, Addr: c.raddr, Err: err}
}

// Close closes the socket; closing it takes it out of the epoll set.
func (c *loopConn) Close() error {
	if c.closed {
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	if !c.stampTimes {
		c.loop.unstamped.Add(-1)
	}
	return syscall.Close(c.fd)
}

func (c *loopConn) LocalAddr() net.Addr  { return c.laddr }
func (c *loopConn) RemoteAddr() net.Addr { return c.raddr }

func (c *loopConn) SetDeadline(t time.Time) error {
	c.wdeadline = t
	return c.SetReadDeadline(t)
}

// SetReadDeadline sets the deadline of reads; one in the past fails them
// at once, as with net.TCPConn.
func (c *loopConn) SetReadDeadline(t time.Time) error {
	c.rdeadline = t
	c.expired = !t.IsZero() && !t.After(time.Now())
	return nil
}

func (c *loopConn) SetWriteDeadline(t time.Time) error { c.wdeadline = t; return nil }

// peerOpen is conn.peerOpen for a socket of the loop.
func (c *loopConn) peerOpen() bool {
	if c.poff < len(c.pend) || c.pendErr != 0 {
		return false // the server said more than its answer
	}
	var buf [1]byte
	_, _, err := syscall.Recvfrom(c.fd, buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN
}

// loopPeer is peerOpen for a socket of a Loop (ok false: nc is not one).
func loopPeer(nc net.Conn) (open, ok bool) {
	c, isLoop := nc.(*loopConn)
	if !isLoop {
		return false, false
	}
	return c.peerOpen(), true
}

// dialLoop dials for a client whose reads go to l: the dial itself on
// Run's goroutine, then the socket adopted.
func (l *Loop) dialLoop(dial func() (net.Conn, error), stampTimes bool, canceled *atomic.Bool) (net.Conn, error) {
	var nc net.Conn
	var err error
	l.offload(func() {
		if nc, err = dial(); err != nil {
			return
		}
		tc, ok := nc.(*net.TCPConn)
		if !ok {
			return // not TCP: read as it is
		}
		nc, err = l.adopt(tc, stampTimes, canceled)
	})
	return nc, err
}

// pushBuffer is the size of the loop's receive buffer for pushed streams.
const pushBuffer = 64 << 10

func pushable(nc net.Conn) bool {
	c, ok := nc.(*loopConn)
	return ok && c.poff == len(c.pend) && c.pendErr == 0
}

// pushLoop is Push's wait, in Run's function: the task waits on its
// socket as a read does, but the loop hands what arrives to s itself
// (pushRead), and resumes the task only when that is over.
func pushLoop(nc net.Conn, s Sink) {
	c := nc.(*loopConn)
	t := c.loop.current
	t.ps = s
	t.waitOn = c
	t.co.yield(struct{}{})
	t.ps = nil
	c.mayRead = true
}

// decoder is the chunk decoder of a pushed connection.
func decoder(nc net.Conn) *chunks { return &nc.(*loopConn).chunks }

// pushRead reads a pushed task's socket into the loop's buffer and feeds
// the bytes to its sink; the task is resumed when the push is over: the
// sink or the decoder stopped (what they did not take is kept for the
// task's reads), the stream ended or failed (its reads see that), or the
// connection cannot be read (readable).
//
// The reads of a wait's ready sockets are made first, one after another
// into the buffer, and fed after (feedReads): the kernel's receive path
// and the parser each run with their code and data warm, and the sinks'
// state, warmed together just before they are fed, is not evicted by the
// syscalls in between.
func (l *Loop) pushRead(t *task) {
	c := t.waitOn
	if t.fed {
		return // a read of it waits to be fed: its socket, still ready, is read after the next wait
	}
	if c.readable() != nil {
		l.resume(t)
		return
	}
	if len(l.rbuf)-l.roff < minPushRoom {
		l.feedReads()
	}
	n, err := c.recv(l.rbuf[l.roff:])
	switch {
	case err == syscall.EAGAIN:
		return
	case err != nil:
		c.pendErr = err.(syscall.Errno)
		l.resume(t)
		return
	case n == 0: // the end: the task's read finds it again
		l.resume(t)
		return
	}
	t.fed = true
	l.pushed = append(l.pushed, pushedRead{t: t, off: l.roff, n: n})
	l.roff += n
}

// pushedRead is a read of pushRead, to be fed.
type pushedRead struct {
	t      *task
	off, n int // its bytes in rbuf
}

// minPushRoom is the least room in rbuf a pushed read is made with: less
// is fed first (a read that fills its room is made again after the next
// wait, its socket still ready).
const minPushRoom = 4 << 10

// feedClockReads is how many reads of a pass feedReads times with one
// reading of the clock: a chunk's read lag is understated by at most the
// time it takes to feed that many (tens of microseconds, against the
// millisecond of lag that makes summarize warn).
const feedClockReads = 16

// feedReads feeds the reads pushRead made to their sinks, and empties
// rbuf.
func (l *Loop) feedReads() {
	if len(l.pushed) > 1 {
		for _, r := range l.pushed {
			r.t.ps.Warm()
		}
	}
	var now time.Time
	for i, r := range l.pushed {
		if i%feedClockReads == 0 {
			now = time.Now()
		}
		t, c := r.t, r.t.waitOn
		t.fed = false
		b := l.rbuf[r.off : r.off+r.n]
		took, more := c.chunks.feed(b, t.ps, c.arrived, now, c.reads)
		if !more {
			c.pend, c.poff = append(c.pend[:0], b[took:]...), 0
			l.resume(t)
			continue
		}
		l.watch(t, c) // the sink may have moved the read deadline (FirstContent)
	}
	clear(l.pushed)
	l.pushed, l.roff = l.pushed[:0], 0
}

// oobSize is room for recvmsg's control message in a loopConn, inline:
// one cache line fewer to touch per read than a buffer of its own.
const oobSize = 64

func init() {
	if kstamp.OOBSize > oobSize {
		panic("h1: oobSize is smaller than kstamp.OOBSize")
	}
}
