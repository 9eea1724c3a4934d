package cmdline

import "fmt"

// ExitCode is a process exit status. One table serves every servebench
// tool and the suite (scripts/run_benchmarks.sh): a number means the same
// thing wherever it appears, so a script or cron job can branch on it
// without knowing which tool spoke. docs/exit-codes.md lists the table and
// each tool's --help prints the rows that tool can return; exitcode_test.go
// holds the three in agreement and checks that no two meanings share a
// number.
type ExitCode int

// The exit-code table. Numbers are the contract once shipped: add rows,
// never renumber. 3-7 are the server's readiness, as probe finds it (the
// suite passes probe's code through); 8-10 are summarize's input and
// gates; 11-12 are the suite's own; 13 is genload's success gate, 14 its stop rule; 128+N
// is an interrupting signal N.
const (
	ExitOK          ExitCode = 0  // success
	ExitFailure     ExitCode = 1  // runtime failure: unreadable input, no records, an output that cannot be written, a dead server genload needed
	ExitUsage       ExitCode = 2  // usage error: a flag, argument or environment variable is wrong; nothing was done
	ExitUnreachable ExitCode = 3  // the server could not be reached: no TCP connection, DNS or TLS failure
	ExitNotReady    ExitCode = 4  // the server answers but is not ready: /health or /v1/models not OK (loading, 5xx)
	ExitNoModel     ExitCode = 5  // the model asked for is not served (or none is)
	ExitAuth        ExitCode = 6  // the API key was rejected (401/403)
	ExitSmoke       ExitCode = 7  // the server is ready but a real 1-token completion failed
	ExitBadInput    ExitCode = 8  // --strict: some input lines were not records (nothing was written), or genload read a group's tokens late (everything written)
	ExitGoodput     ExitCode = 9  // a group's slo_met_ratio is below --min-goodput-ratio (everything was written)
	ExitRegression  ExitCode = 10 // a comparison found a significant change past a --fail-on limit (everything was written)
	ExitTestFailed  ExitCode = 11 // the suite: a test run failed (genload failed, or every request of a test failed)
	ExitLocked      ExitCode = 12 // the suite: another run holds the results directory's lock
	ExitFailedReqs  ExitCode = 13 // genload --min-success-ratio: a load point's share of successful requests was below it (every record was written)
	ExitStopRule    ExitCode = 14 // genload --max-error-rate: too many of the last --error-window attempts failed, so the run stopped early (every record was written)
	ExitSIGINT      ExitCode = 130
	ExitSIGTERM     ExitCode = 143
)

// exitMeanings are the table's rows in the words --help and the docs use.
var exitMeanings = []struct {
	Code    ExitCode
	Meaning string
}{
	{ExitOK, "success"},
	{ExitFailure, "runtime failure (unreadable input, no records, an output that cannot be written, a dead server)"},
	{ExitUsage, "usage error (a flag, argument or environment variable is wrong; nothing was done)"},
	{ExitUnreachable, "server unreachable (no TCP connection, DNS or TLS failure)"},
	{ExitNotReady, "server not ready or unhealthy (/health or /v1/models not OK)"},
	{ExitNoModel, "model not served"},
	{ExitAuth, "API key rejected (401/403)"},
	{ExitSmoke, "smoke completion failed"},
	{ExitBadInput, "--strict: bad input lines (nothing written), or tokens genload read late (everything written)"},
	{ExitGoodput, "goodput gate: slo_met_ratio below --min-goodput-ratio (everything written)"},
	{ExitRegression, "regression past --fail-on (everything written)"},
	{ExitTestFailed, "suite: a test failed"},
	{ExitLocked, "suite: results directory locked by another run"},
	{ExitFailedReqs, "too many failed requests: a load point below --min-success-ratio (every record written)"},
	{ExitStopRule, "stop rule: the failure rate over the last --error-window attempts exceeded --max-error-rate; the run stopped early (every record written)"},
	{ExitSIGINT, "interrupted by SIGINT (Ctrl-C); every attempt made is written"},
	{ExitSIGTERM, "interrupted by SIGTERM; every attempt made is written"},
}

// Meaning is the table's text for code, "" for a number not in it.
func (c ExitCode) Meaning() string {
	for _, row := range exitMeanings {
		if row.Code == c {
			return row.Meaning
		}
	}
	return ""
}

// ExitHelp is the "EXIT CODES" paragraph of a tool's --help: the rows of
// the codes it can return, in the table's words.
func ExitHelp(codes ...ExitCode) string {
	s := "EXIT CODES (the same in every servebench tool, docs/exit-codes.md):"
	for _, c := range codes {
		s += fmt.Sprintf("\n  %3d  %s", int(c), c.Meaning())
	}
	return s
}
