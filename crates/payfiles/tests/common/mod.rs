//! Builders shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use sanad_domain::money::Amount;
use sanad_payfiles::{BatchHeader, Debtor, Means, MeansKind, Rib};
use time::macros::{date, datetime};

pub fn header(kind: MeansKind, count: u64, control_sum: i64) -> BatchHeader {
    BatchHeader {
        message_id: "SANAD-B000123".into(),
        created_at: datetime!(2026-01-05 09:30:15.123 +01:00),
        initiator: "Agence Nationale du Soutien Social".into(),
        debtor: Debtor {
            name: "Agence Nationale du Soutien Social".into(),
            account: "011780000012345678901297".into(),
            agent_bic: Some("BMCEMAMC".into()),
        },
        execution_date: date!(2026 - 01 - 10),
        count,
        control_sum,
        kind,
        provider: match kind {
            MeansKind::Bank => None,
            MeansKind::Wallet => Some("IAM-WALLET".into()),
            MeansKind::Cash => Some("CASHPLUS".into()),
        },
    }
}

pub fn bank(holder: &str) -> Means {
    Means::Bank {
        rib: Rib::parse("011519000001205000534921").unwrap(),
        holder: holder.into(),
    }
}

pub fn wallet(holder: &str) -> Means {
    Means::Wallet {
        phone: "+212612345678".into(),
        provider: "IAM".into(),
        holder: holder.into(),
    }
}

pub fn cash(holder: &str) -> Means {
    Means::Cash {
        agency: "CP-CASA-042".into(),
        reference: "K7Q-88231".into(),
        holder: holder.into(),
    }
}

pub fn mad(centimes: i64) -> Amount {
    Amount::from_centimes(centimes).unwrap()
}
