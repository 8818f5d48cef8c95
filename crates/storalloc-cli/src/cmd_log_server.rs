//! `storalloc log-server`: one view of the logs of every component. Each
//! component (`storalloc --log-server HOST:PORT …`, or `log_forward: true`
//! in its config) sends JSON lines over TCP; this prints them on stdout as
//! they arrive, one line each, tagged with the component, host and pid.

use anyhow::Context;
use clap::Args;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

#[derive(Args, Debug)]
pub struct LogServerArgs {
    /// The config file: listens on `log_server_addr:log_server_port`.
    #[arg(short = 'c', long = "config", value_name = "CONFIG.yml")]
    pub config: Option<PathBuf>,
    /// Listen on HOST:PORT instead (port 0 picks one; the address is printed).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Print the received JSON lines as they are, instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: LogServerArgs) -> anyhow::Result<ExitCode> {
    let listen = match (&a.listen, &a.config) {
        (Some(l), _) => l.clone(),
        (None, Some(path)) => {
            let loaded = storalloc_config::load_config(path)?;
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            loaded.config.log_server_endpoint()
        }
        (None, None) => anyhow::bail!("give the config (-c CONFIG.yml) or --listen HOST:PORT"),
    };
    let listener =
        TcpListener::bind(&listen).with_context(|| format!("cannot listen on {listen}"))?;
    let out = Arc::new(Mutex::new(std::io::stdout()));
    {
        let mut o = out.lock().expect("stdout lock");
        writeln!(
            o,
            "storalloc log-server: listening on {}",
            listener.local_addr()?
        )?;
        o.flush()?;
    }
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let out = out.clone();
        let json = a.json;
        std::thread::spawn(move || serve(conn, out, json));
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(conn: TcpStream, out: Arc<Mutex<std::io::Stdout>>, json: bool) {
    let peer = conn
        .peer_addr()
        .map(|p| p.to_string())
        .unwrap_or_else(|_| "?".into());
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        if line.trim().is_empty() {
            continue;
        }
        let text = if json {
            line
        } else {
            format_line(&line, &peer)
        };
        let mut o = out.lock().expect("stdout lock");
        // A closed stdout (e.g. `| head`) ends the server.
        if writeln!(o, "{text}").and_then(|_| o.flush()).is_err() {
            std::process::exit(0);
        }
    }
}

/// `TS COMPONENT[host:pid] LEVEL target: message k=v …`; a line that is not
/// a log record is shown as it came, tagged with its peer.
pub fn format_line(line: &str, peer: &str) -> String {
    let v: Value = match serde_json::from_str(line) {
        Ok(v @ Value::Object(_)) => v,
        _ => return format!("? [{peer}] {line}"),
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let mut text = format!(
        "{} {}[{}:{}] {:>5} {}: {}",
        s("ts"),
        if s("component").is_empty() {
            "?"
        } else {
            s("component")
        },
        s("host"),
        v.get("pid").and_then(Value::as_u64).unwrap_or(0),
        s("level"),
        s("target"),
        s("message"),
    );
    if let Some(fields) = v.get("fields").and_then(Value::as_object) {
        for (k, val) in fields {
            match val {
                Value::String(x) => text.push_str(&format!(" {k}={x}")),
                other => text.push_str(&format!(" {k}={other}")),
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::format_line;
    use proptest::prelude::*;

    #[test]
    fn a_record_shows_component_host_pid_level_target_message_and_fields() {
        let line = r#"{"ts":"2026-11-21T18:00:00.000Z","component":"server","host":"n1","pid":42,"level":"INFO","target":"storalloc_agent::agent","message":"registered","fields":{"node":3,"host":"n1"}}"#;
        assert_eq!(
            format_line(line, "10.0.0.1:5000"),
            "2026-11-21T18:00:00.000Z server[n1:42]  INFO storalloc_agent::agent: registered host=n1 node=3"
        );
    }

    #[test]
    fn anything_else_is_shown_as_it_came_with_its_peer() {
        assert_eq!(format_line("hello", "p:1"), "? [p:1] hello");
        assert_eq!(format_line("[1,2]", "p:1"), "? [p:1] [1,2]");
        assert_eq!(format_line(r#"{"message":"m"}"#, "p:1"), " ?[:0]       : m");
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_lines(s in ".{0,200}") {
            let _ = format_line(&s, "p");
        }

        #[test]
        fn never_panics_on_records_with_odd_values(
            comp in prop_oneof![Just("1".to_string()), Just("null".to_string()), Just("\"x\"".to_string()), Just("[]".to_string())],
            pid in prop_oneof![Just("-1".to_string()), Just("1e99".to_string()), Just("\"7\"".to_string()), Just("{}".to_string())],
            fields in prop_oneof![Just("null".to_string()), Just("{\"a\":[1,{}]}".to_string()), Just("3".to_string())],
        ) {
            let line = format!(r#"{{"component":{comp},"pid":{pid},"fields":{fields},"level":{comp}}}"#);
            let out = format_line(&line, "p");
            prop_assert!(!out.is_empty());
        }
    }
}
