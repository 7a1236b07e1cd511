//! A household as a page shows it, to its citizen and to the agents, supervisors and managers of
//! its territory: its members, its index explained, each programme's answer with the reason, its
//! payments. Everything is read through the same use-cases as the API (scoped and logged).

use axum::extract::{Path, State};
use axum::response::Response;
use sanad_app::Role;
use sanad_app::payments::{PaymentFilter, PaymentState};
use sanad_app::targeting::EnrolmentState;
use sanad_app::targeting::service::{HouseholdTargeting, ProgrammeView};
use sanad_domain::{Household, HouseholdId, Person, Territories};
use sanad_web::views::common::Link;
use sanad_web::views::registry::{
    DeclarationRow, EffectRow, Fact, HouseholdPage, HouseholdView, IndexView, MemberRow,
    PaymentRow, ProgrammeRow,
};
use sanad_web::{Lang, Tr};

use super::{Ctx, render};
use crate::AppState;
use crate::error::ApiError;

/// The domain's language for a reader's language.
pub fn domain_lang(lang: Lang) -> sanad_domain::Lang {
    match lang {
        Lang::Ar => sanad_domain::Lang::Ar,
        Lang::Fr => sanad_domain::Lang::Fr,
        Lang::En => sanad_domain::Lang::En,
    }
}

/// A territory's name in the reader's language (Arabic, else French).
pub fn territory_name(lang: Lang, code: &str) -> String {
    match Territories::morocco().get(code) {
        Some(t) if lang == Lang::Ar => t.name_ar.clone(),
        Some(t) => t.name_fr.clone(),
        None => code.to_string(),
    }
}

/// A person's name in the reader's script first, and the other script's when recorded.
pub fn names(lang: Lang, p: &Person) -> (String, String) {
    let d = &p.data;
    let latin = format!("{} {}", d.first_name, d.last_name);
    let arabic = match (&d.first_name_ar, &d.last_name_ar) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(f), None) => f.clone(),
        (None, Some(l)) => l.clone(),
        (None, None) => String::new(),
    };
    if lang == Lang::Ar && !arabic.is_empty() {
        (arabic, latin)
    } else {
        (latin, arabic)
    }
}

/// The age in whole years on `today`.
pub fn age(birth: time::Date, today: time::Date) -> i64 {
    let mut years = i64::from(today.year() - birth.year());
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years.max(0)
}

fn member_row(t: Tr, p: &Person, today: time::Date) -> MemberRow {
    let d = &p.data;
    let (name, other_name) = names(t.lang, p);
    MemberRow {
        id: p.id.to_string(),
        name,
        other_name,
        relation: t.t(&format!("vocab-relation-{}", d.relation.as_str())),
        sex: t.t(&format!("vocab-sex-{}", d.sex.as_str())),
        birth: t.date(&d.birth_date),
        age: t.tn("member-age", age(d.birth_date, today)),
        national_id: d
            .national_id
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        phone: d.phone.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        disability: t.t(&format!("vocab-disability-{}", d.disability.as_str())),
        schooling: t.t(&format!("vocab-schooling-{}", d.schooling.as_str())),
        occupation: t.t(&format!("vocab-occupation-{}", d.occupation.as_str())),
    }
}

fn period_key(frequency: &str) -> Option<&'static str> {
    match frequency {
        "monthly" => Some("programme-period-month"),
        "quarterly" => Some("programme-period-quarter"),
        "yearly" => Some("programme-period-year"),
        "once" => Some("programme-period-once"),
        _ => None,
    }
}

fn programme_row(t: Tr, p: &ProgrammeView) -> ProgrammeRow {
    let amount = match period_key(&p.frequency) {
        Some(period) if p.eligible && p.amount.centimes() > 0 => t.t2(
            "programme-amount",
            "amount",
            t.mad(p.amount.centimes()),
            "period",
            t.t(period),
        ),
        _ => String::new(),
    };
    // The household's enrolment (a programme paid per person may have several: the best state).
    let enrolment = p.enrolments.iter().min_by_key(|e| match e.state {
        EnrolmentState::Enrolled => 0,
        EnrolmentState::Suspended => 1,
        EnrolmentState::Eligible => 2,
        EnrolmentState::Exited => 3,
    });
    let enrolled = enrolment.is_some_and(|e| e.state == EnrolmentState::Enrolled);
    let enrolment_text = match enrolment {
        Some(e) if e.state == EnrolmentState::Enrolled => {
            t.t1("programme-enrolled", "date", t.date(&e.since.date()))
        }
        Some(e) => t.t(&format!("programme-state-{}", e.state.as_str())),
        None => String::new(),
    };
    let next_step = if enrolled {
        t.t("programme-how-enrolled")
    } else if p.eligible {
        t.t("programme-how-yes")
    } else {
        t.t("programme-how-no")
    };
    ProgrammeRow {
        code: p.code.clone(),
        name: p.name.clone(),
        eligible: p.eligible,
        verdict: t.t(if p.eligible {
            "programme-yes"
        } else {
            "programme-no"
        }),
        message: p.message.clone(),
        amount,
        enrolment: enrolment_text,
        enrolled,
        next_step,
    }
}

fn index_view(t: Tr, targeting: &HouseholdTargeting, version: u32) -> Option<IndexView> {
    let score = targeting.score.as_ref()?;
    let largest = score
        .contributions
        .iter()
        .map(|c| c.effect.abs())
        .fold(0.0_f64, f64::max);
    let bar = |effect: f64| {
        if largest > 0.0 {
            ((effect.abs() / largest) * 100.0).round().clamp(4.0, 100.0) as u32
        } else {
            0
        }
    };
    let row = |c: &sanad_app::targeting::service::ContributionView| EffectRow {
        sentence: c.sentence.clone(),
        effect: format!(
            "{}{}",
            if c.effect >= 0.0 { "+" } else { "−" },
            t.dec(c.effect.abs(), 2)
        ),
        width: bar(c.effect),
    };
    // Effects too small to matter are left out; the largest come first.
    let shown = |c: &&sanad_app::targeting::service::ContributionView| c.effect.abs() >= 0.005;
    Some(IndexView {
        value: t.t1("index-value", "value", t.dec(score.index, 2)),
        average: t.t1("index-average", "value", t.dec(score.baseline, 2)),
        raised: score
            .contributions
            .iter()
            .filter(shown)
            .filter(|c| c.effect > 0.0)
            .take(6)
            .map(row)
            .collect(),
        lowered: score
            .contributions
            .iter()
            .filter(shown)
            .filter(|c| c.effect < 0.0)
            .take(6)
            .map(row)
            .collect(),
        model: t.t2(
            "index-model",
            "model",
            &score.model_id,
            "version",
            score.model_version,
        ),
        stale: score
            .recorded_household_version
            .is_some_and(|v| v != version),
    })
}

fn payment_row(t: Tr, p: &sanad_app::payments::Payment) -> PaymentRow {
    let kind = match p.state {
        PaymentState::Paid => "ok",
        PaymentState::Failed | PaymentState::Reversed => "bad",
        PaymentState::Pending | PaymentState::Sent => "info",
    };
    PaymentRow {
        date: p.booked_on.map(|d| t.date(&d)).unwrap_or_default(),
        cycle: p.cycle_id,
        amount: t.mad(p.amount),
        state: t.t(&format!("payment-state-{}", p.state.as_str())),
        kind,
        reason: p.reason.clone(),
    }
}

/// Everything a household's page shows, read for `ctx`'s reader.
pub async fn view(
    state: &AppState,
    ctx: &Ctx,
    id: HouseholdId,
) -> Result<(Household, HouseholdView), ApiError> {
    let purpose = crate::auth::purpose(&ctx.parts.headers);
    let household = state.registry.household(&ctx.actor, id, &purpose).await?;
    let t = ctx.t();
    let today = state.registry.now().date();
    let targeting = match &state.targeting {
        Some(targeting) => Some(
            targeting
                .household(&ctx.actor, id, domain_lang(ctx.lang), &purpose)
                .await?,
        ),
        None => None,
    };
    let payments = match &state.payments {
        Some(payments) => payments
            .payments(
                &ctx.actor,
                PaymentFilter {
                    household_id: Some(id),
                    limit: 60,
                    ..Default::default()
                },
            )
            .await
            .map_err(ApiError::from)?,
        None => Vec::new(),
    };
    let declared = match &state.declarations {
        Some(service) => service.of_household(&ctx.actor, id).await?,
        None => Vec::new(),
    };
    let declarations = declared
        .iter()
        .map(|x| DeclarationRow {
            date: t.date(&x.declared_at.date()),
            kind: t.t(&format!("kind-{}", x.kind)),
            details: x.details.clone(),
            happened_on: x
                .happened_on
                .as_deref()
                .and_then(|d| {
                    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                        .ok()
                })
                .map(|d| t.date(&d))
                .unwrap_or_default(),
            status: t.t(&format!("declaration-status-{}", x.status)),
            by: x.declared_by.clone(),
            documents: x
                .documents
                .iter()
                .map(|doc| Link {
                    href: format!(
                        "/households/{id}/declarations/{}/documents/{}",
                        x.id, doc.sha256
                    ),
                    label: doc.name.clone(),
                })
                .collect(),
        })
        .collect();
    let d = &household.data;
    let area = d
        .area
        .map(|a| t.t(&format!("household-area-{}", a.as_str())))
        .unwrap_or_default();
    let place = vec![
        Fact {
            label: t.t("household-place"),
            value: format!(
                "{} · {} · {}",
                territory_name(ctx.lang, &d.commune_code),
                territory_name(ctx.lang, &household.province_code),
                territory_name(ctx.lang, &household.region_code)
            ),
        },
        Fact {
            label: t.t("household-address"),
            value: d.address.clone(),
        },
        Fact {
            label: t.t("household-area"),
            value: area,
        },
    ];
    let facts = vec![
        Fact {
            label: t.t("household-dwelling"),
            value: format!(
                "{} · {}",
                t.t(&format!("vocab-dwelling-{}", d.dwelling_type.as_str())),
                t.t(&format!("vocab-tenure-{}", d.tenure.as_str()))
            ),
        },
        Fact {
            label: t.t("household-rooms"),
            value: t.num(i64::from(d.rooms)),
        },
        Fact {
            label: t.t("household-spending"),
            value: [
                ("household-spending-water", d.water_spending),
                ("household-spending-electricity", d.electricity_spending),
                ("household-spending-phone", d.phone_spending),
                ("household-spending-gas", d.gas_spending),
            ]
            .iter()
            .map(|(k, a)| format!("{} {}", t.t(k), t.mad(a.centimes())))
            .collect::<Vec<_>>()
            .join(" · "),
        },
        Fact {
            label: t.t("household-income"),
            value: t.mad(d.declared_income.centimes()),
        },
    ];
    let assets = if d.assets.is_empty() {
        t.t("core-none")
    } else {
        d.assets
            .iter()
            .map(|a| t.t(&format!("vocab-asset-{}", a.as_str())))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let view = HouseholdView {
        id: household.id.to_string(),
        version: t.t2(
            "household-version",
            "n",
            household.version,
            "date",
            t.date(&household.updated_at.date()),
        ),
        place,
        facts,
        assets,
        member_count: t.tn("household-member-count", household.members.len() as i64),
        members: household
            .members
            .iter()
            .map(|m| member_row(t, m, today))
            .collect(),
        index: targeting
            .as_ref()
            .and_then(|x| index_view(t, x, household.version)),
        programmes: targeting
            .as_ref()
            .map(|x| x.programmes.iter().map(|p| programme_row(t, p)).collect())
            .unwrap_or_default(),
        payments: payments.iter().map(|p| payment_row(t, p)).collect(),
        declarations,
    };
    Ok((household, view))
}

/// `GET /households/{id}`: a household of the reader's territory (a citizen: their own).
pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let Ok(id) = HouseholdId::parse(&id) else {
        return ctx.error(ApiError::not_found("household"));
    };
    let (household, view) = match view(&state, &ctx, id).await {
        Ok(v) => v,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let own = ctx.actor.role == Role::Citizen;
    let heading = if own {
        t.t("household-own-title")
    } else {
        t.t1("household-title", "id", household.id)
    };
    let page = HouseholdPage {
        shell: ctx.shell(heading.clone()),
        t,
        heading,
        h: view,
        edit: sanad_app::policy::role_grants(
            ctx.actor.role,
            sanad_app::policy::Permission::WriteRegistry,
        )
        .then(|| format!("/households/{}/edit", household.id)),
        declare: if own {
            Some("/me/change".to_string())
        } else {
            sanad_app::policy::role_grants(
                ctx.actor.role,
                sanad_app::policy::Permission::WriteRegistry,
            )
            .then(|| format!("/households/{}/declare", household.id))
        },
        requests: if own {
            Some("/me/requests".to_string())
        } else {
            sanad_app::policy::role_grants(
                ctx.actor.role,
                sanad_app::policy::Permission::ReadRequests,
            )
            .then(|| format!("/households/{}/requests", household.id))
        },
        documents: super::certificates::section(&state, &ctx, &household).await,
    };
    render(&page)
}

/// A citizen's home: their own household.
pub async fn own(state: State<AppState>, ctx: Ctx) -> Response {
    match ctx.actor.household {
        Some(id) => page(state, ctx, Path(id.to_string())).await,
        None => ctx.error(ApiError::not_found("household")),
    }
}
