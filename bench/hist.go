package bench

import (
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets (32 per power of two,
// about 3% resolution) without allocating, for latency percentiles. The
// zero value is empty and ready. Not safe for concurrent use.
type Histogram struct {
	counts [2048]uint64
	n      uint64
}

const histSub = 5 // 1<<histSub sub-buckets per power of two

// bucket returns v's bucket: v itself below 64, else 32 buckets for each
// power of two.
func bucket(v uint64) int {
	if v < 2<<histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSub - 1
	return e<<histSub + int(v>>e)
}

// bucketValue returns the midpoint of bucket i.
func bucketValue(i int) uint64 {
	if i < 2<<histSub {
		return uint64(i)
	}
	e := i>>histSub - 1
	top := uint64(i&(1<<histSub-1) | 1<<histSub)
	return top<<e + (1<<e)/2
}

// Add records d (a negative d counts as 0).
func (h *Histogram) Add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	h.n++
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Quantile returns the duration below which a fraction q of the records
// fall (0 when empty).
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(bucketValue(i))
		}
	}
	return 0
}
