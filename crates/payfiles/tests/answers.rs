//! The answer readers: bad files named by line and field, and write-then-read round trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::mad;
use proptest::prelude::*;
use sanad_payfiles::amo::{
    AdhesionAnswer, AdhesionOutcome, read_adhesion_answer, write_adhesion_answer,
};
use sanad_payfiles::answer::{NotificationHeader, write_answer_csv, write_camt054};
use sanad_payfiles::{AnswerLine, Outcome, ParseError, read_answer_csv, read_camt054};
use time::macros::{date, datetime};

fn csv_errors(bytes: &[u8]) -> Vec<ParseError> {
    read_answer_csv(bytes).filter_map(Result::err).collect()
}

fn camt_errors(bytes: &[u8]) -> Vec<ParseError> {
    read_camt054(bytes).filter_map(Result::err).collect()
}

fn one(errors: Vec<ParseError>) -> ParseError {
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

const CSV_HEAD: &str = "end_to_end_id,amount,status,reason_code,reason,booked_on\n";

#[test]
fn a_good_csv_answer_is_read() {
    let file = format!(
        "{CSV_HEAD}P1,350.00,paid,,,2026-01-11\nP2,120.5,failed,AC04,,\nP1,350.00,reversed,MD07,décédé,2026-01-20\n\"P3\",\"1\",failed,AM04,\"fonds, insuffisants\",\n"
    );
    let lines: Vec<AnswerLine> = read_answer_csv(file.as_bytes())
        .map(Result::unwrap)
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0].line, 2);
    assert_eq!(lines[0].outcome, Outcome::Paid);
    assert_eq!(lines[0].booked_on, Some(date!(2026 - 01 - 11)));
    assert_eq!(lines[1].amount, mad(12_050));
    assert_eq!(
        lines[1].outcome,
        Outcome::Failed {
            reason_code: "AC04".into(),
            reason: "account closed".into()
        },
        "a known code without text gets a readable reason"
    );
    assert!(matches!(&lines[2].outcome, Outcome::Reversed { reason, .. } if reason == "décédé"));
    assert_eq!(lines[3].line, 5);
}

#[test]
fn bad_csv_answers_name_line_and_field() {
    let mut bad_encoding = CSV_HEAD.as_bytes().to_vec();
    bad_encoding
        .extend_from_slice(b"P1,350.00,paid,,,\nP2,1.00,failed,AC01,Mauvais compte \xff,\n");
    let e = one(csv_errors(&bad_encoding));
    assert_eq!((e.line, e.field.as_str()), (3, "reason"));
    assert!(e.message.contains("not UTF-8"), "{e}");

    let e = one(csv_errors(
        format!("{CSV_HEAD}P1,350.00,paid,,,\nP2,1.00,paid,,,\nP1,350.00,paid,,,\n").as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (4, "end_to_end_id"));
    assert!(e.message.starts_with("duplicate of line 2"), "{e}");

    let e = one(csv_errors(format!("{CSV_HEAD}P1,,paid,,,\n").as_bytes()));
    assert_eq!((e.line, e.field.as_str()), (2, "amount"));

    let e = one(csv_errors(
        format!("{CSV_HEAD}P1,350.00,paid,,,\nP2,\"12,5\",paid,,,\n").as_bytes(),
    ));
    assert_eq!(
        e.to_string(),
        "line 3, field amount: expected a decimal amount with at most 2 decimals, found \"12,5\""
    );

    let e = one(csv_errors(
        format!("{CSV_HEAD}P1,350.00,lost,,,\n").as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (2, "status"));

    let e = one(csv_errors(
        format!("{CSV_HEAD}P1,350.00,failed,,,\n").as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (2, "reason_code"));

    let e = one(csv_errors(
        format!("{CSV_HEAD}P1,350.00,paid,,,2026-13-01\n").as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (2, "booked_on"));

    let e = one(csv_errors(format!("{CSV_HEAD}P1,350.00\n").as_bytes()));
    assert_eq!((e.line, e.field.as_str()), (2, "record"));

    let e = one(csv_errors(b"id,amount,status\nP1,1,paid\n"));
    assert_eq!((e.line, e.field.as_str()), (1, "end_to_end_id"));
}

#[test]
fn every_bad_csv_line_is_listed_in_one_pass() {
    let file = format!("{CSV_HEAD}P1,x,paid,,,\nP2,1.00,paid,,,\nP3,1.00,maybe,,,\n");
    let lines: Vec<u64> = csv_errors(file.as_bytes()).iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4]);
}

const CAMT_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\n<BkToCstmrDbtCdtNtfctn>\n<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-11T18:00:00Z</CreDtTm></GrpHdr>\n<Ntfctn><Id>N1</Id><Acct><Id><Othr><Id>A</Id></Othr></Id></Acct>\n";
const CAMT_TAIL: &str = "</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n";

fn entry(id: &str, amount: &str, status: &str, extra: &str) -> String {
    format!(
        "<Ntry><Amt Ccy=\"MAD\">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>{status}</Cd></Sts><BkTxCd/><NtryDtls><TxDtls><Refs><EndToEndId>{id}</EndToEndId></Refs>{extra}</TxDtls></NtryDtls></Ntry>\n"
    )
}

fn camt(entries: &[String]) -> String {
    format!("{CAMT_HEAD}{}{CAMT_TAIL}", entries.concat())
}

#[test]
fn a_camt054_is_read_with_lines_and_outcomes() {
    let file = format!(
        "{CAMT_HEAD}{}{}{}\
         <Ntry>\n  <Amt Ccy=\"MAD\">30.00</Amt>\n  <CdtDbtInd>CRDT</CdtDbtInd>\n  <RvslInd>true</RvslInd>\n  <Sts><Cd>BOOK</Cd></Sts>\n  <BookgDt><DtTm>2026-01-20T10:00:00</DtTm></BookgDt>\n  <NtryDtls>\n   <TxDtls>\n    <Refs><EndToEndId>P1</EndToEndId></Refs>\n    <RtrInf><Rsn><Cd>MD07</Cd></Rsn><AddtlInf>d&#233;c&#xe9;d&amp;</AddtlInf></RtrInf>\n   </TxDtls>\n  </NtryDtls>\n </Ntry>\n{CAMT_TAIL}",
        entry("P1", "30.00", "BOOK", ""),
        entry(
            "P2",
            "12.5",
            "RJCT",
            "<Amt Ccy=\"MAD\">12.50</Amt><RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>"
        ),
        entry(
            "P3",
            "7",
            "BOOK",
            "<RtrInf><Rsn><Cd>AC01</Cd></Rsn><AddtlInf>numéro</AddtlInf><AddtlInf> faux</AddtlInf></RtrInf>"
        ),
    );
    let lines: Vec<AnswerLine> = read_camt054(file.as_bytes()).map(Result::unwrap).collect();
    assert_eq!(
        lines.iter().map(|l| l.line).collect::<Vec<_>>(),
        [6, 7, 8, 16]
    );
    assert_eq!(lines[0].outcome, Outcome::Paid);
    assert_eq!(
        lines[0].amount,
        mad(3_000),
        "the entry's amount when the transaction has none"
    );
    assert_eq!(
        lines[1].outcome,
        Outcome::Failed {
            reason_code: "AM04".into(),
            reason: "insufficient funds".into()
        }
    );
    assert_eq!(
        lines[2].outcome,
        Outcome::Failed {
            reason_code: "AC01".into(),
            reason: "numéro faux".into()
        },
        "a booked entry with a return reason is a failed payment"
    );
    assert_eq!(
        lines[3].outcome,
        Outcome::Reversed {
            reason_code: "MD07".into(),
            reason: "décéd&".into()
        }
    );
    assert_eq!(lines[3].booked_on, Some(date!(2026 - 01 - 20)));
}

#[test]
fn bad_camt054_files_name_line_and_field() {
    // Wrong encoding: a byte 0xff on line 7 (the header takes lines 1 to 5).
    let mut bytes = camt(&[entry("P1", "1.00", "BOOK", "")]).into_bytes();
    bytes.truncate(bytes.len() - CAMT_TAIL.len());
    bytes.extend_from_slice(b"<Ntry><Amt Ccy=\"MAD\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BkTxCd/><NtryDtls><TxDtls><Refs><EndToEndId>P\xff2</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>\n");
    bytes.extend_from_slice(CAMT_TAIL.as_bytes());
    let results: Vec<_> = read_camt054(bytes.as_slice()).collect();
    assert!(results[0].is_ok());
    let e = results[1].clone().unwrap_err();
    assert_eq!(e.line, 7, "{e}");
    assert!(e.message.contains("0xff"), "{e}");
    assert_eq!(results.len(), 2, "nothing is read past an encoding error");

    let e = one(camt_errors(
        camt(&[
            entry("P1", "1.00", "BOOK", ""),
            entry("P1", "1.00", "BOOK", ""),
        ])
        .as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (7, "EndToEndId"));
    assert!(e.message.starts_with("duplicate of line 6"), "{e}");

    let e = one(camt_errors(
        camt(&[entry("P1", "12,5", "BOOK", "")]).as_bytes(),
    ));
    assert_eq!(
        e.to_string(),
        "line 6, field Amt: expected a decimal amount with at most 2 decimals, found \"12,5\""
    );

    let e = one(camt_errors(camt(&[entry("P1", "", "BOOK", "")]).as_bytes()));
    assert_eq!((e.line, e.field.as_str()), (6, "Amt"));

    let e = one(camt_errors(
        camt(&[entry("P1", "1.00", "PDNG", "")]).as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (6, "Sts"));
    assert!(e.message.contains("PDNG"));

    let e = one(camt_errors(
        camt(&[entry("", "1.00", "BOOK", "")]).as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (6, "EndToEndId"));

    let e = one(camt_errors(
        camt(&[entry("P1", "1.00", "BOOK", "<Amt Ccy=\"EUR\">1.00</Amt>")]).as_bytes(),
    ));
    assert_eq!((e.line, e.field.as_str()), (6, "Amt"));
    assert!(e.message.contains("EUR"));

    let e = one(camt_errors(
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Document/>",
    ));
    assert_eq!(e.field, "encoding");

    let e = one(camt_errors(b"<Document><Other/></Document>"));
    assert_eq!(e.field, "BkToCstmrDbtCdtNtfctn");

    let broken = camt(&[entry("P1", "1.00", "BOOK", "")]).replace("</Refs>", "</Ref>");
    let e = one(camt_errors(broken.as_bytes()));
    assert_eq!(e.line, 6, "{e}");
}

#[test]
fn a_reversal_after_payment_in_one_file_is_legitimate() {
    let lines = [
        AnswerLine {
            line: 2,
            end_to_end_id: "P1".into(),
            amount: mad(100),
            outcome: Outcome::Paid,
            booked_on: None,
        },
        AnswerLine {
            line: 3,
            end_to_end_id: "P1".into(),
            amount: mad(100),
            outcome: Outcome::Reversed {
                reason_code: "MD07".into(),
                reason: "beneficiary deceased".into(),
            },
            booked_on: None,
        },
    ];
    let csv = write_answer_csv(Vec::new(), &lines).unwrap();
    assert!(read_answer_csv(csv.as_slice()).all(|r| r.is_ok()));
    let xml = write_camt054(Vec::new(), &notification(), &lines).unwrap();
    assert!(read_camt054(xml.as_slice()).all(|r| r.is_ok()));
}

fn notification() -> NotificationHeader {
    NotificationHeader {
        message_id: "CAMT-1".into(),
        created_at: datetime!(2026-01-11 18:00 UTC),
        account: "ACCOUNT-1".into(),
    }
}

#[test]
fn adhesion_answers_are_read_and_checked() {
    let file = "adhesion_id,status,insurer_number,reason_code,reason\nA1,accepted,AMO-778812,,\nA2,rejected,,R12,déjà assuré\nA1,rejected,,R1,x\nA3,maybe,,,\nA4,accepted,,,\n";
    let results: Vec<_> = read_adhesion_answer(file.as_bytes()).collect();
    assert_eq!(
        results[0].clone().unwrap().outcome,
        AdhesionOutcome::Accepted {
            insurer_number: "AMO-778812".into()
        }
    );
    assert_eq!(results[1].clone().unwrap().line, 3);
    let errors: Vec<(u64, String)> = results
        .into_iter()
        .filter_map(Result::err)
        .map(|e| (e.line, e.field))
        .collect();
    assert_eq!(
        errors,
        [
            (4, "adhesion_id".to_owned()),
            (5, "status".to_owned()),
            (6, "insurer_number".to_owned())
        ]
    );
    let mut bad = b"adhesion_id,status,insurer_number,reason_code,reason\nA1,accepted,N1,,\nA2,rejected,,R1,caf\xe9\n".to_vec();
    bad.extend_from_slice(b"");
    let e = read_adhesion_answer(bad.as_slice())
        .find_map(Result::err)
        .unwrap();
    assert_eq!((e.line, e.field.as_str()), (3, "reason"));
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let code = prop::sample::select(vec![
        "AC01",
        "AC04",
        "AM04",
        "MD07",
        "X",
        "PROVIDER-CODE-17",
    ]);
    prop_oneof![
        Just(Outcome::Paid),
        (code.clone(), "[a-zA-Z0-9 éàçمحد,;\"&<>']{1,250}").prop_map(|(c, r)| Outcome::Failed {
            reason_code: c.into(),
            reason: r.trim().to_owned()
        }),
        (code, "[a-zA-Z0-9 éàçمحد,;\"&<>']{1,40}").prop_map(|(c, r)| Outcome::Reversed {
            reason_code: c.into(),
            reason: r.trim().to_owned()
        }),
    ]
}

fn answer_lines() -> impl Strategy<Value = Vec<AnswerLine>> {
    prop::collection::vec(
        (0i64..100_000_000, outcome(), prop::option::of(0u16..3000)),
        0..40,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (c, outcome, day))| {
                // A reason the reader would fill in from the code is written out, as it would be read.
                let outcome = match outcome {
                    Outcome::Failed {
                        reason_code,
                        reason,
                    } if reason.is_empty() => Outcome::Failed {
                        reason: sanad_payfiles::answer::reason_text(&reason_code)
                            .unwrap_or_default()
                            .into(),
                        reason_code,
                    },
                    Outcome::Reversed {
                        reason_code,
                        reason,
                    } if reason.is_empty() => Outcome::Reversed {
                        reason: sanad_payfiles::answer::reason_text(&reason_code)
                            .unwrap_or_default()
                            .into(),
                        reason_code,
                    },
                    o => o,
                };
                AnswerLine {
                    line: 0,
                    end_to_end_id: format!("SANAD-P{i:08}"),
                    amount: mad(c),
                    outcome,
                    booked_on: day
                        .map(|d| date!(2025 - 01 - 01) + time::Duration::days(i64::from(d))),
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn csv_answers_round_trip(lines in answer_lines()) {
        let bytes = write_answer_csv(Vec::new(), &lines).unwrap();
        let read: Vec<AnswerLine> = read_answer_csv(bytes.as_slice()).map(Result::unwrap).collect();
        prop_assert_eq!(read.len(), lines.len());
        for (i, (r, w)) in read.iter().zip(&lines).enumerate() {
            prop_assert_eq!(r.line, i as u64 + 2);
            prop_assert_eq!(&AnswerLine { line: r.line, ..w.clone() }, r);
        }
    }

    #[test]
    fn camt054_answers_round_trip(lines in answer_lines()) {
        let bytes = write_camt054(Vec::new(), &notification(), &lines).unwrap();
        let read: Vec<AnswerLine> = read_camt054(bytes.as_slice()).map(Result::unwrap).collect();
        prop_assert_eq!(read.len(), lines.len());
        for (i, (r, w)) in read.iter().zip(&lines).enumerate() {
            // Five header lines, then one entry per line.
            prop_assert_eq!(r.line, i as u64 + 6);
            prop_assert_eq!(&AnswerLine { line: r.line, ..w.clone() }, r);
        }
    }

    #[test]
    fn adhesion_answers_round_trip(accepted in prop::collection::vec(any::<bool>(), 0..30)) {
        let answers: Vec<AdhesionAnswer> = accepted.iter().enumerate().map(|(i, a)| AdhesionAnswer {
            line: i as u64 + 2,
            adhesion_id: format!("ADH-{i}"),
            outcome: if *a {
                AdhesionOutcome::Accepted { insurer_number: format!("AMO-{i}") }
            } else {
                AdhesionOutcome::Rejected { reason_code: "R1".into(), reason: "déjà, \"assuré\"".into() }
            },
        }).collect();
        let bytes = write_adhesion_answer(Vec::new(), &answers).unwrap();
        let read: Vec<AdhesionAnswer> = read_adhesion_answer(bytes.as_slice()).map(Result::unwrap).collect();
        prop_assert_eq!(read, answers);
    }
}

#[test]
fn characters_cut_between_reads_are_fine_and_bad_bytes_still_found() {
    let lines: Vec<AnswerLine> = (0..50)
        .map(|i| AnswerLine {
            line: 0,
            end_to_end_id: format!("P{i}"),
            amount: mad(i),
            outcome: Outcome::Failed {
                reason_code: "AC04".into(),
                reason: "الحساب مغلق — compte clôturé".into(),
            },
            booked_on: None,
        })
        .collect();
    let xml = write_camt054(Vec::new(), &notification(), &lines).unwrap();
    for capacity in [1, 2, 3, 5, 7, 64] {
        let read: Vec<AnswerLine> =
            read_camt054(std::io::BufReader::with_capacity(capacity, xml.as_slice()))
                .map(Result::unwrap)
                .collect();
        assert_eq!(read.len(), 50, "capacity {capacity}");
        assert_eq!(read[49].line, 55);
    }
    // Cut the 2-byte "é" of the 10th entry (line 15) in half.
    let text = String::from_utf8(xml.clone()).unwrap();
    let at = text.match_indices("clôturé").nth(9).unwrap().0 + "clôtur".len();
    let mut bad = xml.clone();
    bad.remove(at);
    for capacity in [1, 3, 64, 1 << 16] {
        let results: Vec<_> =
            read_camt054(std::io::BufReader::with_capacity(capacity, bad.as_slice())).collect();
        let e = results.last().unwrap().clone().unwrap_err();
        assert_eq!(
            (results.len(), e.line),
            (10, 15),
            "capacity {capacity}: {e}"
        );
        assert_eq!(e.field, "AddtlInf");
    }
}
