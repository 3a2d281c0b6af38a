//! The CLI reference (`docs/cli.md`), generated from the clap definitions.

use std::fmt::Write as _;

use clap::CommandFactory;

use super::Cli;

/// The reference as Markdown.
pub fn markdown() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = String::new();
    let _ = writeln!(out, "# CLI reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the clap definitions in src/cli/args.rs; a test fails when it is \
         stale. Regenerate with: STRATA_UPDATE_DOCS=1 cargo test --lib cli::reference -->\n"
    );
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        let _ = writeln!(out, "{about}\n");
    }
    let _ = writeln!(
        out,
        "## Exit codes\n\n1 is an error; 2 only ever means \"needs attention\", so CI and \
         scripts can tell them apart. Every command that fails prints why on stderr.\n\n\
         | code | kind | when |\n|---|---|---|"
    );
    for (code, kind, when) in crate::error::EXIT_CODES {
        let _ = writeln!(out, "| {code} | {kind} | {when} |");
    }
    out.push('\n');
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let _ = writeln!(out, "## `strata {}`\n", sub.get_name());
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            let _ = writeln!(out, "{about}\n");
        }
        let _ = writeln!(out, "| option | description |\n|---|---|");
        for arg in sub.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let mut name = match arg.get_long() {
                Some(long) => format!("`--{long}`"),
                None => format!("`{}`", id.to_uppercase()),
            };
            if let Some(short) = arg.get_short() {
                name = format!("`-{short}`, {name}");
            }
            let mut help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string().replace('\n', " "))
                .unwrap_or_default();
            if !help.is_empty() && !help.ends_with('.') {
                help.push('.');
            }
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| match v.get_help() {
                    Some(h) => format!("`{}` ({})", v.get_name(), h.to_string().to_lowercase()),
                    None => format!("`{}`", v.get_name()),
                })
                .collect();
            if !values.is_empty() {
                let _ = write!(help, " One of {}.", values.join(", "));
            }
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if !defaults.is_empty() && arg.get_action().takes_values() {
                let _ = write!(help, " Default: `{}`.", defaults.join(","));
            }
            if let Some(env) = arg.get_env() {
                let _ = write!(help, " Environment: `{}`.", env.to_string_lossy());
            }
            let _ = writeln!(out, "| {name} | {} |", help.trim());
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    /// docs/cli.md is what the clap definitions generate.
    #[test]
    fn cli_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md");
        let generated = super::markdown();
        if std::env::var_os("STRATA_UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/cli.md is stale: run STRATA_UPDATE_DOCS=1 cargo test --lib cli::reference"
        );
    }
}
