//! Households for the tests: random but reproducible facts, without any generator crate.

#![allow(dead_code, clippy::unwrap_used)]

use sanad_domain::{
    Amount, Area, Asset, AssetSet, Disability, DwellingType, HouseholdFacts, MemberFacts,
    Occupation, Relation, Schooling, Sex, Tenure,
};

/// xorshift64*: enough randomness for test data, same numbers on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.f64();
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

pub fn mad(x: f64) -> Amount {
    Amount::from_centimes((x * 100.0).round() as i64).unwrap()
}

/// A plausible household of region `region`, area `area`.
pub fn household(rng: &mut Rng, region: &str, area: Area) -> HouseholdFacts {
    let size = 1 + rng.below(8);
    let members = (0..size)
        .map(|i| MemberFacts {
            person_id: None,
            relation: if i == 0 {
                Relation::Head
            } else {
                rng.pick(&[Relation::Spouse, Relation::Child, Relation::Parent])
            },
            sex: rng.pick(Sex::ALL),
            age: if i == 0 {
                20 + rng.below(60) as u8
            } else {
                rng.below(90) as u8
            },
            disability: if rng.chance(0.1) {
                Disability::Physical
            } else {
                Disability::None
            },
            schooling: rng.pick(Schooling::ALL),
            occupation: rng.pick(Occupation::ALL),
        })
        .collect();
    let bill = |rng: &mut Rng, p_none: f64, scale: f64| {
        if rng.chance(p_none) {
            Amount::ZERO
        } else {
            mad(scale * (0.3 + 2.0 * rng.f64()))
        }
    };
    let assets: AssetSet = Asset::ALL
        .iter()
        .copied()
        .filter(|_| rng.chance(0.4))
        .collect();
    HouseholdFacts {
        region_code: region.to_owned(),
        area,
        dwelling_type: rng.pick(DwellingType::ALL),
        tenure: rng.pick(Tenure::ALL),
        rooms: 1 + rng.below(6) as u16,
        water_spending: bill(rng, 0.2, 60.0),
        electricity_spending: bill(rng, 0.1, 150.0),
        phone_spending: bill(rng, 0.05, 100.0),
        gas_spending: bill(rng, 0.05, 80.0),
        assets,
        declared_income: mad(3000.0 * rng.f64()),
        members,
    }
}
