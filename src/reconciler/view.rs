//! What the last pass made of each declared connector, for reconcile's status page:
//! where it is declared, who owns it in Connect, its declared state against the live
//! one, what the plan wanted, whether that was drift (Connect changed while the
//! manifests did not), and what became of it. Pure: built from a finished [`Run`]. It
//! holds key names and no config value but another owner's marker; that marker and
//! every message in it went through the pass's redactor.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::SystemTime,
};

use serde::Serialize;
use tokio::sync::watch as channel;

use crate::{
    declare::{DeclareError, Finished, Run},
    manifest::Location,
    plan::{Desired, KeyChange, LiveSummary, Op, Step, TargetState},
};

/// The last pass, as the page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// When it finished; `None` before the first.
    pub at: Option<SystemTime>,
    /// Every declared connector (and every owned one the plan deletes), the ones that
    /// need attention first.
    pub rows: Vec<DeclaredRow>,
    /// Why the pass has no rows: the manifests could not be read, or the source was
    /// not ready (redacted).
    pub problem: Option<String>,
}

/// One declared connector after a pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclaredRow {
    pub name: String,
    pub origin: Origin,
    /// Its declared state; `None` for an owned connector no longer declared.
    pub desired: Option<TargetState>,
    /// What Connect ran: `running`, `paused`, `stopped` or `failed`; `None` when it has
    /// no such connector (or Connect was not read).
    pub live: Option<&'static str>,
    pub ownership: Ownership,
    /// What the plan wanted, e.g. `update tasks.max, topics`, `create (running)`.
    pub plan: String,
    /// The plan's change undoes a change made in Connect: the manifests are the same
    /// as at the last pass that converged.
    pub drift: bool,
    /// The last drift the reconciler found here (kept across passes).
    #[serde(skip)]
    pub last_drift: Option<Drift>,
    pub fate: Fate,
    /// Its manifest enables `autoRestart` (the restart table below lists it).
    pub auto_restart: bool,
}

/// A drift found and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    pub at: SystemTime,
    /// The plan that undoes it.
    pub plan: String,
    /// The plan was written; `false` while it failed, was refused or held back.
    pub corrected: bool,
}

/// Where a connector is declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    /// A manifest file.
    File {
        path: String,
        document: usize,
        line: Option<u64>,
    },
    /// A key of a ConfigMap read from the Kubernetes API.
    ConfigMap {
        namespace: Option<String>,
        name: String,
        key: String,
    },
    /// Nowhere: an owned connector no longer declared.
    Nowhere,
}

/// Who owns the connector in Connect, as the pass found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Ownership {
    /// Its owner marker is ours.
    Ours,
    /// It has no owner marker (declaring it adopts it).
    Unowned,
    /// Another owner's marker (declaring it adopts it).
    Other { owner: String },
    /// Connect has no such connector.
    Absent,
    /// Connect was not read.
    Unknown,
}

/// What became of a connector's plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Fate {
    /// Nothing to change.
    InSync,
    /// The change was written.
    Applied,
    /// Connect refused or failed the change.
    Failed { error: String },
    /// Connect's validation refused the config: nothing of the pass was written.
    Refused { problems: Vec<String> },
    /// Pending: another config was refused, so nothing of the pass was written.
    Held,
    /// No plan was made (the manifests, Connect, or the plan failed; or standby).
    Unplanned { reason: String },
}

impl Fate {
    /// What became of the plan, in a few words: `applied`, `failed: …`.
    pub fn text(&self) -> String {
        match self {
            Fate::InSync => "in sync".into(),
            Fate::Applied => "applied".into(),
            Fate::Failed { error } => format!("failed: {error}"),
            Fate::Refused { problems } => format!("refused: {}", problems.join("; ")),
            Fate::Held => "pending: another config was refused, nothing was written".into(),
            Fate::Unplanned { reason } => format!("not planned: {reason}"),
        }
    }
}

impl DeclaredRow {
    /// 0 for a failure, 1 for a change still pending, 2 for one applied, 3 in sync.
    pub fn attention(&self) -> u8 {
        match self.fate {
            Fate::Failed { .. } | Fate::Refused { .. } => 0,
            Fate::Held | Fate::Unplanned { .. } => 1,
            Fate::Applied => 2,
            Fate::InSync if self.last_drift.is_some() => 2,
            Fate::InSync => 3,
        }
    }
}

/// How many changed keys a plan line names before `and N more`.
const KEYS_SHOWN: usize = 6;

/// What a pass's rows are read against.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The declared set of the last pass that converged (drift is a change without it
    /// changing).
    pub previous: Option<&'a [Desired]>,
    /// Our owner marker.
    pub owner: &'a str,
    /// Locations are ConfigMaps read from the Kubernetes API.
    pub from_api: bool,
}

/// The rows of `run`, the ones that need attention first.
pub fn rows(run: &Run, context: Context<'_>) -> Vec<DeclaredRow> {
    let auto: BTreeSet<&str> = run.auto_restarted.iter().map(|a| a.name.as_str()).collect();
    let desired = by_name(run.desired.as_deref());
    let before = by_name(context.previous);
    let steps: Vec<Step> = match &run.result {
        Ok(finished) => finished.plan().steps.clone(),
        Err(_) => desired.values().map(|d| unplanned(d)).collect(),
    };
    let row = |step: &Step| {
        let name = step.name.as_str();
        let declared = desired.get(name).copied();
        let changes = step.op != Op::Unchanged;
        DeclaredRow {
            name: step.name.clone(),
            origin: origin(run.locations.get(name), context.from_api),
            desired: declared.map(|d| d.state),
            live: run.live.get(name).map(live_state),
            ownership: ownership(run, name, context.owner),
            plan: plan_line(&step.op, run.result.is_ok()),
            drift: changes && declared.is_some() && before.get(name).copied() == declared,
            last_drift: None,
            fate: fate(run, name, changes),
            auto_restart: auto.contains(name),
        }
    };
    let mut rows: Vec<DeclaredRow> = steps.iter().map(row).map(written).collect();
    sort(&mut rows);
    rows
}

/// A row whose change was applied shows Connect as the write left it: ours, in the
/// declared state (or gone, when deleted).
fn written(row: DeclaredRow) -> DeclaredRow {
    if row.fate != Fate::Applied {
        return row;
    }
    let (live, ownership) = match row.desired {
        Some(state) => (Some(state.as_str()), Ownership::Ours),
        None => (None, Ownership::Absent),
    };
    DeclaredRow {
        live,
        ownership,
        ..row
    }
}

fn by_name(desired: Option<&[Desired]>) -> BTreeMap<&str, &Desired> {
    desired
        .into_iter()
        .flatten()
        .map(|d| (d.name.as_str(), d))
        .collect()
}

/// Failures and refusals first, then what is pending, applied, in sync; by name.
pub fn sort(rows: &mut [DeclaredRow]) {
    rows.sort_by(|a, b| (a.attention(), &a.name).cmp(&(b.attention(), &b.name)));
}

/// A placeholder step for a connector no plan was made for.
fn unplanned(desired: &Desired) -> Step {
    Step {
        name: desired.name.clone(),
        op: Op::Unchanged,
    }
}

/// A connector's fate in `run`, from whether its plan changes it.
fn fate(run: &Run, name: &str, changes: bool) -> Fate {
    let redact = |text: &str| run.redactor.text(text);
    match &run.result {
        Err(e) => Fate::Unplanned {
            reason: redact(&why(e)),
        },
        Ok(_) if !changes => Fate::InSync,
        Ok(Finished::Planned(_)) => Fate::Held,
        Ok(Finished::Invalid { invalid, .. }) => match invalid.iter().find(|i| i.name == name) {
            Some(i) => Fate::Refused {
                problems: i.problems.iter().map(|p| redact(p)).collect(),
            },
            None => Fate::Held,
        },
        Ok(Finished::Written { reports, .. }) => {
            match reports.iter().find(|r| r.name == name).map(|r| &r.result) {
                Some(Ok(())) => Fate::Applied,
                Some(Err(e)) => Fate::Failed {
                    error: redact(&e.to_string()),
                },
                None => Fate::Held,
            }
        }
    }
}

fn why(error: &DeclareError) -> String {
    match error {
        DeclareError::Manifest(e) => format!("the manifests cannot be used: {e}"),
        DeclareError::Connect(e) => format!("Connect could not be read: {e}"),
        DeclareError::Plan(e) => format!("the plan was refused: {e}"),
    }
}

fn origin(location: Option<&Location>, from_api: bool) -> Origin {
    let Some(location) = location else {
        return Origin::Nowhere;
    };
    let path = location.file.to_string_lossy();
    let parts: Vec<&str> = path
        .strip_prefix("configmap/")
        .filter(|_| from_api)
        .map(|rest| rest.splitn(3, '/').collect())
        .unwrap_or_default();
    match parts.as_slice() {
        [namespace, name, key] => Origin::ConfigMap {
            namespace: Some((*namespace).into()),
            name: (*name).into(),
            key: (*key).into(),
        },
        [name, key] => Origin::ConfigMap {
            namespace: None,
            name: (*name).into(),
            key: (*key).into(),
        },
        _ => Origin::File {
            path: path.into_owned(),
            document: location.document,
            line: location.line,
        },
    }
}

fn live_state(live: &LiveSummary) -> &'static str {
    match live.failed {
        true => "failed",
        false => live.state.as_str(),
    }
}

/// Connect was read when the run planned, or failed only after reading it.
fn ownership(run: &Run, name: &str, ours: &str) -> Ownership {
    let read = run.result.is_ok() || !run.live.is_empty();
    match (run.live.get(name), read) {
        (None, false) => Ownership::Unknown,
        (None, true) => Ownership::Absent,
        (Some(live), _) => match &live.owner {
            None => Ownership::Unowned,
            Some(owner) if owner == ours => Ownership::Ours,
            Some(owner) => Ownership::Other {
                owner: run.redactor.text(owner),
            },
        },
    }
}

/// What the plan wanted, in a few words; `planned` false: no plan was made.
fn plan_line(op: &Op, planned: bool) -> String {
    match op {
        Op::Unchanged if !planned => "not planned".into(),
        Op::Unchanged => "in sync".into(),
        Op::Create { state, .. } => format!("create ({})", state.as_str()),
        Op::Update {
            changes,
            then,
            adopt,
            ..
        } => {
            let verb = if *adopt { "adopt, update" } else { "update" };
            let then = then
                .map(|t| format!("; then {}", t.as_str()))
                .unwrap_or_default();
            format!("{verb} {}{then}", keys(changes))
        }
        Op::Transition(t) => t.as_str().into(),
        Op::Delete => "delete (owned, no longer declared)".into(),
    }
}

/// `a, b, c and 2 more`.
fn keys(changes: &[KeyChange]) -> String {
    let shown: Vec<&str> = changes
        .iter()
        .take(KEYS_SHOWN)
        .map(KeyChange::key)
        .collect();
    match changes.len().saturating_sub(KEYS_SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// Carries the drifts found in this pass's rows into `memory` (at `now`, corrected only
/// when their plan was written), forgets connectors no longer listed, and sets each
/// row's last drift from it.
pub fn remember_drift(
    memory: &mut BTreeMap<String, Drift>,
    rows: &mut [DeclaredRow],
    now: SystemTime,
) {
    memory.retain(|name, _| rows.iter().any(|r| &r.name == name));
    for row in rows.iter_mut() {
        if row.drift {
            let drift = Drift {
                at: now,
                plan: row.plan.clone(),
                corrected: row.fate == Fate::Applied,
            };
            memory.insert(row.name.clone(), drift);
        }
        row.last_drift = memory.get(&row.name).cloned();
    }
    sort(rows);
}

/// Where the rows are published after each pass, with the drifts remembered across
/// passes.
pub struct Board {
    sender: channel::Sender<Arc<Pass>>,
    drifts: BTreeMap<String, Drift>,
}

impl Default for Board {
    fn default() -> Self {
        Self {
            sender: channel::Sender::new(Arc::default()),
            drifts: BTreeMap::new(),
        }
    }
}

impl Board {
    /// Readers of the last pass's rows.
    pub fn subscribe(&self) -> channel::Receiver<Arc<Pass>> {
        self.sender.subscribe()
    }

    /// Publishes the rows of `run`.
    pub fn publish(&mut self, run: &Run, context: Context<'_>) {
        let now = SystemTime::now();
        let mut rows = rows(run, context);
        remember_drift(&mut self.drifts, &mut rows, now);
        let problem = match (&run.desired, &run.result) {
            (None, Err(e)) => Some(run.redactor.text(&why(e))),
            _ => None,
        };
        self.send(rows, problem);
    }

    /// Publishes a pass that read no manifests, and why.
    pub fn unread(&self, why: &str) {
        self.send(Vec::new(), Some(why.to_string()));
    }

    /// Publishes a pass with no rows and forgets the drifts: a standby replica plans
    /// nothing and does not know what the leader found.
    pub fn clear(&mut self) {
        self.drifts.clear();
        self.send(Vec::new(), None);
    }

    fn send(&self, rows: Vec<DeclaredRow>, problem: Option<String>) {
        self.sender.send_replace(Arc::new(Pass {
            at: Some(SystemTime::now()),
            rows,
            problem,
        }));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{
        connect::ConnectError,
        declare::{ChangeResult, InvalidConfig},
        plan::{Plan, Transition, redact::Redactor},
    };

    const CANARY: &str = "CANARY-view-2718";

    fn desired(name: &str, value: &str) -> Desired {
        Desired {
            name: name.into(),
            config: [("k".to_string(), value.to_string())].into(),
            state: TargetState::Running,
        }
    }

    fn live(owner: Option<&str>) -> LiveSummary {
        LiveSummary {
            state: TargetState::Running,
            failed: false,
            owner: owner.map(Into::into),
        }
    }

    fn update(key: &str) -> Op {
        Op::Update {
            config: Default::default(),
            changes: vec![KeyChange::Changed {
                key: key.into(),
                old: CANARY.into(),
                new: "new".into(),
            }],
            then: None,
            adopt: false,
        }
    }

    fn step(name: &str, op: Op) -> Step {
        Step {
            name: name.into(),
            op,
        }
    }

    fn run(desired: Vec<Desired>, result: Result<Finished, DeclareError>) -> Run {
        let locations = desired
            .iter()
            .map(|d| {
                let file = format!("connectors/{}.yaml", d.name).into();
                let location = Location {
                    file,
                    document: 1,
                    line: Some(1),
                };
                (d.name.clone(), location)
            })
            .collect();
        Run {
            redactor: Redactor::new([CANARY.to_string()], Default::default()),
            desired: Some(desired),
            auto_restarted: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
            locations,
            live: [
                ("a".to_string(), live(Some("me"))),
                ("b".to_string(), live(None)),
                ("old".to_string(), live(Some("me"))),
            ]
            .into(),
            result,
        }
    }

    fn context(previous: Option<&[Desired]>) -> Context<'_> {
        Context {
            previous,
            owner: "me",
            from_api: false,
        }
    }

    /// A written pass: `a` in sync, `b` adopted, `c` failed with a message echoing a
    /// secret, `old` deleted; the failure comes first and nothing shows the secret.
    #[test]
    fn a_written_pass_lists_failures_first_and_never_a_value() {
        let plan = Plan {
            steps: vec![
                step("a", Op::Unchanged),
                step("b", update("tasks.max")),
                step(
                    "c",
                    Op::Create {
                        config: Default::default(),
                        state: TargetState::Paused,
                    },
                ),
                step("old", Op::Delete),
            ],
        };
        let failed = ConnectError::Status {
            call: "PUT /connectors/c/config".into(),
            status: 500,
            message: format!("bad password {CANARY}"),
        };
        let reports = vec![
            ChangeResult {
                name: "b".into(),
                action: String::new(),
                verb: "update",
                result: Ok(()),
            },
            ChangeResult {
                name: "c".into(),
                action: String::new(),
                verb: "create",
                result: Err(failed),
            },
            ChangeResult {
                name: "old".into(),
                action: String::new(),
                verb: "delete",
                result: Ok(()),
            },
        ];
        let declared = vec![desired("a", "1"), desired("b", "1"), desired("c", "1")];
        let run = run(declared, Ok(Finished::Written { plan, reports }));
        let rows = rows(&run, context(None));
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "old", "a"]);
        let shown = format!("{rows:?}");
        assert!(!shown.contains(CANARY), "{shown}");
        assert!(matches!(&rows[0].fate, Fate::Failed { error } if error.contains("bad password")));
        assert_eq!(rows[0].ownership, Ownership::Absent);
        assert_eq!(rows[1].plan, "update tasks.max");
        assert_eq!(rows[1].ownership, Ownership::Ours, "written: ours now");
        assert_eq!(rows[2].origin, Origin::Nowhere);
        assert_eq!((rows[2].desired, rows[2].live), (None, None), "deleted");
        assert_eq!(
            (rows[3].ownership.clone(), rows[3].live),
            (Ownership::Ours, Some("running"))
        );
    }

    /// Drift is a change while the manifests are the same as when the pass converged.
    #[test]
    fn drift_is_a_change_under_unchanged_manifests() {
        let plan = || Plan {
            steps: vec![step("a", update("tasks.max")), step("b", update("topics"))],
        };
        let reports = || {
            ["a", "b"]
                .map(|name| ChangeResult {
                    name: name.into(),
                    action: String::new(),
                    verb: "update",
                    result: Ok(()),
                })
                .into()
        };
        let now = vec![desired("a", "1"), desired("b", "2")];
        let before = vec![desired("a", "1"), desired("b", "1")];
        let written = Finished::Written {
            plan: plan(),
            reports: reports(),
        };
        let rows = rows(&run(now, Ok(written)), context(Some(&before)));
        let drift: Vec<(&str, bool)> = rows.iter().map(|r| (r.name.as_str(), r.drift)).collect();
        assert_eq!(drift, [("a", true), ("b", false)]);
    }

    /// A refused config holds the whole pass: it is refused, the others are pending.
    #[test]
    fn a_refused_config_holds_every_change() {
        let plan = Plan {
            steps: vec![
                step("a", update("x")),
                step("b", Op::Transition(Transition::Pause)),
            ],
        };
        let invalid = vec![InvalidConfig {
            name: "a".into(),
            problems: vec![format!("x: must not be {CANARY}")],
        }];
        let declared = vec![desired("a", "1"), desired("b", "1")];
        let rows = rows(
            &run(declared, Ok(Finished::Invalid { plan, invalid })),
            context(None),
        );
        assert_eq!(
            rows[0].fate,
            Fate::Refused {
                problems: vec!["x: must not be (redacted)".into()]
            }
        );
        assert_eq!(
            (rows[1].plan.as_str(), &rows[1].fate),
            ("pause", &Fate::Held)
        );
    }

    /// Without a plan every declared connector is listed, unplanned, with the reason.
    #[test]
    fn an_unreadable_connect_leaves_every_connector_unplanned() {
        let error = ConnectError::Unreachable {
            url: "http://connect".into(),
            reason: "refused".into(),
        };
        let mut run = run(vec![desired("a", "1")], Err(DeclareError::Connect(error)));
        run.live.clear();
        let rows = rows(&run, context(None));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].ownership, Ownership::Unknown);
        assert_eq!(rows[0].plan, "not planned");
        assert!(
            matches!(&rows[0].fate, Fate::Unplanned { reason } if reason.contains("Connect could not be read"))
        );
    }

    #[test]
    fn configmap_documents_read_from_the_api_are_configmaps() {
        let at = |file: &str| Location {
            file: file.into(),
            document: 2,
            line: None,
        };
        assert_eq!(
            origin(Some(&at("configmap/kafka/orders/a.yaml")), true),
            Origin::ConfigMap {
                namespace: Some("kafka".into()),
                name: "orders".into(),
                key: "a.yaml".into()
            }
        );
        assert!(matches!(
            origin(Some(&at("configmap/kafka/orders/a.yaml")), false),
            Origin::File { document: 2, .. }
        ));
        assert_eq!(origin(None, true), Origin::Nowhere);
    }

    #[test]
    fn a_drift_is_remembered_until_the_connector_is_gone() {
        let row = |name: &str, drift: bool| DeclaredRow {
            name: name.into(),
            origin: Origin::Nowhere,
            desired: None,
            live: None,
            ownership: Ownership::Ours,
            plan: if drift { "update k" } else { "in sync" }.into(),
            drift,
            last_drift: None,
            fate: if drift { Fate::Applied } else { Fate::InSync },
            auto_restart: false,
        };
        let mut memory = BTreeMap::new();
        let t0 = SystemTime::UNIX_EPOCH;
        remember_drift(&mut memory, &mut [row("a", true), row("b", false)], t0);
        let mut later = [row("b", false), row("a", false)];
        remember_drift(
            &mut memory,
            &mut later,
            t0 + std::time::Duration::from_secs(9),
        );
        assert_eq!(
            later[0].name, "a",
            "a recent drift needs a look before in-sync rows"
        );
        assert_eq!(
            later[0].last_drift,
            Some(Drift {
                at: t0,
                plan: "update k".into(),
                corrected: true,
            })
        );
        let mut refused = [DeclaredRow {
            fate: Fate::Failed { error: "no".into() },
            ..row("b", true)
        }];
        remember_drift(&mut memory, &mut refused, t0);
        assert_eq!(
            refused[0].last_drift.as_ref().map(|d| d.corrected),
            Some(false),
            "a drift whose correction failed is not called corrected"
        );
        remember_drift(&mut memory, &mut [row("c", false)], t0);
        assert!(memory.is_empty());
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Unchanged),
            Just(Op::Delete),
            Just(Op::Transition(Transition::Stop)),
            "[a-z]{1,3}".prop_map(|k| update(&k)),
        ]
    }

    proptest! {
        /// Every step of the plan is one row, failures before pending before applied
        /// before in sync, and by name within each.
        #[test]
        fn every_step_is_one_row_in_attention_order(
            ops in prop::collection::btree_map("[a-z]{1,4}", (any_op(), any::<bool>()), 0..20),
        ) {
            let steps: Vec<Step> = ops.iter().map(|(n, (op, _))| step(n, op.clone())).collect();
            let reports = ops.iter().filter(|(_, (op, _))| *op != Op::Unchanged).map(|(n, (_, ok))| ChangeResult {
                name: n.clone(),
                action: String::new(),
                verb: "update",
                result: match ok {
                    true => Ok(()),
                    false => Err(ConnectError::Settings("no".into())),
                },
            }).collect();
            let declared = ops.keys().map(|n| desired(n, "1")).collect();
            let written = Finished::Written { plan: Plan { steps }, reports };
            let rows = rows(&run(declared, Ok(written)), context(None));
            prop_assert_eq!(rows.len(), ops.len());
            prop_assert!(rows.windows(2).all(|w| (w[0].attention(), &w[0].name) < (w[1].attention(), &w[1].name)));
        }
    }
}
