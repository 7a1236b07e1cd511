//! CSV rows, written straight into byte buffers (fields quoted only when they need it).

use std::fmt::Display;
use std::io::Write;

use sanad_domain::id::{HouseholdId, PersonId};
use time::Date;

use crate::household::{AddrKind, Address};
use crate::model::ASSETS;
use crate::places::{AVENUE, DERB, DOUAR_NAME, DOUAR_PREFIX, DOUAR_STEM, HAY, KSAR, RESIDENCE};

pub(crate) const HOUSEHOLDS_HEADER: &str = "household_id,commune_code,area,address,dwelling_type,tenure,rooms,water_spending,electricity_spending,phone_spending,gas_spending,assets,declared_income\n";
pub(crate) const PERSONS_HEADER: &str = "person_id,household_id,relation,first_name,last_name,first_name_ar,last_name_ar,sex,birth_date,national_id,disability,schooling,occupation,phone,merged_into\n";
pub(crate) const TRUTH_HEADER: &str = "person_id,entity_id\n";

/// Appends a field, quoted if it contains a comma, a quote or a line break.
pub(crate) fn push_field(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in s {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s);
    }
}

pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// MAD with two decimals from cents.
pub(crate) fn push_money(out: &mut Vec<u8>, cents: u32) {
    push_u64(out, u64::from(cents / 100));
    let c = cents % 100;
    out.extend_from_slice(&[b'.', b'0' + (c / 10) as u8, b'0' + (c % 10) as u8]);
}

pub(crate) fn push_date(out: &mut Vec<u8>, julian_day: i32) {
    let Ok(d) = Date::from_julian_day(julian_day) else {
        return;
    };
    let y = d.year().clamp(0, 9999) as u32;
    let (m, day) = (d.month() as u8, d.day());
    out.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + day / 10,
        b'0' + day % 10,
    ]);
}

fn push_display(out: &mut Vec<u8>, v: impl Display) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v}");
}

pub(crate) fn push_household_id(out: &mut Vec<u8>, serial: u64) {
    if let Some(id) = HouseholdId::from_serial(serial) {
        push_display(out, id);
    }
}

pub(crate) fn push_person_id(out: &mut Vec<u8>, serial: u64) {
    if let Some(id) = PersonId::from_serial(serial) {
        push_display(out, id);
    }
}

pub(crate) fn push_assets(out: &mut Vec<u8>, assets: u16) {
    let mut first = true;
    for (i, name) in ASSETS.iter().enumerate() {
        if assets & (1 << i) != 0 {
            if !first {
                out.push(b';');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
        }
    }
}

/// Writes an address (unquoted) into `out`.
pub(crate) fn render_address(out: &mut Vec<u8>, a: &Address) {
    let ar = a.arabic;
    let get = |list: &'static [(&'static str, &'static str)], i: u16| {
        list.get(i as usize)
            .map_or("", |w| if ar { w.1 } else { w.0 })
    };
    let no: &str = match (ar, a.style) {
        (true, _) => "رقم ",
        (false, 1) => "No ",
        (false, 2) => "n° ",
        _ => "N° ",
    };
    let sep: &str = match (ar, a.style) {
        (true, _) => "، ",
        (false, 3) => " - ",
        _ => ", ",
    };
    let with_hay = a.style != 4;
    let t = |out: &mut Vec<u8>, text: &str| out.extend_from_slice(text.as_bytes());
    let num = |out: &mut Vec<u8>, v: u16| push_u64(out, u64::from(v));
    match a.kind {
        AddrKind::None => {}
        AddrKind::Street | AddrKind::Bloc => {
            if a.kind == AddrKind::Street {
                t(out, if ar { "زنقة " } else { "Rue " });
                num(out, a.a);
            } else {
                t(out, if ar { "بلوك " } else { "Bloc " });
                out.push(b'A' + (a.a % 26) as u8);
            }
            t(out, " ");
            t(out, no);
            num(out, a.b);
            if with_hay {
                t(out, sep);
                t(out, get(HAY, a.c));
            }
        }
        AddrKind::Avenue => {
            t(out, no);
            num(out, a.b);
            t(out, sep);
            t(out, get(AVENUE, a.c));
        }
        AddrKind::Residence => {
            t(out, if ar { "إقامة " } else { "Résidence " });
            t(out, get(RESIDENCE, a.c));
            t(out, if ar { " عمارة " } else { " Imm " });
            num(out, a.a);
            t(out, if ar { " شقة " } else { " Appt " });
            num(out, a.b);
            if with_hay {
                t(out, sep);
                t(out, get(HAY, a.d));
            }
        }
        AddrKind::Derb => {
            t(out, get(DERB, a.c));
            t(out, " ");
            t(out, no);
            num(out, a.b);
        }
        AddrKind::Lot => {
            t(out, if ar { "تجزئة " } else { "Lotissement " });
            t(out, get(RESIDENCE, a.c));
            t(out, " ");
            t(out, no);
            num(out, a.b);
        }
        AddrKind::Douar => {
            t(out, if ar { "دوار " } else { "Douar " });
            t(out, get(DOUAR_PREFIX, a.a));
            t(out, " ");
            t(out, get(DOUAR_STEM, a.c));
        }
        AddrKind::DouarName => {
            t(out, if ar { "دوار " } else { "Douar " });
            t(out, get(DOUAR_NAME, a.c));
        }
        AddrKind::Ksar => t(out, get(KSAR, a.c)),
    }
}
