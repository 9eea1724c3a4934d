package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/gocarina/gocsv"

	"servebench/internal/stats"
	"servebench/internal/summary"
)

// sliceColumns names the columns of summarize --slice's rows: the group,
// the slice, its counts and rates, mean and percentiles of TTFT, ITL and
// latency, and the server gauges' means in the slice.
func sliceColumns(ps []float64) []string {
	cols := []string{"run_id", "label", "concurrency", "rate", "model", "slice", "start_s", "length_s",
		"finished", "ok", "failed", "req_per_s", "output_tok_per_s"}
	for _, m := range summary.SliceMetrics {
		cols = append(cols, m.Key()+"_mean_ms")
		for _, p := range ps {
			cols = append(cols, m.Key()+"_"+percentileKey(p)+"_ms")
		}
	}
	return append(cols, "server_running_mean", "server_waiting_mean", "server_kv_cache_usage_mean")
}

// sliceCell is one cell of a slice row: text, or a number (nil for text).
type sliceCell struct {
	text string
	num  *float64
}

func sliceCells(sl *summary.Slice, ps []float64) []sliceCell {
	t := func(s string) sliceCell { return sliceCell{text: s} }
	n := func(v float64) sliceCell { return sliceCell{num: &v} }
	cells := []sliceCell{t(sl.RunID), t(sl.Label), n(float64(sl.Concurrency)), n(sl.Rate), t(sl.Model), n(float64(sl.Index)),
		n(sl.StartS), n(sl.LengthS), n(float64(sl.Finished)), n(float64(sl.OK)), n(float64(sl.Failed)), n(sl.ReqPerS), n(sl.OutputTokPerS)}
	for _, m := range summary.SliceMetrics {
		vs := metricValues(sl.Metric(m), len(ps))
		cells = append(cells, n(vs[0]))
		for _, v := range vs[len(statNames):] {
			cells = append(cells, n(v))
		}
	}
	return append(cells, n(sl.ServerRunning), n(sl.ServerWaiting), n(sl.ServerKVCacheUsage))
}

// sliceCounts are the slice columns written as integers.
var sliceCounts = map[string]bool{"concurrency": true, "slice": true, "finished": true, "ok": true, "failed": true}

// WriteSlicesCSV writes a header and one row per slice.
func WriteSlicesCSV(w io.Writer, rep *summary.Report) error {
	var buf bytes.Buffer
	cw := gocsv.NewSafeCSVWriter(csv.NewWriter(&buf))
	cols := sliceColumns(rep.Percentiles)
	if err := cw.Write(cols); err != nil {
		return err
	}
	for i := range rep.Slices {
		var row []string
		for k, c := range sliceCells(&rep.Slices[i], rep.Percentiles) {
			switch {
			case c.num == nil:
				s, _ := text(c.text).MarshalCSV()
				row = append(row, s)
			case sliceCounts[cols[k]]:
				row = append(row, strconv.Itoa(int(*c.num)))
			case cols[k] == "rate":
				s, _ := exact(*c.num).MarshalCSV()
				row = append(row, s)
			default:
				row = append(row, fixed3(*c.num).String())
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// jsonSlice is one slice as an object whose keys are the CSV columns.
type jsonSlice struct {
	sl *summary.Slice
	ps []float64
}

func (j jsonSlice) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for k, c := range sliceCells(j.sl, j.ps) {
		if k > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(sliceColumns(j.ps)[k])
		b.Write(key)
		b.WriteByte(':')
		if c.num == nil {
			v, _ := json.Marshal(c.text)
			b.Write(v)
		} else {
			b.Write(jsonFloat(*c.num))
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeSlices writes the text report's time-slice table of each group.
func writeSlices(buf *bytes.Buffer, rep *summary.Report, p palette) {
	if len(rep.Slices) == 0 {
		return
	}
	last := ""
	var tw *tabwriter.Writer
	start := buf.Len()
	for i := range rep.Slices {
		sl := &rep.Slices[i]
		g := "run " + sl.RunID + ", " + sl.Point.String()
		if g != last {
			if tw != nil {
				tw.Flush()
			}
			last = g
			fmt.Fprintln(buf)
			fmt.Fprintln(buf, p.bold.Sprint("Time slices: "+g))
			tw = tabwriter.NewWriter(buf, 0, 0, 2, ' ', tabwriter.AlignRight)
			top := "max"
			if n := len(rep.Percentiles); n > 0 {
				top = "P" + stats.FormatPercentile(rep.Percentiles[n-1])
			}
			fmt.Fprintf(tw, "from s\tdone\tfailed\treq/s\ttok/s\tTTFT P50\tTTFT %[1]s\tITL P50\tITL %[1]s\tE2EL P50\tE2EL %[1]s\trunning\twaiting\tKV\t\n", top)
		}
		pc := func(m summary.Metric, median bool) string {
			s := sl.Metric(m)
			switch {
			case s == nil:
				return "-"
			case median || len(s.Percentiles) == 0:
				return num2(s.Median)
			}
			return num2(s.Percentiles[len(s.Percentiles)-1])
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", num(sl.StartS, 1), sl.Finished, sl.Failed, num2(sl.ReqPerS), num2(sl.OutputTokPerS),
			pc(summary.TTFT, true), pc(summary.TTFT, false), pc(summary.ITL, true), pc(summary.ITL, false), pc(summary.Latency, true), pc(summary.Latency, false),
			num2(sl.ServerRunning), num2(sl.ServerWaiting), num2(sl.ServerKVCacheUsage))
	}
	tw.Flush()
	trimLines(buf, start)
}
