//! How a household is paid: into a bank account, into a mobile wallet, or in cash at an agency of
//! a cash network against a pick-up code. Stored by the payments service as JSON tagged by `kind`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::rib::Rib;

/// One household's means of payment. Built from JSON, it is checked on the way in (a RIB's key,
/// an E.164 phone number, no empty code or name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", try_from = "RawMeans")]
pub enum Means {
    Bank {
        rib: Rib,
        holder: String,
    },
    Wallet {
        /// E.164, e.g. `+212612345678`.
        phone: String,
        /// The wallet operator's code.
        provider: String,
        holder: String,
    },
    Cash {
        /// The agency code within the cash network.
        agency: String,
        /// The pick-up code the beneficiary shows at the counter.
        reference: String,
        holder: String,
    },
}

/// The three kinds of means; a payment batch holds one kind only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeansKind {
    Bank,
    Wallet,
    Cash,
}

impl MeansKind {
    pub const ALL: [MeansKind; 3] = [MeansKind::Bank, MeansKind::Wallet, MeansKind::Cash];

    pub fn as_str(self) -> &'static str {
        match self {
            MeansKind::Bank => "bank",
            MeansKind::Wallet => "wallet",
            MeansKind::Cash => "cash",
        }
    }

    pub fn parse(text: &str) -> Option<MeansKind> {
        MeansKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for MeansKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MeansKind {
    type Err = MeansError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MeansKind::parse(s).ok_or_else(|| MeansError {
            field: "kind",
            message: format!("expected bank, wallet or cash, found {s:?}"),
        })
    }
}

/// Why a means of payment is refused: the field and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct MeansError {
    pub field: &'static str,
    pub message: String,
}

impl Means {
    pub fn kind(&self) -> MeansKind {
        match self {
            Means::Bank { .. } => MeansKind::Bank,
            Means::Wallet { .. } => MeansKind::Wallet,
            Means::Cash { .. } => MeansKind::Cash,
        }
    }

    pub fn holder(&self) -> &str {
        match self {
            Means::Bank { holder, .. }
            | Means::Wallet { holder, .. }
            | Means::Cash { holder, .. } => holder,
        }
    }

    /// Checks what the type cannot say by itself: a phone in E.164 form, codes and names not
    /// empty. The variants' fields are public (an enum's are), so a means built in code is checked
    /// again by the writers.
    pub fn check(&self) -> Result<(), MeansError> {
        let present = |field: &'static str, value: &str| {
            if value.trim().is_empty() {
                Err(MeansError {
                    field,
                    message: "must not be empty".into(),
                })
            } else {
                Ok(())
            }
        };
        present("holder", self.holder())?;
        match self {
            Means::Bank { .. } => Ok(()),
            Means::Wallet {
                phone, provider, ..
            } => {
                present("provider", provider)?;
                check_phone(phone)
            }
            Means::Cash {
                agency, reference, ..
            } => {
                present("agency", agency)?;
                present("reference", reference)
            }
        }
    }
}

/// E.164: a `+`, a country code not starting with 0, at most 15 digits in all.
fn check_phone(phone: &str) -> Result<(), MeansError> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(MeansError {
            field: "phone",
            message: format!("expected an E.164 number such as +212612345678, found {phone:?}"),
        })
    }
}

/// The unchecked shape of [`Means`] in JSON, turned into a `Means` only when it passes
/// [`Means::check`].
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum RawMeans {
    Bank {
        rib: Rib,
        holder: String,
    },
    Wallet {
        phone: String,
        provider: String,
        holder: String,
    },
    Cash {
        agency: String,
        reference: String,
        holder: String,
    },
}

impl TryFrom<RawMeans> for Means {
    type Error = MeansError;
    fn try_from(raw: RawMeans) -> Result<Self, Self::Error> {
        let means = match raw {
            RawMeans::Bank { rib, holder } => Means::Bank { rib, holder },
            RawMeans::Wallet {
                phone,
                provider,
                holder,
            } => Means::Wallet {
                phone,
                provider,
                holder,
            },
            RawMeans::Cash {
                agency,
                reference,
                holder,
            } => Means::Cash {
                agency,
                reference,
                holder,
            },
        };
        means.check()?;
        Ok(means)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn json_is_tagged_by_kind_and_checked() {
        let bank = Means::Bank {
            rib: Rib::parse("011519000001205000534921").unwrap(),
            holder: "فاطمة الزهراء".into(),
        };
        let json = serde_json::to_string(&bank).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"bank","rib":"011519000001205000534921","holder":"فاطمة الزهراء"}"#
        );
        assert_eq!(serde_json::from_str::<Means>(&json).unwrap(), bank);

        let wallet: Means = serde_json::from_str(
            r#"{"kind":"wallet","phone":"+212612345678","provider":"IAM","holder":"Aicha"}"#,
        )
        .unwrap();
        assert_eq!(wallet.kind(), MeansKind::Wallet);
        assert_eq!(wallet.holder(), "Aicha");

        assert!(
            serde_json::from_str::<Means>(
                r#"{"kind":"wallet","phone":"0612345678","provider":"IAM","holder":"Aicha"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<Means>(
                r#"{"kind":"cash","agency":"","reference":"X1","holder":"Aicha"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<Means>(
                r#"{"kind":"bank","rib":"011519000001205000534920","holder":"Aicha"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn kinds_have_names() {
        for kind in MeansKind::ALL {
            assert_eq!(MeansKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.as_str().parse::<MeansKind>().unwrap(), kind);
        }
        assert!("cheque".parse::<MeansKind>().is_err());
    }
}
