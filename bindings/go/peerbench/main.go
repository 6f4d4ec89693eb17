// Command peerbench measures the mantis Go binding against Go's own embedded stores (bbolt, badger
// v2, goleveldb and lmdb-go) on the same data: random Get, Put, batched Put and a 100-key prefix
// scan, at 1 and GOMAXPROCS goroutines; and the binding's own overhead against an empty cgo call.
//
// Each store runs alone in a child process (one process per store and run, so no store's heap or
// background goroutines weigh on another's figures); the runs go round-robin over the stores, so a
// burst of outside load hits neighbouring stores alike. The parent prints the median of the runs and
// their range. bindings/go/peerbench/run.sh builds mantis and this program and runs it.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	keySize   = 16
	valueSize = 100
	scanKeys  = 100 // keys under one scan prefix: the prefix is a key's first 14 bytes
	prefixLen = keySize - 2
	loadBatch = 1000
)

var (
	flagStores  = flag.String("stores", strings.Join(storeNames, ","), "stores to run, in this order")
	flagKeys    = flag.Int("keys", 1000000, "keys loaded into each store (rounded up to a multiple of 100)")
	flagSeconds = flag.Float64("seconds", 1, "seconds per timed phase")
	flagRuns    = flag.Int("runs", 3, "runs of every store (the table gives the median and the range)")
	flagBatch   = flag.Int("batch", 100, "keys per batched Put")
	flagDir     = flag.String("dir", "/var/tmp", "where the stores' scratch directories go (use a real disk, not tmpfs)")
	flagQuick   = flag.Bool("quick", false, "smoke run: 2000 keys, 0.05 s phases, 1 run, small overhead loops (checks, not figures)")
	flagJSON    = flag.String("json", "", "also write every run's results to this file (JSON lines)")
	flagChild   = flag.String("child", "", "internal: run this one store and print JSON lines")
)

// result is one measured phase of one store in one run (a JSON line from a child).
type result struct {
	Kind    string  `json:"kind"` // "phase", "overhead" or "info"
	Store   string  `json:"store"`
	Run     int     `json:"run"`
	Phase   string  `json:"phase"`
	Threads int     `json:"threads"`
	Ops     int64   `json:"ops"`     // operations (keys for batch, scans for scan)
	Seconds float64 `json:"seconds"` // wall time of the phase
	NsPerOp float64 `json:"ns_per_op,omitempty"`
	Text    string  `json:"text,omitempty"`
}

func (r result) rate() float64 { return float64(r.Ops) / r.Seconds }

func main() {
	flag.Parse()
	if *flagQuick {
		setIfUnset("keys", "2000")
		setIfUnset("seconds", "0.05")
		setIfUnset("runs", "1")
	}
	*flagKeys = (*flagKeys + scanKeys - 1) / scanKeys * scanKeys
	if *flagChild != "" {
		if err := child(*flagChild); err != nil {
			fmt.Fprintf(os.Stderr, "peerbench %s: %v\n", *flagChild, err)
			os.Exit(1)
		}
		return
	}
	if err := parent(); err != nil {
		fmt.Fprintf(os.Stderr, "peerbench: %v\n", err)
		os.Exit(1)
	}
}

func setIfUnset(name, value string) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if !set {
		_ = flag.Set(name, value)
	}
}

// ---- the parent: runs the children, prints the tables ----

func parent() error {
	stores := strings.Split(*flagStores, ",")
	for _, s := range stores {
		if !contains(storeNames, s) {
			return fmt.Errorf("unknown store %q (known: %s)", s, strings.Join(storeNames, ","))
		}
	}
	var all []result
	var jsonOut *os.File
	if *flagJSON != "" {
		f, err := os.Create(*flagJSON)
		if err != nil {
			return err
		}
		defer f.Close()
		jsonOut = f
	}
	fmt.Printf("peerbench: %d keys of %d bytes, %d-byte values, loaded in random order; %d-key batches; "+
		"%d-key prefix scans; %.2g s per phase; goroutines 1 and %d (GOMAXPROCS); %d run(s); %s\n",
		*flagKeys, keySize, valueSize, *flagBatch, scanKeys, *flagSeconds, runtime.GOMAXPROCS(0), *flagRuns, runtime.Version())
	for run := 1; run <= *flagRuns; run++ {
		for _, s := range stores {
			fmt.Fprintf(os.Stderr, "-- run %d/%d: %s\n", run, *flagRuns, s)
			rs, err := runChild(s, run)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if jsonOut != nil {
					line, _ := json.Marshal(r)
					fmt.Fprintf(jsonOut, "%s\n", line)
				}
			}
			all = append(all, rs...)
		}
	}
	report(stores, all)
	return nil
}

func runChild(store string, run int) ([]result, error) {
	args := []string{"-child", store}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "child" && f.Name != "json" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s (run %d): %v", store, run, err)
	}
	var rs []result
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: bad line %q: %v", store, sc.Text(), err)
		}
		r.Run = run
		rs = append(rs, r)
	}
	return rs, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- a child: one store, every phase ----

// keyTable holds every key back to back; key i is "key:" and i in 12 zero-padded digits, so the
// first 14 bytes of key i name the 100 keys of its hundred.
type keyTable struct {
	bytes []byte
	keys  [][]byte
}

func newKeyTable(n int) *keyTable {
	t := &keyTable{bytes: make([]byte, 0, n*keySize), keys: make([][]byte, n)}
	for i := 0; i < n; i++ {
		t.bytes = append(t.bytes, fmt.Sprintf("key:%012d", i)...)
	}
	for i := range t.keys {
		t.keys[i] = t.bytes[i*keySize : (i+1)*keySize : (i+1)*keySize]
	}
	return t
}

// rng is splitmix64: each worker of each phase has its own seed, the same whatever the store.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// fillValue makes a value whose first 16 bytes repeat its key, so that every read can be checked.
func fillValue(buf, key []byte) []byte {
	copy(buf, key)
	for i := keySize; i < valueSize; i++ {
		buf[i] = byte('a' + i%26)
	}
	return buf[:valueSize]
}

func goodValue(key, v []byte) bool { return len(v) == valueSize && bytes.Equal(v[:keySize], key) }

func emit(r result) {
	line, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", line)
}

func child(name string) error {
	dir, err := os.MkdirTemp(*flagDir, "mantis-peerbench-"+name+"-")
	if err != nil {
		return err
	}
	defer removeAll(dir)
	st, err := openStore(name, dir)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	emit(result{Kind: "info", Store: name, Text: st.settings()})
	n := *flagKeys
	table := newKeyTable(n)

	// The load: every key once, in a fixed shuffled order, in batches of 1000 on one goroutine.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	shuffle := rng{s: 42}
	for i := n - 1; i > 0; i-- {
		j := shuffle.intn(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	w, err := st.newWorker()
	if err != nil {
		return err
	}
	start := time.Now()
	keys := make([][]byte, 0, loadBatch)
	values := make([][]byte, loadBatch)
	for i := range values {
		values[i] = make([]byte, valueSize)
	}
	for i := 0; i < n; i += loadBatch {
		keys = keys[:0]
		for j := i; j < n && j < i+loadBatch; j++ {
			k := table.keys[order[j]]
			fillValue(values[len(keys)], k)
			keys = append(keys, k)
		}
		if err := w.batchPut(keys, values[:len(keys)]); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	emit(result{Kind: "phase", Store: name, Phase: "load", Threads: 1, Ops: int64(n), Seconds: time.Since(start).Seconds()})
	// Every key is there, with its value.
	for i := 0; i < n; i += 1 + n/5000 {
		v, err := w.get(table.keys[i])
		if err != nil || !goodValue(table.keys[i], v) {
			return fmt.Errorf("after the load, key %s: %q, %v", table.keys[i], v, err)
		}
	}
	w.done()

	threads := []int{1}
	if p := runtime.GOMAXPROCS(0); p > 1 {
		threads = append(threads, p)
	}
	for _, ph := range phases {
		for _, t := range threads {
			r, err := runPhase(st, table, ph, t)
			if err != nil {
				return fmt.Errorf("%s @%d: %w", ph.name, t, err)
			}
			r.Store = name
			emit(r)
		}
	}
	if ms, ok := st.(*mantisStore); ok {
		if err := measureOverhead(ms.db, table); err != nil {
			return fmt.Errorf("overhead: %w", err)
		}
	}
	return st.close()
}

// phase is one timed workload: op runs one operation (a batch counts its keys) on worker w.
type phase struct {
	name string
	op   func(w worker, t *keyTable, r *rng, s *scratch) (int, error)
}

// scratch is a worker's reusable memory, so that the loop allocates only what the stores do.
type scratch struct {
	value  []byte
	keys   [][]byte
	values [][]byte
}

func newScratch() *scratch {
	s := &scratch{value: make([]byte, valueSize), keys: make([][]byte, *flagBatch), values: make([][]byte, *flagBatch)}
	for i := range s.values {
		s.values[i] = make([]byte, valueSize)
	}
	return s
}

var phases = []phase{
	{"get", func(w worker, t *keyTable, r *rng, s *scratch) (int, error) {
		k := t.keys[r.intn(len(t.keys))]
		v, err := w.get(k)
		if err != nil {
			return 0, err
		}
		if !goodValue(k, v) {
			return 0, fmt.Errorf("get %s returned %q", k, v)
		}
		return 1, nil
	}},
	{"scan", func(w worker, t *keyTable, r *rng, s *scratch) (int, error) {
		first := r.intn(len(t.keys)/scanKeys) * scanKeys
		prefix := t.keys[first][:prefixLen]
		count, bad := 0, false
		err := w.scanPrefix(prefix, func(k, v []byte) {
			bad = bad || !goodValue(k, v) || !bytes.Equal(k, t.keys[first+count])
			count++
		})
		if err != nil {
			return 0, err
		}
		if bad || count != scanKeys {
			return 0, fmt.Errorf("scan of %q: %d keys (want %d), bad entry: %v", prefix, count, scanKeys, bad)
		}
		return 1, nil
	}},
	{"put", func(w worker, t *keyTable, r *rng, s *scratch) (int, error) {
		k := t.keys[r.intn(len(t.keys))]
		return 1, w.put(k, fillValue(s.value, k))
	}},
	{"batch", func(w worker, t *keyTable, r *rng, s *scratch) (int, error) {
		for i := range s.keys {
			s.keys[i] = t.keys[r.intn(len(t.keys))]
			fillValue(s.values[i], s.keys[i])
		}
		return len(s.keys), w.batchPut(s.keys, s.values)
	}},
}

// runPhase runs ph on `threads` goroutines for --seconds, all released together.
func runPhase(st store, t *keyTable, ph phase, threads int) (result, error) {
	runtime.GC()
	workers := make([]worker, threads)
	for i := range workers {
		w, err := st.newWorker()
		if err != nil {
			return result{}, err
		}
		workers[i] = w
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	release := make(chan struct{})
	counts := make([]int64, threads)
	errs := make([]error, threads)
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := &rng{s: uint64(1000*len(ph.name) + 7*i + threads)}
			s := newScratch()
			<-release
			for !stop.Load() {
				n, err := ph.op(workers[i], t, r, s)
				if err != nil {
					errs[i] = err
					stop.Store(true)
					return
				}
				counts[i] += int64(n)
			}
		}(i)
	}
	start := time.Now()
	close(release)
	timer := time.AfterFunc(time.Duration(*flagSeconds*float64(time.Second)), func() { stop.Store(true) })
	wg.Wait()
	elapsed := time.Since(start)
	timer.Stop()
	for _, w := range workers {
		w.done()
	}
	var total int64
	for i := range counts {
		if errs[i] != nil {
			return result{}, errs[i]
		}
		total += counts[i]
	}
	return result{Kind: "phase", Phase: ph.name, Threads: threads, Ops: total, Seconds: elapsed.Seconds()}, nil
}

// ---- the report ----

var phaseTitles = map[string]string{
	"get":   "Get (random key, value copied)",
	"put":   "Put (random key, overwrite)",
	"batch": "batched Put (keys/s)",
	"scan":  "prefix scan, 100 keys (scans/s)",
	"load":  "load (keys/s, batches of 1000)",
}

type cell struct{ runs map[int]float64 } // run -> rate

func (c cell) values() []float64 {
	var vs []float64
	for _, v := range c.runs {
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	return vs
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fK", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func (c cell) String() string {
	vs := c.values()
	if len(vs) == 0 {
		return "-"
	}
	if len(vs) == 1 {
		return human(vs[0])
	}
	return fmt.Sprintf("%s (%s-%s)", human(median(vs)), human(vs[0]), human(vs[len(vs)-1]))
}

type rowKey struct {
	phase   string
	threads int
}

func report(stores []string, all []result) {
	cells := map[rowKey]map[string]*cell{}
	var rows []rowKey
	settings := map[string]string{}
	var overhead []result
	for _, r := range all {
		switch r.Kind {
		case "info":
			settings[r.Store] = r.Text
		case "overhead":
			overhead = append(overhead, r)
		case "phase":
			k := rowKey{r.Phase, r.Threads}
			if cells[k] == nil {
				cells[k] = map[string]*cell{}
				rows = append(rows, k)
			}
			if cells[k][r.Store] == nil {
				cells[k][r.Store] = &cell{runs: map[int]float64{}}
			}
			cells[k][r.Store].runs[r.Run] = r.rate()
		}
	}
	order := map[string]int{"get": 0, "put": 1, "batch": 2, "scan": 3, "load": 4}
	sort.SliceStable(rows, func(i, j int) bool {
		if order[rows[i].phase] != order[rows[j].phase] {
			return order[rows[i].phase] < order[rows[j].phase]
		}
		return rows[i].threads < rows[j].threads
	})

	fmt.Printf("\nops/s, median of the runs (low-high):\n\n| operation | goroutines | %s |\n|---|---|%s\n",
		strings.Join(stores, " | "), strings.Repeat("---|", len(stores)))
	for _, k := range rows {
		line := fmt.Sprintf("| %s | %d |", phaseTitles[k.phase], k.threads)
		for _, s := range stores {
			c := cells[k][s]
			if c == nil {
				line += " - |"
			} else {
				line += " " + c.String() + " |"
			}
		}
		fmt.Println(line)
	}

	if contains(stores, "mantis") {
		fmt.Printf("\nTargets (mantis / peer: median of the per-run ratios, low-high):\n\n")
		target := func(what, phase, peer string, want float64) {
			for _, t := range []int{1, runtime.GOMAXPROCS(0)} {
				row := cells[rowKey{phase, t}]
				if row == nil || row["mantis"] == nil || row[peer] == nil {
					continue
				}
				var ratios []float64
				for run, m := range row["mantis"].runs {
					if p, ok := row[peer].runs[run]; ok && p > 0 {
						ratios = append(ratios, m/p)
					}
				}
				sort.Float64s(ratios)
				if len(ratios) == 0 {
					continue
				}
				verdict := "MET"
				if median(ratios) < want {
					verdict = "MISSED"
				}
				fmt.Printf("- %s @%d: %.2fx (%.2f-%.2f) vs %.1fx wanted: %s\n", what, t, median(ratios), ratios[0],
					ratios[len(ratios)-1], want, verdict)
			}
		}
		target("Get >= lmdb-go", "get", "lmdb", 1)
		target("Get >= 2x badger", "get", "badger", 2)
		target("batched Put >= badger WriteBatch", "batch", "badger", 1)
		target("prefix scan >= bbolt cursor", "scan", "bbolt", 1)
	}
	if len(overhead) > 0 {
		reportOverhead(overhead)
	}
	fmt.Printf("\nSettings:\n")
	for _, s := range stores {
		fmt.Printf("- %s: %s\n", s, settings[s])
	}
}
