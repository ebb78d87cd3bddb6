//! The Connect REST operations on the cluster (spec §2–§11): each checks what Connect
//! checks, in Connect's order, and answers with Connect's status codes and messages.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::Value;
use tokio::time::Instant;

mod tasks;

pub use tasks::Restarted;

use crate::{
    cluster::Cluster,
    error::{ApiError, ApiResult},
    model::{Connector, Lingering, StatusView, Target},
    validate::{self, Invalid, RawConfig},
};

/// 409 while a reconfiguration rebalance is pending (spec §18).
pub const STALE_CONFIG: &str = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)";
/// 500 for herder-queued GETs during a pending rebalance on 3.5+ (spec §4).
pub const REBALANCE_EXPECTED: &str = "Request cannot be completed because a rebalance is expected";

impl Cluster {
    /// The connector, or 404 `Connector <name> not found` (spec §4).
    pub fn connector(&self, name: &str) -> ApiResult<&Connector> {
        self.connectors
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))
    }

    fn connector_mut(
        &mut self,
        name: &str,
        message: impl FnOnce() -> String,
    ) -> ApiResult<&mut Connector> {
        self.connectors
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(message()))
    }

    /// A herder-queued GET (info, config, tasks): 500 on 3.5+ or 409 before during a
    /// pending rebalance (spec §4), then 404 for unknown names.
    pub fn queued_read(&self, name: &str, now: Instant) -> ApiResult<&Connector> {
        if self.rebalance_pending(now) {
            return Err(if self.cfg.version.at_least(3, 5) {
                ApiError::internal(REBALANCE_EXPECTED)
            } else {
                ApiError::conflict(STALE_CONFIG)
            });
        }
        self.connector(name)
    }

    fn check_rebalance(&self, now: Instant) -> ApiResult<()> {
        match self.rebalance_pending(now) {
            true => Err(ApiError::conflict(STALE_CONFIG)),
            false => Ok(()),
        }
    }

    /// The `GET /connectors` body (spec §2), plain or expanded, serialized straight from
    /// the cluster (the hot path of every health checker).
    pub fn list_body(&self, expand: Option<&[String]>) -> Vec<u8> {
        let body = match expand {
            None => serde_json::to_vec(&self.connectors.keys().collect::<Vec<_>>()),
            Some(expand) => serde_json::to_vec(&Expanded {
                cluster: self,
                expand,
            }),
        };
        body.unwrap_or_default()
    }

    /// Validates a config for create (`put` false) or replace/patch and returns what would
    /// be stored (spec §3). An unknown class is a 500 before 4.1 and a 400 from 4.1 on,
    /// where PUT and PATCH prefix the exception class (seen on a real 4.3.1 worker).
    fn checked(
        &self,
        name: &str,
        mut raw: RawConfig,
        put: bool,
    ) -> ApiResult<BTreeMap<String, String>> {
        raw.entry("name".into())
            .or_insert_with(|| Some(name.into()));
        let report = validate::validate(&raw, self.cfg.version).map_err(|e| match e {
            Invalid::NoConnectorType => ApiError::bad_request(format!(
                "Connector config {} contains no connector type",
                validate::java_map(&raw)
            )),
            Invalid::UnknownClass(class) => {
                let message = validate::unknown_class_message(&class, &self.kafka_version());
                match (self.cfg.version.at_least(4, 1), put) {
                    (false, _) => ApiError::internal(message),
                    (true, false) => ApiError::bad_request(message),
                    (true, true) => ApiError::bad_request(format!(
                        "org.apache.kafka.connect.errors.ConnectException: {message}"
                    )),
                }
            }
            Invalid::BadVersionRange(message) => ApiError::bad_request(message),
        })?;
        if !report.errors.is_empty() {
            return Err(ApiError::bad_request(validate::invalid_config_message(
                &report.errors,
            )));
        }
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    /// `POST /connectors` (spec §3): validate, then 409 if it exists, then store.
    pub fn create(
        &mut self,
        name: &str,
        raw: RawConfig,
        initial: Target,
        now: Instant,
    ) -> ApiResult<Value> {
        check_name_matches(name, &raw)?;
        let config = self.checked(name, raw, false)?;
        if self.connectors.contains_key(name) {
            return Err(ApiError::conflict(format!(
                "Connector {name} already exists"
            )));
        }
        Ok(self.insert(name, config, initial, now))
    }

    fn insert(
        &mut self,
        name: &str,
        config: BTreeMap<String, String>,
        target: Target,
        now: Instant,
    ) -> Value {
        let worker = self.assign_worker();
        let connector = Connector::new(name, config, target, worker);
        self.lingering.remove(name);
        let info = self.info_json(&connector);
        self.connectors.insert(name.into(), connector);
        self.open_rebalance_window(now);
        self.schedule_start(name, 1, now);
        info
    }

    /// `PUT /connectors/{name}/config` (spec §5.2): `(created, info)`.
    pub fn put_config(
        &mut self,
        name: &str,
        raw: RawConfig,
        now: Instant,
    ) -> ApiResult<(bool, Value)> {
        check_name_matches(name, &raw)?;
        let config = self.checked(name, raw, true)?;
        if !self.connectors.contains_key(name) {
            return Ok((true, self.insert(name, config, Target::Started, now)));
        }
        Ok((false, self.replace(name, config, now)))
    }

    /// `PATCH /connectors/{name}/config` (spec §5.3): `null` removes a key.
    pub fn patch_config(&mut self, name: &str, patch: RawConfig, now: Instant) -> ApiResult<Value> {
        let current = &self.connector(name)?.config;
        let mut merged: RawConfig = current
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        for (key, value) in patch {
            match value {
                Some(v) => merged.insert(key, Some(v)),
                None => merged.remove(&key),
            };
        }
        let config = self.checked(name, merged, true)?;
        Ok(self.replace(name, config, now))
    }

    /// Stores a new config for an existing connector: the instance restarts (spec §5.2).
    fn replace(&mut self, name: &str, config: BTreeMap<String, String>, now: Instant) -> Value {
        let Some(c) = self.connectors.get_mut(name) else {
            return Value::Null;
        };
        c.config = config;
        c.task_configs = None;
        c.generation += 1;
        let generation = c.generation;
        let info = self.info_json(&self.connectors[name]);
        self.schedule_start(name, generation, now);
        info
    }

    /// `DELETE /connectors/{name}` (spec §9): the status lingers (spec §18).
    pub fn delete(&mut self, name: &str, now: Instant) -> ApiResult<()> {
        let c = self
            .connectors
            .remove(name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
        if let Some(status) = c.status {
            self.lingering.insert(
                name.into(),
                Lingering {
                    status,
                    tasks: c.tasks,
                },
            );
            self.schedule_linger(name, now);
        }
        self.open_rebalance_window(now);
        Ok(())
    }

    /// `PUT /connectors/{name}/pause` (spec §9).
    pub fn pause(&mut self, name: &str, now: Instant) -> ApiResult<()> {
        self.connector_mut(name, || format!("Unknown connector {name}"))?
            .target = Target::Paused;
        self.schedule_target(name, now);
        Ok(())
    }

    /// `PUT /connectors/{name}/resume` (spec §9): also resumes a STOPPED connector.
    pub fn resume(&mut self, name: &str, now: Instant) -> ApiResult<()> {
        let c = self.connector_mut(name, || format!("Unknown connector {name}"))?;
        let was = std::mem::replace(&mut c.target, Target::Started);
        if was == Target::Stopped {
            c.generation += 1;
            let generation = c.generation;
            self.schedule_start(name, generation, now);
        } else {
            self.schedule_target(name, now);
        }
        Ok(())
    }

    /// `PUT /connectors/{name}/stop` (spec §9): task configs emptied at once.
    pub fn stop(&mut self, name: &str, now: Instant) -> ApiResult<()> {
        let c = self.connector_mut(name, || format!("Unknown connector {name}"))?;
        c.target = Target::Stopped;
        c.task_count = 0;
        c.generation += 1;
        self.open_rebalance_window(now);
        self.schedule_target(name, now);
        Ok(())
    }
}

/// The `?expand=` map: connectors without a status record are left out entirely when
/// `status` is asked for, even with `info` (spec §2.2 trap).
struct Expanded<'a> {
    cluster: &'a Cluster,
    expand: &'a [String],
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<Value>,
}

impl Serialize for Expanded<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wants = |what: &str| self.expand.iter().any(|v| v == what);
        let mut map = serializer.serialize_map(None)?;
        for (name, c) in &self.cluster.connectors {
            let status = wants("status").then(|| self.cluster.status_view(name));
            if matches!(status, Some(None)) {
                continue;
            }
            let info = wants("info").then(|| self.cluster.info_json(c));
            map.serialize_entry(
                name,
                &Entry {
                    status: status.flatten(),
                    info,
                },
            )?;
        }
        map.end()
    }
}

/// 400 when the config's `name` differs from the connector name (spec §3, §5.2).
fn check_name_matches(name: &str, raw: &RawConfig) -> ApiResult<()> {
    match raw.get("name") {
        Some(Some(config_name)) if config_name != name => Err(ApiError::bad_request(format!(
            "Connector name configuration ({config_name}) doesn't match connector name in the URL ({name})"
        ))),
        _ => Ok(()),
    }
}
