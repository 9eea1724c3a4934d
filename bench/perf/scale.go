package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"servebench/internal/record"
)

// streams has one genload hold many concurrent streams against a slow
// llmsim (so they overlap) and reports genload's peak RSS, the peak number
// of requests in flight seen in its records, and every failure by kind.
func streams(args []string) error {
	fs := flag.NewFlagSet("streams", flag.ContinueOnError)
	bin := fs.String("bin", "bin", "directory of genload and llmsim")
	n := fs.Int("streams", 5000, "concurrent streams (genload -c)")
	waves := fs.Int("waves", 2, "requests per stream slot: genload -n is streams × waves")
	ttft := fs.Duration("ttft", 100*time.Millisecond, "llmsim --ttft")
	itl := fs.Duration("itl", 100*time.Millisecond, "llmsim --itl")
	tokens := fs.Int("max-tokens", 50, "output tokens per request (ignore_eos)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := startSim(filepath.Join(*bin, "llmsim"), "--ttft", ttft.String(), "--itl", itl.String(),
		"--max-num-seqs", strconv.Itoa(*n+1000))
	if err != nil {
		return err
	}
	defer s.Stop()
	out, err := os.CreateTemp("", "servebench-streams-*.jsonl")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	fmt.Fprintf(os.Stderr, "perf: genload -c %d -n %d, %d tokens at ttft %v itl %v (each stream lasts about %v)\n",
		*n, *n**waves, *tokens, *ttft, *itl, *ttft+time.Duration(*tokens-1)**itl)
	cmd := exec.Command(filepath.Join(*bin, "genload"), "--url", s.URL, "--model", s.Model, "--prompt", "hi",
		"-c", strconv.Itoa(*n), "-n", strconv.Itoa(*n**waves), "--max-tokens", strconv.Itoa(*tokens), "--ignore-eos", "--quiet")
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	var res runResult
	if res.usage, err = measureWithSim(cmd, s, &res); err != nil {
		return err
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var spans [][2]time.Time
	kinds := map[string]int{}
	examples := map[string]string{}
	var tokensGot int64
	rd := record.NewReader(out, out.Name())
	for rd.Scan() {
		r := rd.Record()
		if r == nil {
			return rd.BadLine()
		}
		spans = append(spans, [2]time.Time{r.SentAt, r.EndAt()})
		if r.OK {
			res.OK++
			tokensGot += int64(r.OutputTokens)
			continue
		}
		res.Failed++
		kinds[r.ErrorKind]++
		examples[r.ErrorKind] = r.Error
	}
	if err := rd.Err(); err != nil {
		return err
	}
	peak := peakInFlight(spans)
	fmt.Fprintf(os.Stderr, "perf: %d requests, %d failed, peak %d in flight, %d tokens in %.1fs\n",
		res.OK+res.Failed, res.Failed, peak, tokensGot, res.Wall.Seconds())
	for k, c := range kinds {
		fmt.Fprintf(os.Stderr, "perf:   %d %s, e.g. %s\n", c, k, examples[k])
	}
	fmt.Fprintf(os.Stderr, "perf: genload peak RSS %.1f MiB, CPU %.2fs (%.1f µs per token); llmsim CPU %.2fs\n",
		mib(res.MaxRSS), res.CPU().Seconds(), float64(res.CPU().Microseconds())/float64(max(tokensGot, 1)), res.SimCPU.Seconds())
	fmt.Println("streams,requests,failed,peak_in_flight,wall_s,genload_max_rss_mib,genload_cpu_s,genload_cpu_us_per_token,server_cpu_s")
	fmt.Printf("%d,%d,%d,%d,%.2f,%.1f,%.2f,%.2f,%.2f\n", *n, res.OK+res.Failed, res.Failed, peak, res.Wall.Seconds(), mib(res.MaxRSS),
		res.CPU().Seconds(), float64(res.CPU().Microseconds())/float64(max(tokensGot, 1)), res.SimCPU.Seconds())
	if res.Failed > 0 {
		return fmt.Errorf("%d requests failed", res.Failed)
	}
	return nil
}

// peakInFlight is the largest number of [start, end) spans that overlap.
func peakInFlight(spans [][2]time.Time) int {
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(spans))
	for _, s := range spans {
		edges = append(edges, edge{s[0], 1}, edge{s[1], -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if c := edges[i].at.Compare(edges[j].at); c != 0 {
			return c < 0
		}
		return edges[i].delta < edges[j].delta // ends before starts at the same instant
	})
	cur, peak := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

// summarizeScale makes a file of many records from a real genload run and
// times summarize over it, a few times, reporting the median wall time and
// the largest peak RSS.
func summarizeScale(args []string) error {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	bin := fs.String("bin", "bin", "directory of genload, summarize and llmsim")
	n := fs.Int("records", 1_000_000, "records in the file")
	runs := fs.Int("runs", 10, "distinct run_ids the records are spread over")
	tokens := fs.Int("max-tokens", 16, "output tokens of the template run's requests (streaming, ignore_eos): each record has max-tokens - 1 ITL samples")
	rounds := fs.Int("rounds", 3, "summarize runs")
	format := fs.String("format", "text", "summarize --format")
	keep := fs.String("keep", "", "keep the records file here (default: a temporary file, removed)")
	html := fs.Bool("html", false, "also write summarize --html and report the page's size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "servebench-summarize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	template := filepath.Join(dir, "template.jsonl")
	if err := templateRun(*bin, template, *tokens); err != nil {
		return err
	}
	file := *keep
	if file == "" {
		file = filepath.Join(dir, "records.jsonl")
	}
	if err := writeRecords(file, template, *n, *runs); err != nil {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "perf: %d records (%d runs, %d ITL samples each) in %.0f MiB\n", *n, *runs, *tokens-1, mib(st.Size()))
	var walls []float64
	var rss int64
	var cpu []float64
	for i := range *rounds {
		cmdArgs := []string{"--format", *format, file}
		if *html {
			cmdArgs = append(cmdArgs, "--html", filepath.Join(dir, "report.html"))
		}
		cmd := exec.Command(filepath.Join(*bin, "summarize"), cmdArgs...)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		u, err := measure(cmd)
		if err != nil {
			return err
		}
		walls = append(walls, u.Wall.Seconds())
		cpu = append(cpu, u.CPU().Seconds())
		rss = max(rss, u.MaxRSS)
		fmt.Fprintf(os.Stderr, "perf: summarize run %d: %.2fs wall, %.2fs CPU, peak RSS %.0f MiB\n", i+1, u.Wall.Seconds(), u.CPU().Seconds(), mib(u.MaxRSS))
	}
	if *html {
		page, err := os.Stat(filepath.Join(dir, "report.html"))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "perf: summarize --html page of %d records: %d bytes (%.0f KiB)\n", *n, page.Size(), float64(page.Size())/1024)
	}
	fmt.Println("records,file_mib,itl_per_record,runs,wall_s_median,cpu_s_median,max_rss_mib")
	fmt.Printf("%d,%.0f,%d,%d,%.2f,%.2f,%.0f\n", *n, mib(st.Size()), *tokens-1, *runs, median(walls), median(cpu), mib(rss))
	return nil
}

// templateRun records a real streaming run against a zero-delay llmsim.
func templateRun(bin, path string, tokens int) error {
	s, err := startSim(filepath.Join(bin, "llmsim"), "--ttft", "0", "--itl", "0")
	if err != nil {
		return err
	}
	defer s.Stop()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(filepath.Join(bin, "genload"), "--url", s.URL, "--model", s.Model, "-c", "8", "-n", "10000",
		"--max-tokens", strconv.Itoa(tokens), "--ignore-eos", "--label", "template", "--quiet")
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	return cmd.Run()
}

// records writes --records lines made from a template run (see
// writeRecords) to stdout.
func records(args []string) error {
	fs := flag.NewFlagSet("records", flag.ContinueOnError)
	n := fs.Int("records", 1_000_000, "records to write")
	runs := fs.Int("runs", 10, "distinct run_ids the records are spread over")
	template := fs.String("template", "", "a genload output file whose records are repeated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *template == "" {
		return fmt.Errorf("give --template FILE (a genload output)")
	}
	return writeRecords("/dev/stdout", *template, *n, *runs)
}

// writeRecords repeats the template's records n times in all, split into
// runs parts each with its own run_id and seq from 0, so that summarize
// sees distinct runs of real records.
func writeRecords(path, template string, n, runs int) error {
	tf, err := os.Open(template)
	if err != nil {
		return err
	}
	defer tf.Close()
	var tmpl []record.Record
	rd := record.NewReader(tf, template)
	for rd.Scan() {
		if r := rd.Record(); r != nil {
			c := *r
			c.ITLMs = slices.Clone(r.ITLMs)
			tmpl = append(tmpl, c)
		}
	}
	if len(tmpl) == 0 {
		return fmt.Errorf("%s: no records", template)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := record.NewWriter(bw)
	// Each repetition of the template is shifted by its span, so that time
	// moves forward through the file as it would over a long run.
	var first, last time.Time
	for _, r := range tmpl {
		if first.IsZero() || r.ScheduledAt.Before(first) {
			first = r.ScheduledAt
		}
		if end := r.EndAt(); end.After(last) {
			last = end
		}
	}
	span := last.Sub(first) + time.Millisecond
	perRun := (n + runs - 1) / runs
	for i := range n {
		r := tmpl[i%len(tmpl)]
		shift := time.Duration(i/len(tmpl)) * span
		r.ScheduledAt, r.SentAt = r.ScheduledAt.Add(shift), r.SentAt.Add(shift)
		r.RunID = fmt.Sprintf("%s-r%03d", tmpl[0].RunID, i/perRun)
		r.Seq = i % perRun
		if err := w.Write(&r); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
