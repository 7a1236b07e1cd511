//! Closed vocabularies of the registry (relation, sex, schooling…), each with the stable code used in
//! CSV files, JSON and the database.

/// Declares a closed vocabulary: an enum whose variants map one-to-one to stable snake_case codes.
macro_rules! vocabulary {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }

        // Written by hand: utoipa's derive does not see a `serde(rename)` whose value comes from a
        // macro argument and documented the Rust variant names (`Male`) instead of the wire codes
        // (`M`).
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let description = concat!($($doc, "\n"),*).trim();
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .enum_values(Some([$($code),+]))
                    .description((!description.is_empty()).then_some(description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The accepted codes, for error messages: `a | b | c`.
            pub fn expected() -> String {
                [$($code),+].join(" | ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// Relation of a member to the head of the household.
    Relation {
        Head => "head",
        Spouse => "spouse",
        Child => "child",
        Parent => "parent",
        Sibling => "sibling",
        Grandchild => "grandchild",
        OtherRelative => "other_relative",
        NonRelative => "non_relative",
    }
);

vocabulary!(
    Sex {
        Male => "M",
        Female => "F",
    }
);

vocabulary!(
    Disability {
        None => "none",
        Physical => "physical",
        Visual => "visual",
        Hearing => "hearing",
        Mental => "mental",
        Multiple => "multiple",
    }
);

vocabulary!(
    /// Highest level of schooling reached or being attended.
    Schooling {
        None => "none",
        Preschool => "preschool",
        Primary => "primary",
        LowerSecondary => "lower_secondary",
        UpperSecondary => "upper_secondary",
        Higher => "higher",
    }
);

vocabulary!(
    Occupation {
        Employed => "employed",
        SelfEmployed => "self_employed",
        Unemployed => "unemployed",
        Student => "student",
        Homemaker => "homemaker",
        Retired => "retired",
        Inactive => "inactive",
    }
);

vocabulary!(
    DwellingType {
        Apartment => "apartment",
        ModernHouse => "modern_house",
        TraditionalHouse => "traditional_house",
        RuralHouse => "rural_house",
        Makeshift => "makeshift",
        Other => "other",
    }
);

vocabulary!(
    Tenure {
        Owner => "owner",
        Tenant => "tenant",
        FreeLodging => "free_lodging",
        Other => "other",
    }
);

vocabulary!(
    /// Durable goods and productive assets that the proxy means test looks at. The declaration order
    /// is the canonical order in which a set of assets is written.
    Asset {
        Fridge => "fridge",
        Tv => "tv",
        SatelliteDish => "satellite_dish",
        WashingMachine => "washing_machine",
        Computer => "computer",
        Internet => "internet",
        Motorcycle => "motorcycle",
        Car => "car",
        Livestock => "livestock",
        AgriculturalLand => "agricultural_land",
    }
);

impl Sex {
    /// Reads the common spellings found in other administrations' files (`H`/`F`, `homme`, `ذكر`…).
    pub fn parse_lenient(text: &str) -> Option<Self> {
        match text.trim().to_lowercase().as_str() {
            "m" | "h" | "1" | "male" | "homme" | "masculin" | "ذكر" => Some(Sex::Male),
            "f" | "2" | "female" | "femme" | "féminin" | "feminin" | "أنثى" | "انثى" => {
                Some(Sex::Female)
            }
            _ => None,
        }
    }
}
