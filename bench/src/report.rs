//! Benchmark results: the `{"bench":…}` lines the kernel prints, Linux's
//! figures on the same QEMU to compare with (from the project's toolchain
//! notes), the goals the issues set, and the JSON and SVG reports.

use serde_json::{json, Value};
use std::fmt::Write;

/// One measured figure, as the kernel reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub name: String,
    /// `kernel` (measured in ring 0 on the fault path) or `user` (from a
    /// ring-3 program, as Linux's figures are: the ones compared).
    pub level: String,
    /// `icount` (guest instructions, deterministic) or `wall` (ns).
    pub mode: String,
    pub unit: String,
    pub median: f64,
    pub p99: f64,
    pub n: u64,
}

impl Figure {
    /// Reads a kernel bench line with `mode`, `median`, `p99` and `n`; other
    /// bench lines (`boot_to_ready`) are not figures of this report.
    pub fn from_json(line: &Value) -> Option<Figure> {
        Some(Figure {
            name: line.get("bench")?.as_str()?.to_string(),
            level: line
                .get("level")
                .and_then(Value::as_str)
                .unwrap_or("kernel")
                .to_string(),
            mode: line.get("mode")?.as_str()?.to_string(),
            unit: line.get("unit")?.as_str()?.to_string(),
            median: line.get("median")?.as_f64()?,
            p99: line.get("p99")?.as_f64()?,
            n: line.get("n")?.as_u64()?,
        })
    }
}

/// What Linux 6.1 needs for the same operation (guest instructions, i386
/// program, same QEMU with `-icount shift=0,sleep=off`), and our goal as a
/// fraction of it.
pub struct Reference {
    pub name: &'static str,
    pub linux_instructions: f64,
    pub goal_fraction: f64,
}

pub const REFERENCES: &[Reference] = &[
    Reference {
        name: "sbrk_touch_1MiB",
        linux_instructions: 11_600.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "sbrk_touch_64MiB",
        linux_instructions: 11_600.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "sbrk_touch_1GiB",
        linux_instructions: 11_600.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "stack_growth",
        linux_instructions: 11_600.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "syscall_null",
        linux_instructions: 370.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "memcpy_1MiB",
        linux_instructions: 262_000.0,
        goal_fraction: f64::NAN,
    },
    Reference {
        name: "fault_minor",
        linux_instructions: 2_100.0,
        goal_fraction: 0.25,
    },
    Reference {
        name: "fault_zero_fill",
        linux_instructions: 6_400.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "fault_cow_copy",
        linux_instructions: 11_100.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "fault_cow_takeover",
        linux_instructions: 11_100.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "fork_exit_wait_1MiB",
        linux_instructions: 366_000.0,
        goal_fraction: 0.25,
    },
    Reference {
        name: "fork_exit_wait_64MiB",
        linux_instructions: 6_830_000.0,
        goal_fraction: 0.05,
    },
    Reference {
        name: "fork_exit_wait_1GiB",
        linux_instructions: 103_700_000.0,
        goal_fraction: 0.05,
    },
    Reference {
        name: "pipe_round_trip",
        linux_instructions: 13_200.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "signal_self_roundtrip",
        linux_instructions: 7_400.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "fork_exec_wait",
        linux_instructions: 764_000.0,
        goal_fraction: 0.5,
    },
    Reference {
        name: "pipe_64MiB",
        linux_instructions: 224_000_000.0,
        goal_fraction: f64::NAN,
    },
    Reference {
        name: "trap_round_trip",
        linux_instructions: f64::NAN,
        goal_fraction: f64::NAN,
    },
];

pub fn reference(name: &str) -> Option<&'static Reference> {
    REFERENCES.iter().find(|r| r.name == name)
}

/// Ratio of our median to Linux's figure, when there is one.
pub fn ratio_to_linux(figure: &Figure) -> Option<f64> {
    let reference = reference(&figure.name)?;
    (figure.mode == "icount" && reference.linux_instructions.is_finite())
        .then(|| figure.median / reference.linux_instructions)
}

/// Whether the figure meets its goal, when it has one.
pub fn goal_met(figure: &Figure) -> Option<bool> {
    let goal = reference(&figure.name)?.goal_fraction;
    let ratio = ratio_to_linux(figure)?;
    goal.is_finite().then_some(ratio <= goal)
}

/// The median of the deterministic figure `name` at `level`.
fn icount_median(figures: &[Figure], name: &str, level: &str) -> Option<f64> {
    figures
        .iter()
        .find(|f| f.name == name && f.level == level && f.mode == "icount")
        .map(|f| f.median)
}

/// The ratios the memory issue asks for, from the deterministic figures:
/// the cost of growing a 1 GiB heap by a page over a 1 MiB one (goal ≤ 1.1:
/// independent of size), the segment-moving baseline over our growth at
/// each size, and stack growth over a plain zero-fill fault.
pub fn derived_ratios(figures: &[Figure]) -> Vec<(String, f64)> {
    let ratio =
        |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b).filter(|r| r.is_finite());
    let mut out = Vec::new();
    let mut push = |name: &str, value: Option<f64>| {
        if let Some(v) = value {
            out.push((name.to_string(), v));
        }
    };
    push(
        "sbrk_touch_1GiB_over_1MiB",
        ratio(
            icount_median(figures, "sbrk_touch_1GiB", "user"),
            icount_median(figures, "sbrk_touch_1MiB", "user"),
        ),
    );
    for size in ["1MiB", "64MiB", "1GiB"] {
        push(
            &format!("segment_move_over_sbrk_touch_{size}"),
            ratio(
                icount_median(figures, &format!("segment_move_{size}"), "kernel"),
                icount_median(figures, &format!("sbrk_touch_{size}"), "user"),
            ),
        );
    }
    push(
        "stack_growth_over_zero_fill",
        ratio(
            icount_median(figures, "stack_growth", "user"),
            icount_median(figures, "fault_zero_fill", "user"),
        ),
    );
    out
}

/// The JSON report: every figure, with Linux's figure, ratio and goal where
/// they apply.
pub fn json_report(figures: &[Figure], meta: Value) -> Value {
    let rows: Vec<Value> = figures
        .iter()
        .map(|f| {
            let reference = reference(&f.name);
            let ratio = ratio_to_linux(f);
            json!({
                "bench": f.name,
                "level": f.level,
                "mode": f.mode,
                "unit": f.unit,
                "median": f.median,
                "p99": f.p99,
                "n": f.n,
                "linux_instructions": reference.map(|r| r.linux_instructions).filter(|v| v.is_finite()),
                "ratio_to_linux": ratio,
                "goal_ratio": reference.map(|r| r.goal_fraction).filter(|v| v.is_finite()),
                "goal_met": goal_met(f),
            })
        })
        .collect();
    let derived: serde_json::Map<String, Value> = derived_ratios(figures)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    json!({ "meta": meta, "results": rows, "ratios": derived })
}

/// A plain-text table for the terminal.
pub fn text_table(figures: &[Figure]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:<6} {:<7} {:>12} {:>12} {:>7} {:>10} {:>8} {:>6}",
        "bench", "level", "mode", "median", "p99", "n", "linux", "ratio", "goal"
    );
    for f in figures {
        let reference = reference(&f.name).filter(|r| r.linux_instructions.is_finite());
        let ratio = ratio_to_linux(f);
        let _ = writeln!(
            out,
            "{:<22} {:<6} {:<7} {:>12.0} {:>12.0} {:>7} {:>10} {:>8} {:>6}",
            f.name,
            f.level,
            f.mode,
            f.median,
            f.p99,
            f.n,
            reference
                .filter(|_| ratio.is_some())
                .map_or("-".into(), |r| format!("{:.0}", r.linux_instructions)),
            ratio.map_or("-".into(), |r| format!("{r:.3}")),
            goal_met(f).map_or("-", |met| if met { "met" } else { "missed" }),
        );
    }
    out
}

/// An SVG bar chart of the deterministic figures next to Linux's.
pub fn svg_chart(figures: &[Figure]) -> String {
    let rows: Vec<(&Figure, Option<f64>)> = figures
        .iter()
        .filter(|f| f.mode == "icount")
        .map(|f| {
            (
                f,
                reference(&f.name)
                    .map(|r| r.linux_instructions)
                    .filter(|v| v.is_finite()),
            )
        })
        .collect();
    let max = rows
        .iter()
        .flat_map(|(f, linux)| [Some(f.median), *linux])
        .flatten()
        .fold(1.0_f64, f64::max);
    let (left, width, bar, gap) = (190.0, 520.0, 14.0, 12.0);
    let row_height = 2.0 * bar + gap;
    let height = 60.0 + rows.len() as f64 * row_height + 30.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="12">"#,
        left + width + 110.0
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">phantom-unix vs Linux 6.1: guest instructions per operation (QEMU TCG, -icount shift=0)</text>"#
    );
    let _ = writeln!(
        svg,
        r##"<rect x="10" y="34" width="12" height="10" fill="#2b6cb0"/><text x="26" y="43">phantom-unix (median)</text><rect x="170" y="34" width="12" height="10" fill="#c05621"/><text x="186" y="43">Linux 6.1</text>"##
    );
    for (i, (figure, linux)) in rows.iter().enumerate() {
        let y = 60.0 + i as f64 * row_height;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{} ({})</text>"#,
            left - 8.0,
            y + bar + 4.0,
            figure.name,
            figure.level
        );
        let ours = width * figure.median / max;
        let _ = writeln!(
            svg,
            r##"<rect x="{left}" y="{y}" width="{ours:.1}" height="{bar}" fill="#2b6cb0"/><text x="{:.1}" y="{:.1}">{:.0}</text>"##,
            left + ours + 4.0,
            y + bar - 3.0,
            figure.median
        );
        if let Some(linux) = linux {
            let theirs = width * linux / max;
            let _ = writeln!(
                svg,
                r##"<rect x="{left}" y="{}" width="{theirs:.1}" height="{bar}" fill="#c05621"/><text x="{:.1}" y="{:.1}">{linux:.0}</text>"##,
                y + bar,
                left + theirs + 4.0,
                y + 2.0 * bar - 3.0
            );
        }
    }
    let _ = writeln!(svg, "</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(name: &str, mode: &str, median: f64) -> Figure {
        Figure {
            name: name.into(),
            level: "kernel".into(),
            mode: mode.into(),
            unit: "instructions".into(),
            median,
            p99: median * 2.0,
            n: 10_000,
        }
    }

    #[test]
    fn parses_kernel_lines_and_skips_others() {
        let line = json!({"bench":"fault_minor","mode":"icount","unit":"instructions","median":400,"p99":520,"n":16384,"value":400});
        assert_eq!(
            Figure::from_json(&line),
            Some(Figure {
                name: "fault_minor".into(),
                level: "kernel".into(),
                mode: "icount".into(),
                unit: "instructions".into(),
                median: 400.0,
                p99: 520.0,
                n: 16384
            })
        );
        let boot = json!({"bench":"boot_to_ready","unit":"cycles","value":5,"n":1});
        assert_eq!(Figure::from_json(&boot), None);
    }

    #[test]
    fn ratios_and_goals() {
        let minor = figure("fault_minor", "icount", 525.0);
        assert_eq!(ratio_to_linux(&minor), Some(0.25));
        let report = json_report(
            &[
                minor,
                figure("fault_minor", "wall", 100.0),
                figure("trap_round_trip", "icount", 90.0),
            ],
            json!({}),
        );
        let rows = report["results"].as_array().unwrap();
        assert_eq!(rows[0]["goal_met"], json!(true));
        assert_eq!(rows[1]["ratio_to_linux"], Value::Null);
        assert_eq!(rows[2]["linux_instructions"], Value::Null);
        let slow = figure("fault_zero_fill", "icount", 3300.0);
        assert!(text_table(&[slow]).contains("missed"));
        // A reference without a goal is neither met nor missed.
        let memcpy = figure("memcpy_1MiB", "icount", 300_000.0);
        assert_eq!(goal_met(&memcpy), None);
        assert!(!text_table(&[memcpy]).contains("missed"));
        let mut heap = figure("sbrk_touch_1MiB", "icount", 5000.0);
        heap.level = "user".into();
        let mut big = heap.clone();
        big.name = "sbrk_touch_1GiB".into();
        big.median = 5100.0;
        let mut segment = figure("segment_move_1GiB", "icount", 5_100_000.0);
        segment.level = "kernel".into();
        let ratios = derived_ratios(&[heap, big, segment]);
        assert!(ratios.contains(&("sbrk_touch_1GiB_over_1MiB".to_string(), 1.02)));
        assert!(ratios.contains(&("segment_move_over_sbrk_touch_1GiB".to_string(), 1000.0)));
        let user = Figure::from_json(
            &json!({"bench":"syscall_null","level":"user","mode":"icount","unit":"instructions","median":180,"p99":190,"n":16384}),
        );
        assert_eq!(user.as_ref().map(|f| f.level.as_str()), Some("user"));
        assert_eq!(user.as_ref().and_then(goal_met), Some(true));
    }

    #[test]
    fn svg_has_a_bar_per_figure_and_reference() {
        let svg = svg_chart(&[
            figure("fault_minor", "icount", 400.0),
            figure("trap_round_trip", "icount", 80.0),
            figure("fault_minor", "wall", 1.0),
        ]);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<rect x=\"190\"").count(), 3);
        assert!(svg.contains("2100"));
    }
}
