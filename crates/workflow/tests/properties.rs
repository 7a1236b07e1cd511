//! Properties of definitions: what a generator of sound workflows produces always reads, walks
//! that keep making progress always end, and taking away a step's only way out is always caught.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sanad_workflow::{Definition, Problem};

const ROLES: [&str; 7] = [
    "citizen",
    "agent",
    "supervisor",
    "manager",
    "auditor",
    "admin",
    "partner",
];
const OUTCOMES: [&str; 6] = [
    "approved",
    "rejected",
    "withdrawn",
    "issued",
    "resolved",
    "closed",
];

/// A generated workflow: open steps `0..open.len()`, then the final steps. Built so that it is
/// sound: each open step leads to the next (the last to the first final), and every other final
/// has an edge from some open step.
#[derive(Debug, Clone)]
struct Workflow {
    open: Vec<OpenStep>,
    finals: Vec<usize>, // outcome index
}

#[derive(Debug, Clone)]
struct OpenStep {
    role: usize,
    sla: u32,
    /// (target step index, reason required, role override)
    edges: Vec<(usize, bool, Option<usize>)>,
}

fn workflow() -> impl Strategy<Value = Workflow> {
    (1usize..10, 1usize..4).prop_flat_map(|(n, m)| {
        let total = n + m;
        let step = (
            0..ROLES.len(),
            1u32..2000,
            any::<bool>(),
            prop::option::of(0..ROLES.len()),
            prop::collection::vec(
                (0..total, any::<bool>(), prop::option::of(0..ROLES.len())),
                0..3,
            ),
        );
        (
            prop::collection::vec(step, n),
            prop::collection::vec(0..OUTCOMES.len(), m),
            prop::collection::vec(0..n, m),
        )
            .prop_map(move |(steps, finals, sources)| {
                let mut open: Vec<OpenStep> = steps
                    .into_iter()
                    .enumerate()
                    .map(|(i, (role, sla, reason, over, extra))| {
                        let main = if i + 1 < n { i + 1 } else { n };
                        let mut edges = vec![(main, reason, over)];
                        edges.extend(extra);
                        OpenStep { role, sla, edges }
                    })
                    .collect();
                for (k, &src) in sources.iter().enumerate().skip(1) {
                    open[src].edges.push((n + k, false, None));
                }
                Workflow { open, finals }
            })
    })
}

fn step_id(i: usize) -> String {
    format!("step_{i}")
}

fn render(w: &Workflow) -> String {
    let mut out = String::from(
        "kind = \"generated\"\nversion = 3\ninitial = \"step_0\"\n\
         title = { ar = \"طلب\", fr = \"Demande\", en = \"Request\" }\n\
         escalations = [{ after_hours = 0, to_role = \"supervisor\" }]\n",
    );
    for (i, s) in w.open.iter().enumerate() {
        out += &format!(
            "\n[[steps]]\nid = \"{}\"\ntitle = {{ ar = \"خطوة\", fr = \"Étape\", en = \"Step\" }}\nrole = \"{}\"\nsla_hours = {}\ntransitions = [\n",
            step_id(i),
            ROLES[s.role],
            s.sla
        );
        for (j, (to, reason, role)) in s.edges.iter().enumerate() {
            out += &format!(
                "  {{ action = \"a{j}\", to = \"{}\", reason_required = {reason}{} }},\n",
                step_id(*to),
                role.map(|r| format!(", role = \"{}\"", ROLES[r]))
                    .unwrap_or_default()
            );
        }
        out += "]\n";
    }
    for (k, &outcome) in w.finals.iter().enumerate() {
        out += &format!(
            "\n[[steps]]\nid = \"{}\"\ntitle = {{ ar = \"نهاية\", fr = \"Fin\", en = \"End\" }}\nrole = \"agent\"\noutcome = \"{}\"\n",
            step_id(w.open.len() + k),
            OUTCOMES[outcome]
        );
    }
    out
}

proptest! {
    #[test]
    fn sound_workflows_always_read(w in workflow()) {
        let text = render(&w);
        let d = Definition::from_toml(&text, &ROLES);
        prop_assert!(d.is_ok(), "{:?}\n{}", d.err(), text);
        let d = d.unwrap();
        prop_assert_eq!(d.steps().len(), w.open.len() + w.finals.len());
    }

    #[test]
    fn every_listed_action_is_allowed(w in workflow()) {
        let d = Definition::from_toml(&render(&w), &ROLES).unwrap();
        for step in d.steps() {
            for role in ROLES {
                for t in d.actions_for(&step.id, role) {
                    let m = d.advance(&step.id, &t.action, role);
                    prop_assert!(m.is_ok(), "{:?}", m);
                    let m = m.unwrap();
                    prop_assert_eq!(&m.to, &t.to);
                    prop_assert_eq!(m.outcome, d.step(&t.to).unwrap().outcome);
                }
            }
        }
    }

    #[test]
    fn walks_that_make_progress_end_in_time(w in workflow(), choices in prop::collection::vec(any::<u8>(), 64)) {
        let d = Definition::from_toml(&render(&w), &ROLES).unwrap();
        let limit = d.steps().len() * 2;
        let mut at = d.initial().id.clone();
        let mut moves = 0;
        while !d.step(&at).unwrap().is_final() {
            prop_assert!(moves < limit, "no end after {} moves", moves);
            let step = d.step(&at).unwrap();
            let here = d.remaining_steps(&at).unwrap();
            let progress: Vec<_> = step
                .transitions
                .iter()
                .filter(|t| d.remaining_steps(&t.to).is_some_and(|r| r < here))
                .collect();
            prop_assert!(!progress.is_empty(), "stuck at {}", at);
            let t = progress[usize::from(choices[moves % choices.len()]) % progress.len()];
            let m = d.advance(&at, &t.action, step.role_for(t));
            prop_assert!(m.is_ok(), "{:?}", m);
            at = m.unwrap().to;
            moves += 1;
        }
    }

    #[test]
    fn taking_away_the_only_way_out_is_refused(w in workflow(), pick in any::<usize>()) {
        let singles: Vec<usize> = (0..w.open.len()).filter(|&i| w.open[i].edges.len() == 1).collect();
        let victim = if singles.is_empty() { pick % w.open.len() } else { singles[pick % singles.len()] };
        let mut broken = w.clone();
        broken.open[victim].edges.clear();
        let text = render(&broken).replace("transitions = [\n]\n", "");
        let e = Definition::from_toml(&text, &ROLES).unwrap_err();
        prop_assert_eq!(e.problem(), Some(&Problem::NoWayOut), "{}", e);
        let id = step_id(victim);
        prop_assert_eq!(e.step(), Some(id.as_str()));
        let named = format!("step `{id}`");
        prop_assert!(e.to_string().contains(&named), "{}", e);
    }
}
