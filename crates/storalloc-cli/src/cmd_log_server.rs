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
