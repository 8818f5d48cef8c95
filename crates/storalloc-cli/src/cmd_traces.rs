use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TracesCmd {
    /// Summarise a Darshan log, like `darshan-parser --total`.
    Inspect(crate::cmd_traces_inspect::InspectArgs),
    /// Turn Darshan logs (or a Theta CSV pair) into the original IOJobs.yml format.
    Extract(crate::cmd_traces_extract::ExtractArgs),
    /// Write a larger synthetic trace by resampling a real one.
    Synth(crate::cmd_traces_synth::SynthArgs),
}

pub fn run(cmd: TracesCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        TracesCmd::Inspect(a) => crate::cmd_traces_inspect::run(a),
        TracesCmd::Extract(a) => crate::cmd_traces_extract::run(a),
        TracesCmd::Synth(a) => crate::cmd_traces_synth::run(a),
    }
}
