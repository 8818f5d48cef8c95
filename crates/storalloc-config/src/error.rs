/// Why a file could not be loaded. The message names the file, the path of
/// the offending field inside it and the value, e.g.
/// `ault14.yml: hosts[0].disks[3].capacity: expected a positive number of GB, got -5`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is part of the message and not a `source()`, so that an
    // error chain (anyhow's `{:#}`) prints it once.
    #[error("{file}: cannot read: {error}")]
    Io { file: String, error: std::io::Error },
    /// Not YAML at all; `message` carries the line and column.
    #[error("{file}: {message}")]
    Yaml { file: String, message: String },
    /// Valid YAML, but a field is missing or wrong. An empty `path` means
    /// the top level of the file.
    #[error("{file}: {}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Invalid {
        file: String,
        path: String,
        message: String,
    },
}

impl ConfigError {
    /// The file the error is about, as given by the caller.
    pub fn file(&self) -> &str {
        match self {
            ConfigError::Io { file, .. }
            | ConfigError::Yaml { file, .. }
            | ConfigError::Invalid { file, .. } => file,
        }
    }
}

/// A bad field, before the file name is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub fn in_file(self, file: &str) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_string(),
            path: self.path,
            message: self.message,
        }
    }
}

/// Read a file as UTF-8 text; the error names the file.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, ConfigError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| ConfigError::Io {
        file: file.clone(),
        error,
    })?;
    String::from_utf8(bytes).map_err(|e| ConfigError::Yaml {
        file,
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}
