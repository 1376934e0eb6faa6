package audit

import "testing"

// MemoryTamperer writes a Memory's chain behind its back (audittest.Tamperer).
type MemoryTamperer struct{ M *Memory }

// Replace implements audittest.Tamperer.
func (mt MemoryTamperer) Replace(t *testing.T, events []Event) {
	m := mt.M
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = nil
	for _, e := range events {
		m.events = append(m.events, m.packer.pack(nil, &e))
	}
	m.dropped, m.tail = 0, ""
	m.checkpoint, m.checkpointAt = nil, -1
	m.bySpace = map[string][]int{}
	for i, e := range events {
		m.bySpace["root"] = append(m.bySpace["root"], i)
		if e.Action == CheckpointAction {
			m.bySpace[CheckpointIndex] = append(m.bySpace[CheckpointIndex], i)
			m.checkpoint, m.checkpointAt = m.events[i], i
		}
	}
	if len(events) > 0 {
		h, err := Hash(events[len(events)-1])
		if err != nil {
			t.Fatal(err)
		}
		m.tail = h
	}
}
