//! Adding what the load step found: declared connectors rendered (jinja templates, or
//! jq output as it is), disabled ones by name, every name once; and the byte counts of
//! what was read against the [`limits`].

use std::{
    cell::OnceCell,
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::Path,
};

use super::{
    Declared, Location, ManifestError, Retired, Warning, collect, configmap, files, limits, load,
    template::{self, Context},
};
use crate::plan::{self, Desired, redact::Redactor};

/// Finds `--vars` values in jq output: a value that is one, or holds one of 4
/// characters or more, is redacted whole (like a `{{ vars.X }}` value). Built on first
/// use: most loads have no jq output.
pub struct Scrub<'a> {
    vars: &'a BTreeMap<String, String>,
    built: OnceCell<(HashSet<&'a str>, Redactor)>,
}

impl<'a> Scrub<'a> {
    pub fn new(vars: &'a BTreeMap<String, String>) -> Self {
        Self {
            vars,
            built: OnceCell::new(),
        }
    }

    fn holds_vars(&self, text: &str) -> bool {
        let (exact, redactor) = self.built.get_or_init(|| {
            let exact = self.vars.values().filter(|v| !v.is_empty());
            let redactor = Redactor::new(self.vars.values().cloned(), BTreeMap::new());
            (exact.map(String::as_str).collect(), redactor)
        });
        exact.contains(text) || redactor.text(text) != text
    }
}

/// The connectors declared so far, and where each name was first declared.
#[derive(Default)]
pub struct Declaring {
    pub connectors: Vec<Declared>,
    pub retired: Vec<Retired>,
    /// Where each name was first declared or disabled: the duplicate check is one lookup.
    by_name: HashMap<String, Location>,
    /// Bytes of the manifests read so far.
    bytes: u64,
    /// What the manifests do that is accepted but ignored (Strimzi's leniency).
    pub warnings: Vec<Warning>,
}

impl Declaring {
    /// Counts one manifest's `size`, refusing one over [`limits::MANIFEST_FILE_BYTES`]
    /// or all over [`limits::MANIFEST_TOTAL_BYTES`].
    pub fn count(&mut self, name: &Path, size: u64) -> Result<(), ManifestError> {
        self.bytes += size;
        let (limit, what) = match () {
            () if size > limits::MANIFEST_FILE_BYTES => {
                (limits::MANIFEST_FILE_BYTES, "larger than")
            }
            () if self.bytes > limits::MANIFEST_TOTAL_BYTES => (
                limits::MANIFEST_TOTAL_BYTES,
                "the manifests together exceed",
            ),
            () => return Ok(()),
        };
        let reason = format!("{what} the {} limit", files::bytes(limit));
        Err(files::io_error(name, reason))
    }

    /// Adds one entry's connectors: declared ones rendered (templates, or jq output as
    /// it is), disabled ones by name only; refuses duplicate names.
    pub fn entry(
        &mut self,
        entry: collect::Resolved,
        context: &Context,
        scrub: &Scrub<'_>,
    ) -> Result<(), ManifestError> {
        match (entry.enabled, entry.rendered) {
            (configmap::Enabled::No, _) => entry.raws.into_iter().try_for_each(|raw| {
                self.first(&raw.name, &raw.location)?;
                self.retired.push(Retired {
                    name: raw.name,
                    location: raw.location,
                });
                Ok(())
            }),
            (configmap::Enabled::Yes, false) => self.add(entry.raws, context),
            (configmap::Enabled::Yes, true) => entry
                .raws
                .into_iter()
                .try_for_each(|raw| self.add_rendered(raw, scrub)),
        }
    }

    /// Renders one file's `raws` and adds them, refusing duplicate names.
    fn add(&mut self, raws: Vec<load::Raw>, context: &Context) -> Result<(), ManifestError> {
        let mut rendered = template::Budget::per_file();
        for raw in raws {
            let (config, from_vars) = template::config(&raw, context, &mut rendered)?;
            self.push(raw, config, from_vars)?;
        }
        Ok(())
    }

    /// A connector a jq program produced: its values are final (stringified as Connect
    /// stores them, never templates); a value holding a `--vars` value is redacted.
    fn add_rendered(&mut self, raw: load::Raw, scrub: &Scrub<'_>) -> Result<(), ManifestError> {
        let mut config = plan::Config::new();
        let mut from_vars = BTreeSet::new();
        for (key, value) in &raw.config {
            let text = template::stringify(value).map_err(|reason| ManifestError::Template {
                location: raw.location.to_string(),
                connector: raw.name.clone(),
                key: key.clone(),
                reason: match value.is_null() {
                    true => format!("{reason}; in jq an unset env.NAME is null"),
                    false => reason,
                },
            })?;
            if scrub.holds_vars(&text) {
                from_vars.insert(key.clone());
            }
            config.insert(key.clone(), text);
        }
        self.push(raw, config, from_vars)
    }

    fn push(
        &mut self,
        raw: load::Raw,
        mut config: plan::Config,
        from_vars: BTreeSet<String>,
    ) -> Result<(), ManifestError> {
        self.first(&raw.name, &raw.location)?;
        if raw.extras.auto_restart.is_some_and(|a| a.enabled) {
            let (key, value) = (plan::REMEDIATED_BY_KEY, plan::REMEDIATED_BY_RECONCILER);
            config.insert(key.into(), value.into());
        }
        self.warnings
            .extend(raw.extras.warnings.into_iter().map(|message| Warning {
                location: raw.location.clone(),
                connector: raw.name.clone(),
                message,
            }));
        self.connectors.push(Declared {
            desired: Desired {
                name: raw.name,
                config,
                state: raw.state,
            },
            location: raw.location,
            from_vars,
            auto_restart: raw.extras.auto_restart,
        });
        Ok(())
    }

    /// Records where `name` is first declared (or disabled); a second time is an error.
    fn first(&mut self, name: &str, location: &Location) -> Result<(), ManifestError> {
        if let Some(first) = self.by_name.get(name) {
            return Err(ManifestError::Duplicate {
                name: name.to_string(),
                first: first.to_string(),
                second: location.to_string(),
            });
        }
        self.by_name.insert(name.to_string(), location.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_bytes_are_capped_per_file_and_in_all() {
        let mut declared = Declaring::default();
        let big = Path::new("configmap/ns/big/a.yaml");
        let err = declared
            .count(big, limits::MANIFEST_FILE_BYTES + 1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "configmap/ns/big/a.yaml: larger than the 4 MiB limit"
        );
        let mut declared = Declaring::default();
        for _ in 0..limits::MANIFEST_TOTAL_BYTES / limits::MANIFEST_FILE_BYTES {
            declared.count(big, limits::MANIFEST_FILE_BYTES).unwrap();
        }
        let err = declared.count(Path::new("last.yaml"), 1).unwrap_err();
        assert!(
            err.to_string().contains("together exceed the 64 MiB limit"),
            "{err}"
        );
    }
}
