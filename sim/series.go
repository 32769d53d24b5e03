package sim

// Point is one sample of a series.
type Point struct {
	T Time
	V float64
}

// Series is one sampled quantity over simulated time.
type Series struct {
	Name string
	Node NodeID
	// Every is the current sampling interval: when a series reaches
	// MaxPoints it keeps every other point and halves its rate, so memory
	// stays bounded however long a run is.
	Every  Time
	Points []Point
	skip   int
	count  int
}

// MaxPoints bounds each series.
const MaxPoints = 1024

type seriesSet struct {
	list  []*Series
	index map[seriesKey]*Series
}

type seriesKey struct {
	name string
	node NodeID
}

// Record appends a sample of series name for node at the current time. Call
// it from OnSample; series appear in Result in first-recorded order.
func (w *World) Record(name string, node NodeID, v float64) {
	ss := &w.series
	if ss.index == nil {
		ss.index = map[seriesKey]*Series{}
	}
	k := seriesKey{name, node}
	s := ss.index[k]
	if s == nil {
		s = &Series{Name: name, Node: node, Every: w.cfg.SampleEvery, skip: 1}
		ss.index[k] = s
		ss.list = append(ss.list, s)
	}
	s.count++
	if (s.count-1)%s.skip != 0 {
		return
	}
	if len(s.Points) == MaxPoints {
		for i := 0; i < MaxPoints/2; i++ {
			s.Points[i] = s.Points[2*i]
		}
		s.Points = s.Points[:MaxPoints/2]
		s.skip *= 2
		s.Every *= 2
		if (s.count-1)%s.skip != 0 {
			return
		}
	}
	s.Points = append(s.Points, Point{w.now, v})
}
