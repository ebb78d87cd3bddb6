//! `--vars`: template values from a directory (one file per value, like a mounted
//! Kubernetes Secret: dot entries such as `..data` skipped, symlinks followed, one
//! trailing newline trimmed) or from a `.properties` file.

use std::{collections::BTreeMap, fs, path::Path};

use super::ManifestError;

/// Loads the values at `path` (a directory or a properties file).
pub fn load_vars(path: &Path) -> Result<BTreeMap<String, String>, ManifestError> {
    let fail = |reason: String| ManifestError::Vars {
        path: path.display().to_string(),
        reason,
    };
    let meta = fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    match meta.is_dir() {
        true => directory(path).map_err(fail),
        false => fs::read_to_string(path)
            .map_err(|e| fail(e.to_string()))
            .map(|text| properties(&text)),
    }
}

fn directory(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // `metadata` follows symlinks: Secret volumes link `key -> ..data/key`.
        if name.starts_with('.') || !fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let text = fs::read_to_string(entry.path())
            .map_err(|e| format!("{name}: {e} (values must be UTF-8 text)"))?;
        values.insert(name, trim_newline(&text).to_string());
    }
    Ok(values)
}

/// Removes one trailing `\n` or `\r\n` (editors and `echo` add one).
fn trim_newline(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

/// Java-style properties: `key=value` or `key: value`, `#`/`!` comments, blank lines,
/// and a trailing `\` continuing the value on the next line.
pub fn properties(text: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut line = line.trim_start().to_string();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        while line.ends_with('\\') && !line.ends_with("\\\\") {
            line.pop();
            line.push_str(lines.next().unwrap_or_default().trim_start());
        }
        let cut = line.find(['=', ':']).unwrap_or(line.len());
        let key = line[..cut].trim().to_string();
        let value = line.get(cut + 1..).unwrap_or_default().trim_start();
        values.insert(key, value.to_string());
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_parsed_like_java() {
        let values = properties("# c\n! c\n\na=1\nb: two words\nc = x=y\nlong=ab\\\n   cd\n");
        assert_eq!(values["a"], "1");
        assert_eq!(values["b"], "two words");
        assert_eq!(values["c"], "x=y");
        assert_eq!(values["long"], "abcd");
        assert_eq!(values.len(), 4);
    }

    #[test]
    fn one_trailing_newline_is_trimmed() {
        assert_eq!(trim_newline("pw\n"), "pw");
        assert_eq!(trim_newline("pw\r\n"), "pw");
        assert_eq!(trim_newline("pw\n\n"), "pw\n");
    }
}
