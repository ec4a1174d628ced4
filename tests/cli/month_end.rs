//! The month end in small (issue #13): an organisation cut at the last second of a month against
//! the same organisation in hindsight. The full measurement is benches/month_end.py; this keeps
//! its bounds, looser for a smaller organisation, in every test run.

use crate::support::{Session, csv_rows};
use std::collections::HashMap;

fn generate(s: &Session, out: &str, as_of: &str) {
    let r = s.run(&[
        "generate",
        "--out",
        out,
        "--seed",
        "11",
        "--start",
        "2026-02",
        "--months",
        "4",
        "--directors",
        "1",
        "--managers",
        "5",
        "--reps",
        "30",
        "--late-share",
        "0.25",
        "--as-of",
        as_of,
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

type Cells = HashMap<(String, String, String), HashMap<String, String>>;

fn rep_cells(s: &Session, events: &str, as_of: Option<&str>) -> Cells {
    let mut args =
        vec!["funnel", "--events", events, "--by", "rep", "--period", "2026-05", "-f", "csv", "-q"];
    if let Some(a) = as_of {
        args.extend(["--as-of", a]);
    }
    let r = s.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    csv_rows(&r.stdout)
        .into_iter()
        .map(|row| {
            ((row["group_id"].clone(), row["from_stage"].clone(), row["to_stage"].clone()), row)
        })
        .collect()
}

#[test]
fn month_end_rates_are_honest_about_open_deals() {
    let s = Session::new();
    let cut = "2026-06-01T00:00:00Z";
    generate(&s, "cut", cut);
    generate(&s, "hind", "2099-01-01");
    let month_end = rep_cells(&s, &s.path_str("cut/events.csv"), Some(cut));
    let hindsight = rep_cells(&s, &s.path_str("hind/events.csv"), None);
    let (mut covered, mut cells) = (0, 0);
    for stage in ["lead", "case", "proposal", "quote"] {
        let (mut estimate, mut observed, mut entered) = (0.0, 0.0, 0.0);
        for (key, r) in
            month_end.iter().filter(|((_, f, t), _)| f == stage && (t != "won" || f == "quote"))
        {
            let Ok(rate) = r["rate"].parse::<f64>() else { continue };
            let hind: f64 = hindsight[key]["rate"].parse().unwrap();
            let n: f64 = r["entered"].parse().unwrap();
            estimate += n * (rate - hind);
            observed += n * (r["rate_observed"].parse::<f64>().unwrap() - hind);
            entered += n;
            let (lo, hi): (f64, f64) =
                (r["rate_low"].parse().unwrap(), r["rate_high"].parse().unwrap());
            covered += (lo - 1e-9 <= hind && hind <= hi + 1e-9) as u32;
            cells += 1;
        }
        let (bias, raw) = (estimate / entered, observed / entered);
        eprintln!("{stage}: bias {bias:+.3}, converted/entered {raw:+.3}");
        assert!(bias.abs() <= 0.06, "{stage}: the month-end estimate is off by {bias:+.3}");
        assert!(raw < -0.05, "{stage}: converted/entered at the month end is low ({raw:+.3})");
    }
    let coverage = covered as f64 / cells as f64;
    eprintln!("coverage {coverage:.3} of {cells}");
    assert!((0.85..=0.995).contains(&coverage), "95% intervals cover {coverage:.3} of {cells}");
}
