//go:build !linux

package sim

// newAlarm has no precise alarm to offer off Linux: sleepers use plain timers.
func newAlarm() (alarm, error) { return nil, nil }
