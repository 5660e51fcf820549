//! SVG plots of a report: per scenario, delivered samples per second and
//! resident memory over time, one line per run (collector and round).
//!
//! Place in the data flow: [`super::report`] → **plot** → `SCENARIO.svg`
//! beside `report.json`.

use std::path::Path;

use plotters::prelude::*;

use super::report::Report;
use super::scenario::{Point, RunResult};
use super::BenchError;

/// Throughput is averaged over this many ticks, so one late request does
/// not draw a spike.
const SMOOTH: usize = 4;

/// A run's lines: its name, throughput and RSS over time.
struct Lines {
    name: String,
    rate: Vec<(f64, f64)>,
    rss: Vec<(f64, f64)>,
}

/// Writes one SVG per scenario of the report into `dir`.
pub fn write_all(report: &Report, dir: &Path) -> Result<(), BenchError> {
    let mut scenarios = Vec::new();
    for r in &report.runs {
        if !scenarios.contains(&r.scenario) {
            scenarios.push(r.scenario);
        }
    }
    for scenario in scenarios {
        let runs: Vec<&RunResult> = report
            .runs
            .iter()
            .filter(|r| r.scenario == scenario)
            .collect();
        let path = dir.join(format!("{}.svg", scenario.name()));
        draw(&path, scenario.name(), &runs)
            .map_err(|e| BenchError::Report(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// Samples per second between points `SMOOTH` ticks apart.
fn throughput(points: &[Point]) -> Vec<(f64, f64)> {
    points
        .windows(SMOOTH + 1)
        .filter_map(|w| {
            let (a, b) = (w[0], w[SMOOTH]);
            let dt = b.t - a.t;
            (dt > 0.0).then(|| (b.t, b.received.saturating_sub(a.received) as f64 / dt))
        })
        .collect()
}

fn draw(path: &Path, title: &str, runs: &[&RunResult]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(360);
    let t_max = runs
        .iter()
        .flat_map(|r| r.points.iter().map(|p| p.t))
        .fold(1.0, f64::max);
    let series: Vec<Lines> = runs
        .iter()
        .map(|r| Lines {
            name: format!("{} #{}", r.collector.name(), r.round),
            rate: throughput(&r.points),
            rss: r
                .points
                .iter()
                .map(|p| (p.t, p.rss_bytes as f64 / 1e6))
                .collect(),
        })
        .collect();
    let rate_max = series
        .iter()
        .flat_map(|s| s.rate.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let rss_max = series
        .iter()
        .flat_map(|s| s.rss.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let panels = [
        (
            &top,
            format!("{title}: samples/s delivered"),
            rate_max,
            "samples/s",
            1usize,
        ),
        (
            &bottom,
            format!("{title}: resident memory"),
            rss_max,
            "RSS (MB)",
            2usize,
        ),
    ];
    for (area, caption, y_max, y_desc, which) in panels {
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_max, 0.0..y_max * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the collector started")
            .y_desc(y_desc)
            .draw()?;
        for (i, lines) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let data = if which == 1 { &lines.rate } else { &lines.rss };
            chart
                .draw_series(LineSeries::new(data.iter().copied(), color.stroke_width(2)))?
                .label(lines.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
