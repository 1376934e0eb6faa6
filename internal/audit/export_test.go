package audit

import "testing"

// MemoryTamperer writes a Memory's chain behind its back (audittest.Tamperer).
type MemoryTamperer struct{ M *Memory }

// Replace implements audittest.Tamperer.
func (mt MemoryTamperer) Replace(t *testing.T, events []Event) {
	m := mt.M
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log, m.tail = eventLog{}, ""
	m.checkpoint, m.checkpointAt = nil, -1
	m.bySpace = map[string][]int32{}
	for i, e := range events {
		p := m.packer.pack(nil, &e)
		m.log.append(p)
		m.bySpace["root"] = append(m.bySpace["root"], int32(i))
		if e.Action == CheckpointAction {
			m.bySpace[CheckpointIndex] = append(m.bySpace[CheckpointIndex], int32(i))
			m.checkpoint, m.checkpointAt = p, i
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

// PointCheckpointAt points m's checkpoint index at the event at position at, as a store writer
// could.
func (mt MemoryTamperer) PointCheckpointAt(at int) {
	m := mt.M
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkpoint, m.checkpointAt = append([]byte(nil), m.log.at(m.log.dropped+at)...), at
}
