//! Money has a currency: amounts in different currencies are converted by a rate table or
//! reported per currency, never added up. Totals checked by hand.

use crate::support::{Session, csv_rows, fixture};

/// The whole-funnel row of the company over all the data.
fn company_won(
    s: &Session,
    events: &str,
    extra: &[&str],
) -> (std::collections::HashMap<String, String>, String) {
    let mut args = vec![
        "funnel", "--events", events, "--by", "company", "--period", "all", "--window", "none",
        "-f", "csv",
    ];
    args.extend_from_slice(extra);
    let out = s.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let row = csv_rows(&out.stdout)
        .into_iter()
        .find(|r| r["from_stage"] == "lead" && r["to_stage"] == "won")
        .expect("a whole-funnel row");
    (row, out.stderr)
}

fn copy_export(s: &Session, files: &[&str]) -> String {
    std::fs::create_dir_all(s.path("sf")).unwrap();
    for f in files {
        std::fs::copy(
            fixture(&format!("ingest/salesforce_currencies/{f}")),
            s.path(&format!("sf/{f}")),
        )
        .unwrap();
    }
    s.path_str("sf")
}

fn cents(text: &str) -> i64 {
    let v: f64 = text.parse().unwrap_or_else(|_| panic!("{text:?} is not a number"));
    (v * 100.0).round() as i64
}

#[test]
fn a_four_currency_salesforce_export_is_converted_with_its_own_currency_types() {
    let s = Session::new();
    let dir = copy_export(&s, &["Opportunity.csv", "OpportunityHistory.csv", "CurrencyType.csv"]);
    let events = s.path_str("events.csv");
    let r = s.run(&["ingest", &dir, "--table", "events", "--preset", "salesforce", "-o", &events]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("converted to USD"), "{}", r.stderr);
    assert!(r.stderr.contains("CurrencyType.csv"), "{}", r.stderr);
    let rows = csv_rows(&std::fs::read_to_string(&events).unwrap());
    assert!(rows.iter().all(|r| r["currency"] == "USD" || r["amount"].is_empty()), "{rows:?}");
    let (won, stderr) = company_won(&s, &events, &[]);
    // 1000 USD + 175000 MXN / 17.5 + 4100000 COP / 3950.25 + 3700 PEN / 3.7 + 1234.56 MXN / 17.5
    // = 1000 + 10000 + 1037.90899310 + 1000 + 70.54628571 = 13108.46 (the PEN loss is not won).
    assert_eq!(cents(&won["won_amount"]), 1_310_846, "{won:?}");
    assert_eq!(won["currency"], "USD");
    assert_eq!(won["won"], "5");
    assert_eq!(cents(&won["avg_deal_size"]), 262_169, "{won:?}");
    assert!(won["won_amount_by_currency"].is_empty());
    assert!(!stderr.contains("currencies"), "{stderr}");
}

#[test]
fn without_rates_money_is_reported_per_currency_and_never_added_up() {
    let s = Session::new();
    let dir = copy_export(&s, &["Opportunity.csv", "OpportunityHistory.csv"]);
    let events = s.path_str("events.csv");
    let r = s.run(&["ingest", &dir, "--table", "events", "--preset", "salesforce", "-o", &events]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("4 currencies (COP, MXN, PEN, USD)"), "{}", r.stderr);
    let (won, stderr) = company_won(&s, &events, &[]);
    assert_eq!(won["won_amount"], "", "{won:?}");
    assert_eq!(won["avg_deal_size"], "");
    assert_eq!(won["currency"], "");
    assert_eq!(won["won_amount_by_currency"], "COP 4100000; MXN 176234.56; PEN 3700; USD 1000");
    assert_eq!(stderr.matches("no --rates convert them").count(), 1, "{stderr}");
    // The same rates given by hand convert the same events, at funnel time.
    let rates = fixture("ingest/salesforce_currencies/CurrencyType.csv").display().to_string();
    let (won, _) = company_won(&s, &events, &["--rates", &rates]);
    assert_eq!(cents(&won["won_amount"]), 1_310_846, "{won:?}");
    assert_eq!(won["currency"], "USD");
}

#[test]
fn a_pipedrive_export_in_pounds_and_yen_is_not_summed() {
    let s = Session::new();
    let export = s.write(
        "deals.csv",
        "\"Deal - ID\",\"Deal - Title\",\"Deal - Value\",\"Deal - Currency\",\"Deal - Stage\",\"Deal - Status\",\"Deal - Owner\",\"Deal - Deal created\",\"Deal - Won time\",\"Deal - Lost time\"\n\
         \"1\",\"A\",\"3000\",\"GBP\",\"Proposal Made\",\"won\",\"Ren Ito\",\"2026-01-05 10:00:00\",\"2026-02-01 09:30:00\",\"\"\n\
         \"2\",\"B\",\"500000\",\"JPY\",\"Proposal Made\",\"won\",\"Ren Ito\",\"2026-01-06 10:00:00\",\"2026-02-02 09:30:00\",\"\"\n\
         \"3\",\"C\",\"100\",\"usd\",\"Qualified\",\"lost\",\"Ren Ito\",\"2026-01-07 10:00:00\",\"\",\"2026-01-20 09:30:00\"\n",
    );
    let events = s.path_str("events.csv");
    let r = s.run(&[
        "ingest",
        &export,
        "--table",
        "events",
        "--preset",
        "pipedrive-deals",
        "--tz",
        "UTC",
        "-o",
        &events,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (won, _) = company_won(&s, &events, &[]);
    assert_eq!(won["won"], "2");
    assert_eq!(won["won_amount"], "", "503000 would add pounds to yen: {won:?}");
    assert_eq!(won["won_amount_by_currency"], "GBP 3000; JPY 500000");
    // A rate table of one's own: 1 GBP = 190 JPY, reported in pounds.
    let rates = s.write("rates.csv", "currency,rate\nGBP,1\nJPY,190\nUSD,1.25\n");
    let (won, _) = company_won(&s, &events, &["--rates", &rates]);
    // 3000 + 500000 / 190 = 3000 + 2631.58 = 5631.58 GBP
    assert_eq!(cents(&won["won_amount"]), 563_158, "{won:?}");
    assert_eq!(won["currency"], "GBP");
}

#[test]
fn one_currency_in_the_data_is_the_currency_of_the_money() {
    let s = Session::new();
    let events = s.write(
        "events.csv",
        "deal_id,rep_id,stage,ts,amount,currency\n\
         D1,R1,lead,2026-01-05T10:00:00Z,,\n\
         D1,R1,won,2026-01-20T10:00:00Z,1500.50,EUR\n\
         D2,R1,lead,2026-01-06T10:00:00Z,,\n\
         D2,R1,won,2026-01-21T10:00:00Z,499.50,eur\n",
    );
    let (won, stderr) = company_won(&s, &events, &[]);
    assert_eq!(won["won_amount"], "2000");
    assert_eq!(won["currency"], "EUR");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_currency_that_is_not_an_iso_code_is_rejected_with_its_line() {
    let s = Session::new();
    let events = s.write(
        "events.csv",
        "deal_id,rep_id,stage,ts,amount,currency\n\
         D1,R1,lead,2026-01-05T10:00:00Z,,\n\
         D1,R1,won,2026-01-20T10:00:00Z,1500,US$\n",
    );
    let out = s.run(&["validate", &events]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("ISO 4217"), "{text}");
    assert!(text.contains("row 3, column currency"), "{text}");
}

#[test]
fn a_preset_says_when_it_reads_abandoned_deals_as_lost_and_how_to_set_the_zone() {
    let s = Session::new();
    let export = s.write(
        "deals.csv",
        "\u{feff}Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Closed Lost Reason,Last Modified Date,Create Date\r\n\
         1,A,Closed Won,2026-03-20 10:00,Ben Kim,5000,,2026-03-20,2026-02-01 09:00\r\n\
         2,B,Closed: abandoned,2026-03-21 10:00,Ben Kim,,,2026-03-21,2026-02-02 09:00\r\n\
         3,C,Closed: abandoned,2026-03-22 10:00,Ben Kim,,,2026-03-22,2026-02-03 09:00\r\n",
    );
    let r = s.run(&["ingest", &export, "--table", "events", "--preset", "hubspot-deals"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "2 rows with stage \"Closed: abandoned\" read as lost, by the mapping hubspot-deals"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("pass --tz ZONE").count(), 1, "{}", r.stderr);
    let show = s.run(&["ingest", "--preset", "hubspot-deals", "--show"]);
    assert!(show.stdout.contains("abandoned deals"), "{}", show.stdout);
    assert!(show.stdout.contains("currency = \"Currency\""), "{}", show.stdout);
}
