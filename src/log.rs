//! Logging: a level and a sink per client. A callback rather than the `log` crate's facade:
//! two clients in one app can log at different levels to different places, the JavaScript
//! surface hands each client its own `logger` object, and nothing global is set up. Forwarding
//! to `log` or `tracing` is one line (see [`Logger::new`]).
//!
//! Lines are built only when their level is enabled, so a disabled level costs a comparison;
//! every line has the API key redacted before it reaches the sink.

use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::error::{redact, Error};

/// How much a client logs; each level includes the ones before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Only errors of the client itself (none today; reserved).
    Error,
    /// What you should fix: a server asking for a wait longer than the client accepts.
    #[default]
    Warn,
    /// Retries with their reason and wait, batch pauses, timeouts, aborts.
    Info,
    /// Every attempt (method, path, status, duration, request id) and, capped and with the key
    /// redacted, the bodies of failed responses.
    Debug,
}

impl LogLevel {
    /// `off`, `error`, `warn`, `info` or `debug` (as `POWERPOST_LOG` and the JS `logLevel` take).
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.trim() {
            "off" => LogLevel::Off,
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            _ => return None,
        })
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }

    /// Reads a level named by the user (`what` names where it came from, for the message).
    pub(crate) fn from_user(value: &str, what: &str) -> Result<LogLevel, Error> {
        LogLevel::parse(value).ok_or_else(|| {
            Error::invalid_argument(format!(
                "{what} must be one of off, error, warn, info, debug; got {}.",
                crate::error::describe_str(value)
            ))
        })
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a client's log lines go.
///
/// ```
/// use powerpost_analytics::{ClientOptions, LogLevel, Logger};
///
/// let options = ClientOptions::new()
///     .log_level(LogLevel::Info)
///     .logger(Logger::new(|level, line| eprintln!("[{level}] {line}")));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct Logger(Rc<Sink>);

/// The function behind a [`Logger`].
type Sink = dyn Fn(LogLevel, &str);

impl Logger {
    /// A logger calling `f` with each line's level and text (`f` never sees the API key).
    pub fn new(f: impl Fn(LogLevel, &str) + 'static) -> Logger {
        Logger(Rc::new(f))
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Logger(..)")
    }
}

impl PartialEq for Logger {
    fn eq(&self, other: &Logger) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Logger {}

/// A client's level and sink, with the key to redact (never shown by `Debug`).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Log {
    pub(crate) level: LogLevel,
    /// `None`: the runtime's console (wasm) or standard error (native).
    pub(crate) logger: Option<Logger>,
    pub(crate) secret: Option<String>,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log").field("level", &self.level).field("logger", &self.logger).finish_non_exhaustive()
    }
}

#[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
impl Log {
    /// Whether lines of `level` are written.
    pub(crate) fn enabled(&self, level: LogLevel) -> bool {
        level != LogLevel::Off && level <= self.level
    }

    /// Writes the line `line()` builds, if `level` is enabled.
    pub(crate) fn write(&self, level: LogLevel, line: impl FnOnce() -> String) {
        if !self.enabled(level) {
            return;
        }
        let text = format!("powerpost-analytics: {}", redact(&line(), self.secret.as_deref()));
        match &self.logger {
            Some(Logger(f)) => f(level, &text),
            None => default_sink(level, &text),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn default_sink(level: LogLevel, line: &str) {
    let line = wasm_bindgen::JsValue::from_str(line);
    match level {
        LogLevel::Error => web_sys::console::error_1(&line),
        LogLevel::Warn => web_sys::console::warn_1(&line),
        LogLevel::Info => web_sys::console::info_1(&line),
        _ => web_sys::console::debug_1(&line),
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[cfg_attr(not(test), allow(dead_code))]
fn default_sink(level: LogLevel, line: &str) {
    eprintln!("[{level}] {line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn levels_filter_and_lines_are_redacted() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&seen);
        let log = Log {
            level: LogLevel::Info,
            logger: Some(Logger::new(move |l, s| sink.borrow_mut().push((l, s.to_owned())))),
            secret: Some("pp_live_sk_CANARY".into()),
        };
        let built = std::cell::Cell::new(0);
        log.write(LogLevel::Debug, || {
            built.set(built.get() + 1);
            "hidden".into()
        });
        assert_eq!(built.get(), 0, "a disabled line is never built");
        log.write(LogLevel::Info, || "retry with pp_live_sk_CANARY".into());
        log.write(LogLevel::Warn, || "slow".into());
        let seen = seen.borrow();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], (LogLevel::Info, "powerpost-analytics: retry with [redacted]".into()));
        assert_eq!(seen[1].0, LogLevel::Warn);
        assert!(!Log { level: LogLevel::Off, ..Log::default() }.enabled(LogLevel::Error));
        assert!(!Log::default().enabled(LogLevel::Info), "warn by default");
    }

    #[test]
    fn level_names() {
        for l in [LogLevel::Off, LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug] {
            assert_eq!(LogLevel::parse(l.as_str()), Some(l));
        }
        assert_eq!(LogLevel::parse("verbose"), None);
        assert!(LogLevel::from_user("verbose", "POWERPOST_LOG").unwrap_err().message().contains("POWERPOST_LOG must be one of"));
    }
}
