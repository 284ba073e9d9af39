//! The functions' logs: one JSON object per line (what CloudWatch Logs
//! Insights reads), carrying the fields of every span the line was logged
//! in, flattened beside the event's own.
//!
//! `lambda_runtime` runs each invocation in a span with the Lambda
//! request id (`requestId`); the handlers open spans with the `instance`
//! and, once known, the `ticket` number they work on (the dispatcher does
//! too, around each outbox item). So every line logged while handling an
//! invocation, in the handler or deep in the services, can be found by
//! request, help desk and ticket:
//!
//! ```text
//! {"timestamp":"…","level":"INFO","target":"taquilla_lambda::mail_feedback",
//!  "requestId":"8f5e…","instance":"demo","ticket":"100042","message":"mail feedback handled",…}
//! ```
//!
//! tracing-subscriber's own JSON format nests span fields in a `spans`
//! list; [`FlatJson`] puts them at the top, inner spans over outer ones,
//! the event's fields over both.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// The log filter from `TAQUILLA_LOG` (e.g. `info,taquilla_mail=debug`),
/// `info` when unset or unreadable.
#[must_use]
pub fn filter_from_env() -> EnvFilter {
    EnvFilter::try_from_env(crate::config::LOG).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The functions' subscriber, writing to `writer`.
pub fn subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
        .finish()
}

/// Logs to standard output (Lambda sends it to CloudWatch). A second
/// initialisation (tests) keeps the first.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(filter_from_env(), std::io::stdout));
}

/// One JSON object per event: time, level, target, the fields of the
/// spans it is in (from the root), then its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), timestamp.into());
        let meta = event.metadata();
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                // With `JsonFields`, a span's recorded fields are a JSON
                // object (empty text when it has none).
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str(&fields.fields)
                {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Records an event's fields into a JSON object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().to_owned(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into a shared buffer: what the subscriber printed.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<Value> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        }
    }

    #[test]
    fn a_line_carries_the_request_instance_and_ticket_of_its_spans() {
        let out = Captured::default();
        let subscriber = subscriber(EnvFilter::new("info"), out.clone());
        tracing::subscriber::with_default(subscriber, || {
            // As lambda_runtime opens it around each invocation.
            let invocation = tracing::info_span!("Lambda runtime invoke", requestId = "8f5e-1");
            let _invocation = invocation.enter();
            tracing::info!("before any help desk");
            let work = tracing::info_span!(
                "notification",
                instance = "demo",
                ticket = tracing::field::Empty
            );
            let _work = work.enter();
            tracing::info!(kind = "permanent", count = 2_u64, "found the instance");
            work.record("ticket", "100042");
            tracing::warn!(ticket_note = true, "handled");
            tracing::debug!("filtered out");
        });
        let lines = out.lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0]["requestId"], "8f5e-1");
        assert_eq!(lines[0]["message"], "before any help desk");
        assert!(lines[0].get("instance").is_none());
        assert_eq!(lines[1]["requestId"], "8f5e-1");
        assert_eq!(lines[1]["instance"], "demo");
        assert_eq!(lines[1]["kind"], "permanent");
        assert_eq!(lines[1]["count"], 2);
        assert!(lines[1].get("ticket").is_none());
        assert_eq!(lines[2]["ticket"], "100042");
        assert_eq!(lines[2]["instance"], "demo");
        assert_eq!(lines[2]["level"], "WARN");
        assert_eq!(lines[2]["ticket_note"], true);
        assert!(lines[2]["timestamp"].as_str().unwrap().contains('T'));
        assert_eq!(lines[2]["target"], module_path!());
    }

    #[test]
    fn inner_spans_and_the_event_win_over_outer_ones() {
        let out = Captured::default();
        tracing::subscriber::with_default(subscriber(EnvFilter::new("info"), out.clone()), || {
            let outer = tracing::info_span!("outer", instance = "demo", ticket = "1");
            let _outer = outer.enter();
            let inner = tracing::info_span!("inner", ticket = "2");
            let _inner = inner.enter();
            tracing::info!(instance = "other", "moved");
        });
        let lines = out.lines();
        assert_eq!(lines[0]["ticket"], "2");
        assert_eq!(lines[0]["instance"], "other");
    }
}
