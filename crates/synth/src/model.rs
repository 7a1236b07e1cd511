//! The categorical values of the CSV layout, and the consistency rules between members of a household.

macro_rules! labelled {
    ($name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $name { $($variant),+ }

        impl $name {
            pub(crate) fn as_str(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }
    };
}

labelled!(Relation {
    Head => "head",
    Spouse => "spouse",
    Child => "child",
    Parent => "parent",
    Sibling => "sibling",
    Grandchild => "grandchild",
    OtherRelative => "other_relative",
    NonRelative => "non_relative",
});

labelled!(Sex { M => "M", F => "F" });

labelled!(Disability {
    None => "none",
    Physical => "physical",
    Visual => "visual",
    Hearing => "hearing",
    Mental => "mental",
    Multiple => "multiple",
});

labelled!(Schooling {
    None => "none",
    Preschool => "preschool",
    Primary => "primary",
    LowerSecondary => "lower_secondary",
    UpperSecondary => "upper_secondary",
    Higher => "higher",
});

labelled!(Occupation {
    Employed => "employed",
    SelfEmployed => "self_employed",
    Unemployed => "unemployed",
    Student => "student",
    Homemaker => "homemaker",
    Retired => "retired",
    Inactive => "inactive",
});

labelled!(Dwelling {
    Apartment => "apartment",
    ModernHouse => "modern_house",
    TraditionalHouse => "traditional_house",
    RuralHouse => "rural_house",
    Makeshift => "makeshift",
    Other => "other",
});

labelled!(Tenure {
    Owner => "owner",
    Tenant => "tenant",
    FreeLodging => "free_lodging",
    Other => "other",
});

impl Schooling {
    pub(crate) const ALL: [Schooling; 6] = [
        Schooling::None,
        Schooling::Preschool,
        Schooling::Primary,
        Schooling::LowerSecondary,
        Schooling::UpperSecondary,
        Schooling::Higher,
    ];

    pub(crate) fn rank(self) -> usize {
        self as usize
    }
}

impl Dwelling {
    pub(crate) const ALL: [Dwelling; 6] = [
        Dwelling::Apartment,
        Dwelling::ModernHouse,
        Dwelling::TraditionalHouse,
        Dwelling::RuralHouse,
        Dwelling::Makeshift,
        Dwelling::Other,
    ];
}

impl Tenure {
    pub(crate) const ALL: [Tenure; 4] = [
        Tenure::Owner,
        Tenure::Tenant,
        Tenure::FreeLodging,
        Tenure::Other,
    ];
}

/// The assets of `households.csv`, in their canonical order (bit `i` of the asset mask).
pub(crate) const ASSETS: [&str; 10] = [
    "fridge",
    "tv",
    "satellite_dish",
    "washing_machine",
    "computer",
    "internet",
    "motorcycle",
    "car",
    "livestock",
    "agricultural_land",
];

pub(crate) const FRIDGE: u16 = 1 << 0;
pub(crate) const TV: u16 = 1 << 1;
pub(crate) const SATELLITE: u16 = 1 << 2;
pub(crate) const WASHING: u16 = 1 << 3;
pub(crate) const COMPUTER: u16 = 1 << 4;
pub(crate) const INTERNET: u16 = 1 << 5;
pub(crate) const MOTORCYCLE: u16 = 1 << 6;
pub(crate) const CAR: u16 = 1 << 7;
pub(crate) const LIVESTOCK: u16 = 1 << 8;
pub(crate) const LAND: u16 = 1 << 9;

/// What the consistency rules need to know about a member.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub relation: Relation,
    pub sex: Sex,
    pub age: i32,
}

/// Whether a member is plausible next to the head (and the first spouse, if any) of its household:
/// a spouse of the other sex and of a close age, children 15–49 years younger than their mother
/// (15–70 than their father), parents 15–70 years older than the head, grandchildren at least 26 years
/// younger, siblings within 30 years.
pub(crate) fn member_ok(m: Member, head: Member, spouse: Option<Member>) -> bool {
    let parent_gap_ok = |parent: Member, child_age: i32| {
        let d = parent.age - child_age;
        match parent.sex {
            Sex::F => (15..=49).contains(&d),
            Sex::M => (15..=70).contains(&d),
        }
    };
    match m.relation {
        Relation::Head => m.age >= 18,
        Relation::Spouse => m.sex != head.sex && m.age >= 16 && (m.age - head.age).abs() <= 30,
        Relation::Child => {
            parent_gap_ok(head, m.age) && spouse.is_none_or(|s| parent_gap_ok(s, m.age))
        }
        Relation::Parent => (15..=70).contains(&(m.age - head.age)),
        Relation::Grandchild => head.age - m.age >= 26,
        Relation::Sibling => (m.age - head.age).abs() <= 30,
        Relation::OtherRelative | Relation::NonRelative => m.age >= 0,
    }
}
