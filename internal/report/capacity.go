package report

import (
	"bytes"
	"fmt"

	"servebench/internal/summary"
)

// writeCapacities writes each capacity search's answer, with the verdict
// of every load it probed: "run R (label): capacity 4 users (85% goodput
// for ttft<=100ms); 4-5 bracket; 5 loads" then "  5 users: 57/72 good
// (0.792): unclear".
func writeCapacities(buf *bytes.Buffer, rep *summary.Report) {
	for i := range rep.Capacities {
		c := &rep.Capacities[i]
		name := "run " + c.RunID
		if c.Label != "" {
			name += " (" + c.Label + ")"
		}
		fmt.Fprintf(buf, "%s: %s\n", name, c)
		for _, l := range c.Loads {
			clustered := ""
			if l.DesignEffect > 1 {
				clustered = fmt.Sprintf(", clustered: as %.0f independent", float64(l.N)/l.DesignEffect)
			}
			fmt.Fprintf(buf, "  %g %s: %d/%d good (%.3f%s): %s\n", l.Load, c.Unit(), l.Good, l.N, l.Ratio, clustered, l.Verdict)
		}
	}
}
