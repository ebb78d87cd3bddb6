//! `--vars`: template values from a directory (one file per value, like a mounted
//! Kubernetes Secret: dot entries such as `..data` skipped, symlinks followed, one
//! trailing newline trimmed; a `*.properties` file in it gives its properties, as
//! connect-operator reads `/etc/config/connect-operator/*.properties`) or from a Java
//! `.properties` file, read as Java's `Properties.load` reads it (escapes, `\uXXXX`,
//! continuations, `:`/`=`/space separators, `#`/`!` comments), in UTF-8. One name
//! given two different values (two properties files, or a file and a property) is an
//! error naming both. Regular files only, each and all of them under the [`limits`].

use std::{collections::BTreeMap, fs, path::Path};

use super::{ManifestError, files, limits};

/// Loads the values at `path` (a directory or a `.properties` file).
pub fn load_vars(path: &Path) -> Result<BTreeMap<String, String>, ManifestError> {
    let fail = |reason: String| ManifestError::Vars {
        path: path.display().to_string(),
        reason,
    };
    let meta = fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.is_dir() {
        return directory(path).map_err(fail);
    }
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("properties"))
    {
        return Err(fail(
            "expected a directory (a mounted Secret) or a .properties file".into(),
        ));
    }
    let text = files::read_text(path, limits::VARS_FILE_BYTES).map_err(&fail)?;
    properties(&text).map_err(fail)
}

fn directory(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut values = Values::default();
    let mut total = 0;
    for (name, path) in entries(dir)? {
        // `metadata` follows symlinks: Secret volumes link `key -> ..data/key`.
        let meta = fs::metadata(&path).map_err(|e| format!("{name}: {e}"))?;
        if meta.is_dir() {
            continue;
        }
        let text = files::read_text(&path, limits::VARS_FILE_BYTES)
            .map_err(|e| format!("{name}: {e} (values must be UTF-8 text)"))?;
        total += text.len() as u64;
        if total > limits::VARS_TOTAL_BYTES {
            let limit = files::bytes(limits::VARS_TOTAL_BYTES);
            return Err(format!("the values together exceed the {limit} limit"));
        }
        match name.to_ascii_lowercase().ends_with(".properties") {
            true => {
                for (key, value) in properties(&text).map_err(|e| format!("{name}: {e}"))? {
                    values.insert(key, value, &name)?;
                }
            }
            false => values.insert(name.clone(), trim_newline(&text).to_string(), &name)?,
        }
    }
    Ok(values.values)
}

/// The directory's entries but dot entries, in name order, at most
/// [`limits::VARS_FILES`] of them.
fn entries(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, String> {
    let mut entries = Vec::new();
    for (i, entry) in fs::read_dir(dir).map_err(|e| e.to_string())?.enumerate() {
        if i >= limits::VARS_FILES {
            return Err(format!("more than {} entries", limits::VARS_FILES));
        }
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            entries.push((name, entry.path()));
        }
    }
    entries.sort();
    Ok(entries)
}

/// A directory's values, and which file gave each (to name both of a clash).
#[derive(Default)]
struct Values {
    values: BTreeMap<String, String>,
    from: BTreeMap<String, String>,
}

impl Values {
    fn insert(&mut self, key: String, value: String, file: &str) -> Result<(), String> {
        match self.values.get(&key) {
            Some(old) if *old != value => Err(format!(
                "{key:?} has two different values: in {} and in {file}",
                self.from[&key]
            )),
            _ => {
                self.from.insert(key.clone(), file.to_string());
                self.values.insert(key, value);
                Ok(())
            }
        }
    }
}

/// Removes one trailing `\n` or `\r\n` (editors and `echo` add one).
fn trim_newline(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

/// Java properties as `Properties.load` reads them; a malformed `\uXXXX` is an error
/// naming its line.
pub fn properties(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    java_properties::PropertiesIter::new_with_encoding(text.as_bytes(), encoding_rs::UTF_8)
        .read_into(|key, value| {
            values.insert(key, value);
        })
        .map_err(|e| match e.line_number() {
            Some(line) => format!("line {line}: {e}"),
            None => e.to_string(),
        })?;
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_parsed_like_java() {
        let values =
            properties("# c\n! c\n\na=1\nb: two words\nc = x=y\nlong=ab\\\n   cd\n").unwrap();
        assert_eq!(values["a"], "1");
        assert_eq!(values["b"], "two words");
        assert_eq!(values["c"], "x=y");
        assert_eq!(values["long"], "abcd");
        assert_eq!(values.len(), 4);
    }

    /// What `Properties.store` writes for tricky keys and values.
    #[test]
    fn escapes_as_java_writes_them() {
        let text = "#Tue Dec 01 10:00:00 UTC 2026\nabc\\=def=x\\=y\npath=C\\:\\\\temp\\\\a\nname=caf\\u00E9\na\\ b=\\ lead\\tend\nk\\:1=v\nlist=a,\\\n    b\nkey\\ only=\nspaced value\n";
        let values = properties(text).unwrap();
        assert_eq!(values["abc=def"], "x=y");
        assert_eq!(values["path"], "C:\\temp\\a");
        assert_eq!(values["name"], "café");
        assert_eq!(values["a b"], " lead\tend");
        assert_eq!(values["k:1"], "v");
        assert_eq!(values["list"], "a,b");
        assert_eq!(values["key only"], "", "{values:?}");
        assert_eq!(values["spaced"], "value");
    }

    /// connect-operator's layout: every `*.properties` file of the directory, next
    /// to Secret keys; a name given two values is refused.
    #[test]
    fn properties_files_in_a_directory_give_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "schema-registry-url.properties",
            "schema.registry.url=http://sr:8081\n",
        );
        write(
            "bootstrap.properties",
            "# c\nbootstrap.servers=k:9092\nsasl=a=b=c\n",
        );
        write("MYSQL_PASSWORD", "pw\n");
        let values = directory(dir.path()).unwrap();
        assert_eq!(values["schema.registry.url"], "http://sr:8081");
        assert_eq!(values["sasl"], "a=b=c", "cut at the first = only");
        assert_eq!(values["MYSQL_PASSWORD"], "pw");
        assert_eq!(values.len(), 4, "{values:?}");
        write("other.properties", "schema.registry.url=http://elsewhere\n");
        let err = directory(dir.path()).unwrap_err();
        assert!(
            err.contains("\"schema.registry.url\" has two different values"),
            "{err}"
        );
    }

    #[test]
    fn one_trailing_newline_is_trimmed() {
        assert_eq!(trim_newline("pw\n"), "pw");
        assert_eq!(trim_newline("pw\r\n"), "pw");
        assert_eq!(trim_newline("pw\n\n"), "pw\n");
    }
}
