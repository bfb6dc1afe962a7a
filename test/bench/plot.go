package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotRelayCounts writes an SVG of QPS against relay count, for each
// policy with one and with many client subnets, with whoami and file as
// horizontal references.
func plotRelayCounts(res *Results, path string) error {
	p := plot.New()
	p.Title.Text = "amtrelay: queries/s against relay count (medians of rounds)"
	p.X.Label.Text = "relays"
	p.Y.Label.Text = "queries/s at saturation"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = false
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(10)
	p.Legend.YOffs = vg.Points(10)
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		ticks := plot.DefaultTicks{}.Ticks(min, max)
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label = fmt.Sprintf("%.0f", ticks[i].Value)
			}
		}
		return ticks
	})
	counts := []int{10, 1000, 10000}
	i := 0
	for _, policy := range []string{"closest", "least-load", "spill-over"} {
		for _, ecs := range []ECS{OneSubnet, ManySubnets} {
			var pts plotter.XYs
			for _, n := range counts {
				if s, ok := res.summary(policyName(policy, n, ecs)); ok {
					pts = append(pts, plotter.XY{X: float64(n), Y: s.QPS})
				}
			}
			if len(pts) == 0 {
				continue
			}
			l, sc, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(i / 2)
			sc.Color = l.Color
			sc.Shape = plotutil.Shape(i / 2)
			if ecs == ManySubnets {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l, sc)
			p.Legend.Add(policy+", "+ecsLabel(ecs), l, sc)
			i++
		}
	}
	for j, ref := range []string{nameWhoami, nameFile} {
		s, ok := res.summary(ref)
		if !ok {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(counts[0]), Y: s.QPS}, {X: float64(counts[len(counts)-1]), Y: s.QPS}})
		if err != nil {
			return err
		}
		l.Color = color.Gray{Y: uint8(80 + 80*j)}
		l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		p.Add(l)
		p.Legend.Add(ref, l)
	}
	// Fixed axes: a log scale panics on an empty plot, and a run of a
	// few scenarios still draws one.
	p.X.Min, p.X.Max = 5, 20000
	p.Y.Min = 0
	p.Y.Max = max(1, p.Y.Max*1.1)
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
