//! The report's front page: the company funnel, links to every sheet, the review and the data.

use super::job::MonthEnd;
use crate::app::validation::Report as Validation;
use crate::app::worksheets::Written;
use crate::diagnosis::Diagnosis;
use crate::metrics::deals::Closings;
use crate::metrics::funnel::FunnelRow;
use crate::metrics::review::PlanReview;
use crate::model::lever::LeverId;
use crate::model::playbook::Playbook;
use crate::model::roster::Roster;
use crate::render::{ChartBar, escape_markdown, funnel_svg, link_target};
use std::fmt::Write as _;

pub(super) fn company_svg(
    company: &[&FunnelRow],
    playbook: &Playbook,
    lang: crate::model::values::Lang,
) -> String {
    let ja = lang == crate::model::values::Lang::Ja;
    let bars: Vec<ChartBar> = company
        .iter()
        .filter(|r| {
            r.from_stage != playbook.stages[0]
                || r.to_stage != playbook.stages[playbook.stages.len() - 1]
        })
        .map(|r| ChartBar {
            text: None,
            label: crate::app::worksheets::lever_label(playbook, lang, &r.step()),
            rate: r.rate,
            benchmark: None,
            focus: false,
        })
        .collect();
    funnel_svg(if ja { "全社のファネル" } else { "Company funnel" }, &bars, ja)
}

/// The index's words in the report's language.
struct Words {
    title: &'static str,
    summary: &'static str,
    company: &'static str,
    company_head: &'static str,
    peers_note: &'static str,
    not_yet: &'static str,
    board: &'static str,
    board_link: &'static str,
    directors: &'static str,
    managers: &'static str,
    reps: &'static str,
    review: &'static str,
    none_due: &'static str,
    review_head: &'static str,
    a_month: &'static str,
    tables: &'static str,
    validation: &'static str,
    valid: &'static str,
    invalid: &'static str,
    playbook: &'static str,
}

fn words(lang: crate::model::values::Lang) -> Words {
    match lang {
        crate::model::values::Lang::En => Words {
            title: "Coaching report",
            summary: "Data as of {as_of}: {reps} reps diagnosed, {sheets} worksheets, {reviewed} plans reviewed.",
            company: "Company funnel, {period} (the deals that entered each step that month)",
            peers_note: "Peers: the typical rep's level at each step over the diagnosis's months, the same benchmark on every sheet.",
            not_yet: "{step}: none of this month's deals has got that far yet; its rate is the product of the steps' estimates.",
            company_head: "| Step | Entered | Converted so far | Still open | Rate (estimate) | Outcome known | Peers ({window}) |",
            board: "Board",
            board_link: "The board's coaching review",
            directors: "Directors",
            managers: "Managers",
            reps: "| Rep | Focus | Why |",
            review: "Review of earlier plans",
            none_due: "No plans were due for review in {period}.",
            review_head: "| Rep | Focus | Before | After | Effect | Verdict |",
            a_month: "a month",
            tables: "Data tables",
            validation: "Validation",
            valid: "Valid",
            invalid: "Invalid (run with --allow-invalid)",
            playbook: "Playbook funnel",
        },
        crate::model::values::Lang::Ja => Words {
            title: "コーチングレポート",
            summary: "{as_of} 時点のデータ：診断した担当者 {reps} 人、ワークシート {sheets} 枚、振り返ったプラン {reviewed} 件。",
            company: "全社のファネル（{period}、その月に各ステップへ入った案件）",
            peers_note: "他の担当者: 診断の対象月における各ステップの標準的な担当者の水準。どのシートでも同じ基準です。",
            not_yet: "{step}: 今月の案件でそこまで進んだものはまだありません。率は各ステップの推定を掛け合わせた値です。",
            company_head: "| ステップ | 入った件数 | これまでに進んだ件数 | 結果待ち | 率（推定） | 結果が判明した割合 | 他の担当者（{window}） |",
            board: "取締役会",
            board_link: "取締役会のコーチングレビュー",
            directors: "ディレクター",
            managers: "マネージャー",
            reps: "| 担当者 | フォーカス | 理由 |",
            review: "過去のプランの振り返り",
            none_due: "{period} に振り返り期限を迎えたプランはありません。",
            review_head: "| 担当者 | フォーカス | 前 | 後 | 効果 | 判定 |",
            a_month: "件/月",
            tables: "データ",
            validation: "検証",
            valid: "有効",
            invalid: "無効（--allow-invalid で続行）",
            playbook: "プレイブックのファネル",
        },
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn index_md(
    job: &MonthEnd,
    playbook: &Playbook,
    company: &[&FunnelRow],
    diagnoses: &[Diagnosis],
    reviews: &[PlanReview],
    written: &Written,
    roster: &Roster,
    validation: &Validation,
    (as_of, after_as_of, closings): (crate::model::time::Micros, u64, &Closings),
) -> String {
    let name =
        |id: &str| roster.index.get(id).map_or(id.to_string(), |&i| roster.people[i].name.clone());
    let link =
        |label: &str, path: &str| format!("[{}]({})", escape_markdown(label), link_target(path));
    let w = words(job.lang);
    let ja = job.lang == crate::model::values::Lang::Ja;
    let lever = |id: &LeverId| crate::app::worksheets::lever_label(playbook, job.lang, id);
    let mut s = String::new();
    let _ = writeln!(s, "# {} · {}\n", w.title, job.period);
    let summary = w
        .summary
        .replace("{reps}", &diagnoses.len().to_string())
        .replace(
            "{sheets}",
            &(written.reps.len() + written.managers.len() + written.directors.len()).to_string(),
        )
        .replace("{reviewed}", &reviews.iter().filter(|r| r.verdict.is_some()).count().to_string())
        .replace("{as_of}", &as_of_text(as_of));
    let _ = writeln!(s, "{summary}\n");
    let dash = if ja { "〜" } else { "to" };
    let window = diagnoses
        .first()
        .map_or(String::new(), |d| format!("{} {dash} {}", d.window_from, d.window_to));
    let _ = writeln!(
        s,
        "## {}\n\n{}\n|---|---|---|---|---|---|---|",
        w.company.replace("{period}", job.period),
        w.company_head.replace("{window}", &window)
    );
    let mut not_yet = Vec::new();
    for r in company {
        let step = r.step();
        let levers: Vec<&crate::diagnosis::Lever> =
            diagnoses.iter().flat_map(|d| d.levers.iter().filter(|l| l.id == step)).collect();
        if r.converted == 0 && r.rate.is_some_and(|x| x > 0.0) {
            not_yet.push(lever(&step));
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            lever(&step),
            r.entered,
            r.converted,
            r.open.map_or("—".into(), |o| o.to_string()),
            pct(r.rate),
            r.observed_share.map_or("—".into(), |s| format!("{:.0}%", s * 100.0)),
            crate::app::worksheets::shared_benchmark(&levers, job.lang)
        );
    }
    let _ = writeln!(s, "\n{}", w.peers_note);
    for step in not_yet {
        let _ = writeln!(s, "\n{}", w.not_yet.replace("{step}", &step));
    }
    let alt = if ja { "全社のファネル" } else { "Company funnel" };
    let _ = writeln!(s, "\n![{alt}]({})\n", link_target("funnel.svg"));
    if let Some(board) = &written.board {
        let _ = writeln!(s, "## {}\n\n- {}\n", w.board, link(w.board_link, board));
    }
    let _ = writeln!(s, "## {}\n", w.directors);
    for (id, path) in &written.directors {
        let _ = writeln!(s, "- {}", link(&name(id), path));
    }
    let _ = writeln!(s, "\n## {}\n", w.managers);
    for (id, path) in &written.managers {
        let _ = writeln!(s, "- {}", link(&name(id), path));
    }
    let _ = writeln!(
        s,
        "\n## {}\n\n{}\n|---|---|---|",
        if ja { "担当者のワークシート" } else { "Rep worksheets" },
        w.reps
    );
    for d in diagnoses {
        let Some(path) = written.reps.get(&d.rep_id) else { continue };
        let focus = d
            .focus
            .as_ref()
            .map(lever)
            .or_else(|| {
                d.suggestion.as_ref().map(|s| {
                    if ja { format!("（{}？）", lever(s)) } else { format!("({}?)", lever(s)) }
                })
            })
            .unwrap_or_else(|| "—".into());
        let why = d.lever().map_or_else(
            || crate::app::worksheets::no_focus_why(playbook, job.lang, d),
            |l| crate::app::worksheets::why_text(playbook, job.lang, d, l),
        );
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            link(&name(&d.rep_id), path),
            escape_markdown(&focus),
            escape_markdown(&why)
        );
    }
    if diagnoses.iter().any(|d| d.focus.is_none() && d.suggestion.is_some()) {
        let _ = writeln!(
            s,
            "\n{}",
            if ja {
                "（ステップ？）は確信度の低い提案です。その担当者にはまだ明確な課題がありません。"
            } else {
                "(Step?) is a low-confidence suggestion: no lever stands out for that rep yet."
            }
        );
    }
    let _ = writeln!(s, "\n## {}\n", w.review);
    if reviews.is_empty() {
        let _ = writeln!(s, "{}", w.none_due.replace("{period}", job.period));
    } else {
        let _ = writeln!(s, "{}\n|---|---|---|---|---|---|", w.review_head);
        for r in reviews {
            let effect = match (r.effect, r.focus.is_volume()) {
                (None, _) => "—".into(),
                (Some(e), true) => format!("{e:+.1} {}", w.a_month),
                (Some(e), false) => format!("{:+.0} pt", e * 100.0),
            };
            // The review's note (why there is no verdict yet) is written in English.
            let verdict = match (r.verdict, ja) {
                (Some(v), _) => crate::app::worksheets::verdict_words(v, job.lang).to_string(),
                (None, false) => r.note.clone().unwrap_or_default(),
                (None, true) => "未判定（データ不足）".to_string(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                escape_markdown(&name(&r.rep_id)),
                escape_markdown(&lever(&r.focus)),
                lever_value(&r.focus, r.baseline_rate, ja),
                lever_value(&r.focus, r.after_rate, ja),
                effect,
                escape_markdown(&verdict)
            );
        }
    }
    let _ = writeln!(s, "\n## {}\n", w.tables);
    for t in ["funnel", "diagnosis", "review"] {
        let label = match (t, ja) {
            ("funnel", true) => "ファネル",
            ("diagnosis", true) => "診断",
            ("review", true) => "振り返り",
            (t, _) => t,
        };
        let _ = writeln!(
            s,
            "- {label}: {} · {}",
            link(&format!("{t}.csv"), &format!("data/{t}.csv")),
            link(&format!("{t}.parquet"), &format!("data/{t}.parquet"))
        );
    }
    let _ = writeln!(s, "\n## {}\n", w.validation);
    let st = &validation.stats;
    let counts = if ja {
        format!(
            "テーブル {}、行 {}、エラー {}、警告 {}",
            st.tables, st.rows, st.errors, st.warnings
        )
    } else {
        format!(
            "{} tables, {} rows, {} errors, {} warnings",
            st.tables, st.rows, st.errors, st.warnings
        )
    };
    let valid = if validation.valid { w.valid } else { w.invalid };
    let sep = if ja { "（" } else { " (" };
    let end = if ja { "）。" } else { ")." };
    let _ = writeln!(
        s,
        "{valid}: {counts}{sep}{}{end}",
        link("validation.json", "data/validation.json")
    );
    if after_as_of > 0 {
        // Not invalid: rows the export holds from after the moment it stands for.
        let text = if ja {
            format!(
                "{} 時点より後の日付のイベント {after_as_of} 件は集計に含めていません。",
                as_of_text(as_of)
            )
        } else {
            format!(
                "{} dated after {} {} left out of every count.",
                crate::io::output::count(after_as_of, "event", "events"),
                as_of_text(as_of),
                if after_as_of == 1 { "is" } else { "are" }
            )
        };
        let _ = writeln!(s, "\n{text}");
    }
    for line in closings_text(closings, ja) {
        let _ = writeln!(s, "\n{line}");
    }
    let stages: Vec<String> = playbook
        .stages
        .iter()
        .map(|st| crate::app::worksheets::stage_label(playbook, job.lang, st))
        .collect();
    let _ = writeln!(s, "\n{}: {}{}", w.playbook, stages.join(" → "), if ja { "。" } else { "." });
    s
}

/// When the export was taken, to the second: "2026-03-31 23:59:59 UTC".
fn as_of_text(as_of: crate::model::time::Micros) -> String {
    chrono::DateTime::from_timestamp_micros(as_of)
        .map_or_else(|| as_of.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// A lever's value in its unit: a rate as %, a volume as a count a month (or per deal).
fn lever_value(lever: &LeverId, v: Option<f64>, ja: bool) -> String {
    match (lever.is_volume(), v) {
        (_, None) => "—".into(),
        (true, Some(v)) if matches!(lever, LeverId::Activity { .. }) => {
            if ja {
                format!("{v:.1} 件/案件")
            } else {
                format!("{v:.1} per deal")
            }
        }
        (true, Some(v)) => {
            if ja {
                format!("{v:.1} 件/月")
            } else {
                format!("{v:.1} a month")
            }
        }
        (false, v) => pct(v),
    }
}

/// What the counts did with deals the export left open or out of order.
fn closings_text(c: &Closings, ja: bool) -> Vec<String> {
    let mut out = Vec::new();
    let days = c.stale_after_days;
    if c.recorded_losses == 0 && c.deals >= 20 {
        out.push(if ja {
            format!("エクスポートには失注の記録が一件もありません。結果待ちの案件は {days} 日動きがなければ失注として数えます。それまでは直近の月の率が高めに出ます。")
        } else {
            format!("The export records no lost deal: an open deal counts as lost only after {days} days without an event, so recent months' rates read high until then.")
        });
    }
    if c.stale > 0 {
        out.push(if ja {
            format!("{days} 日以上動きのない結果待ちの案件 {} 件は失注として数えています（funnel.stale_after_days）。", c.stale)
        } else {
            format!(
                "{} had no event for {days} days and {} counted as lost (funnel.stale_after_days).",
                crate::io::output::count(c.stale, "open deal", "open deals"),
                if c.stale == 1 { "is" } else { "are" }
            )
        });
    }
    if c.closed_before_created > 0 {
        out.push(if ja {
            format!("最初の段階の日付より前に失注となっている案件 {} 件は、最後の段階の日付で失注として数えています。", c.closed_before_created)
        } else {
            format!(
                "{} lost before their first stage date (a backfilled close date?) {} counted as lost at their last stage date.",
                crate::io::output::count(c.closed_before_created, "deal", "deals"),
                if c.closed_before_created == 1 { "is" } else { "are" }
            )
        });
    }
    out
}
