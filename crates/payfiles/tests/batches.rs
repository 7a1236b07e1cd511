//! The batch writers: control sums checked, means kinds kept apart, the CSV layout, the AMO file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bank, cash, header, mad, wallet};
use proptest::prelude::*;
use sanad_payfiles::amo::{Adhesion, AdhesionWriter};
use sanad_payfiles::batch_csv::CsvBatchWriter;
use sanad_payfiles::{Means, MeansKind, Pain001Writer, Transfer, WriteError};
use time::macros::date;

fn transfers(means: &Means, amounts: &[i64]) -> Vec<(String, i64, Means)> {
    amounts
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("SANAD-P{i:06}"), *a, means.clone()))
        .collect()
}

fn write_pain(
    kind: MeansKind,
    declared: (u64, i64),
    items: &[(String, i64, Means)],
) -> Result<Vec<u8>, WriteError> {
    let mut w = Pain001Writer::start(Vec::new(), &header(kind, declared.0, declared.1))?;
    for (id, a, m) in items {
        w.push(&Transfer {
            end_to_end_id: id,
            amount: mad(*a),
            means: m,
            remittance: "ASD 2026-01",
        })?;
    }
    w.finish()
}

fn write_csv(
    kind: MeansKind,
    declared: (u64, i64),
    items: &[(String, i64, Means)],
) -> Result<Vec<u8>, WriteError> {
    let mut w = CsvBatchWriter::start(Vec::new(), &header(kind, declared.0, declared.1))?;
    for (id, a, m) in items {
        w.push(&Transfer {
            end_to_end_id: id,
            amount: mad(*a),
            means: m,
            remittance: "ASD 2026-01",
        })?;
    }
    w.finish()
}

/// The text of the first `<tag>` of a document.
fn element<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find('<').unwrap();
    &xml[start..end]
}

fn centimes(decimal: &str) -> i64 {
    let (w, f) = decimal.split_once('.').unwrap();
    w.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
}

proptest! {
    #[test]
    fn the_control_sum_is_the_sum_of_the_amounts(amounts in prop::collection::vec(0i64..100_000_000_000, 0..30)) {
        let sum: i64 = amounts.iter().sum();
        let items = transfers(&bank("Aicha"), &amounts);
        let xml = String::from_utf8(write_pain(MeansKind::Bank, (amounts.len() as u64, sum), &items).unwrap()).unwrap();
        prop_assert_eq!(centimes(element(&xml, "CtrlSum")), sum);
        prop_assert_eq!(element(&xml, "NbOfTxs"), amounts.len().to_string());
        let listed: i64 = xml.match_indices("<InstdAmt Ccy=\"MAD\">")
            .map(|(i, m)| centimes(&xml[i + m.len()..][..xml[i + m.len()..].find('<').unwrap()]))
            .sum();
        prop_assert_eq!(listed, sum);

        let csv = String::from_utf8(write_csv(MeansKind::Bank, (amounts.len() as u64, sum), &items).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        prop_assert_eq!(lines.len(), amounts.len() + 2);
        let trailer: Vec<&str> = lines[lines.len() - 1].split(',').collect();
        prop_assert_eq!(trailer[0], "T");
        prop_assert_eq!(centimes(trailer[2]), sum);
        prop_assert_eq!(trailer[5], amounts.len().to_string());
        let listed: i64 = lines[1..lines.len() - 1].iter().map(|l| centimes(l.split(',').nth(2).unwrap())).sum();
        prop_assert_eq!(listed, sum);
    }

    #[test]
    fn a_mismatch_is_refused(amounts in prop::collection::vec(0i64..1_000_000, 1..20), off in 1i64..1000, count_off in any::<bool>()) {
        let sum: i64 = amounts.iter().sum();
        let declared = if count_off { (amounts.len() as u64 + 1, sum) } else { (amounts.len() as u64, sum + off) };
        let items = transfers(&wallet("Aicha"), &amounts);
        let is_mismatch = |r: Result<Vec<u8>, WriteError>| matches!(r, Err(WriteError::ControlMismatch { .. }));
        prop_assert!(is_mismatch(write_pain(MeansKind::Wallet, declared, &items)));
        prop_assert!(is_mismatch(write_csv(MeansKind::Wallet, declared, &items)));
    }
}

#[test]
fn one_means_kind_per_file() {
    let items = vec![
        ("P1".to_owned(), 100, bank("Aicha")),
        ("P2".to_owned(), 100, cash("Aicha")),
    ];
    assert!(matches!(
        write_pain(MeansKind::Bank, (2, 200), &items),
        Err(WriteError::KindMismatch {
            expected: MeansKind::Bank,
            found: MeansKind::Cash
        })
    ));
    assert!(matches!(
        write_csv(MeansKind::Bank, (2, 200), &items),
        Err(WriteError::KindMismatch { .. })
    ));
}

#[test]
fn identifiers_are_refused_rather_than_cut() {
    let long = "P".repeat(36);
    let items = vec![(long, 100, bank("Aicha"))];
    assert!(
        matches!(write_pain(MeansKind::Bank, (1, 100), &items), Err(WriteError::Invalid { field, .. }) if field == "end_to_end_id")
    );
    let mut h = header(MeansKind::Bank, 0, 0);
    h.message_id = "M".repeat(36);
    assert!(Pain001Writer::start(Vec::new(), &h).is_err());
    let mut h = header(MeansKind::Cash, 0, 0);
    h.provider = None;
    assert!(
        Pain001Writer::start(Vec::new(), &h).is_err(),
        "a cash batch names its network"
    );
    let bad_phone = Means::Wallet {
        phone: "0612".into(),
        provider: "IAM".into(),
        holder: "Aicha".into(),
    };
    assert!(write_pain(MeansKind::Wallet, (1, 1), &[("P1".into(), 1, bad_phone)]).is_err());
}

#[test]
fn the_cash_transfer_carries_agency_and_pickup_code() {
    let xml = String::from_utf8(
        write_pain(
            MeansKind::Cash,
            (1, 100),
            &[("P1".into(), 100, cash("Aicha"))],
        )
        .unwrap(),
    )
    .unwrap();
    assert!(xml.contains("<CdtrAgt><FinInstnId><Othr><Id>CASHPLUS</Id></Othr></FinInstnId><BrnchId><Id>CP-CASA-042</Id></BrnchId></CdtrAgt>"));
    assert!(xml.contains("<InstrForCdtrAgt><Cd>HOLD</Cd><InstrInf>PICKUP K7Q-88231 AGENCY CP-CASA-042</InstrInf></InstrForCdtrAgt>"));
    let csv = String::from_utf8(
        write_csv(
            MeansKind::Cash,
            (1, 100),
            &[("P1".into(), 100, cash("Aicha\nBent"))],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        csv.lines().nth(1).unwrap(),
        "D,P1,1.00,MAD,cash,Aicha Bent,,CASHPLUS,CP-CASA-042,K7Q-88231,ASD 2026-01"
    );
    assert_eq!(
        csv.lines().nth(2).unwrap(),
        "T,SANAD-B000123,1.00,MAD,cash,1,2026-01-10,011780000012345678901297"
    );
}

#[test]
fn the_adhesion_file_checks_its_count() {
    let a = Adhesion {
        adhesion_id: "ADH-1",
        person_id: "P-1",
        household_id: "H-1",
        national_id: Some("AB123456"),
        family_name: "العلوي",
        given_name: "Fatima, Zahra",
        birth_date: date!(1980 - 04 - 02),
        sex: "F",
        relation: "head",
    };
    let mut w = AdhesionWriter::start(Vec::new(), "AMO-B0001", 1).unwrap();
    w.push(&a).unwrap();
    let file = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        file,
        "record,adhesion_id,person_id,household_id,national_id,family_name,given_name,birth_date,sex,relation\n\
         D,ADH-1,P-1,H-1,AB123456,العلوي,\"Fatima, Zahra\",1980-04-02,F,head\nT,AMO-B0001,1\n"
    );
    let mut w = AdhesionWriter::start(Vec::new(), "AMO-B0001", 2).unwrap();
    w.push(&a).unwrap();
    assert!(matches!(
        w.finish(),
        Err(WriteError::ControlMismatch {
            expected_count: 2,
            count: 1,
            ..
        })
    ));
    let mut w = AdhesionWriter::start(Vec::new(), "AMO-B0001", 1).unwrap();
    assert!(w.push(&Adhesion { sex: "X", ..a }).is_err());
}
